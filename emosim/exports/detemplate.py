"""De-templating at export (`--cap-pattern N`): no sentence pattern in more than N conversations.

A sentence's pattern is the sentence with names and numbers masked (`emosim.diversity`), so
"This is something we can figure out together, Ruth." and "..., Omar." are one pattern. A
pattern found in more conversations than the cap is a template; the export keeps it in at most
N conversations and drops the others whole (cutting a sentence out would leave replies the
client turn after them no longer fits).

Which conversations are dropped is decided greedily, most diverse kept first: conversations
are ranked by how many over-cap patterns they use (then by how widespread their patterns are on
average, then by id), and each is kept if none of its patterns has reached the cap yet. A
conversation without an over-cap pattern is always kept. Patterns of fewer than
`CAP_MIN_WORDS` words ("Okay.", "Thank you.") are not capped: short replies repeat in any
corpus. The result is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import Field

from ..diversity import conversation_patterns
from ..schemas import ConversationRecord
from ..schemas.common import StrictModel

CAP_MIN_WORDS = 4
"""Patterns shorter than this many words are never capped."""
TOP_CAPPED = 10


class CappedPattern(StrictModel):
    speaker: str = Field(description="advisor or client.")
    pattern: str = Field(description="Masked sentence pattern.")
    conversations_before: int = Field(description="Conversations using it before the cap.")
    conversations_after: int = Field(description="Conversations using it in the export.")


class DeTemplating(StrictModel):
    cap: int = Field(ge=1, description="Most conversations one sentence pattern may appear in.")
    min_words: int = Field(description="Shorter patterns are not capped.")
    records_before: int = Field(ge=0, description="Records that passed the filters.")
    records_dropped: int = Field(ge=0, description="Records dropped to respect the cap.")
    patterns_over_cap: int = Field(
        ge=0, description="Patterns found in more conversations than the cap before dropping."
    )
    top_patterns: list[CappedPattern] = Field(
        default_factory=list, description="The most widespread capped patterns."
    )
    dropped: list[str] = Field(default_factory=list, description="Ids of the dropped records.")


def _names(record: ConversationRecord) -> set[str]:
    scenario = record.scenario
    parts = {"elena", *scenario.client_persona_id.split("_")}
    if scenario.client_persona is not None:
        parts.update(scenario.client_persona.name.lower().split())
    return parts


def record_patterns(
    record: ConversationRecord, min_words: int = CAP_MIN_WORDS
) -> set[tuple[str, str]]:
    """(speaker, pattern) of every sentence of at least `min_words` words in the record."""
    texts = [t.text for t in record.turns]
    found: set[tuple[str, str]] = set()
    for turn, patterns in zip(
        record.turns, conversation_patterns(texts, _names(record)), strict=True
    ):
        for pattern in patterns:
            if len(pattern.split()) >= min_words:
                found.add((turn.speaker, pattern))
    return found


def cap_patterns(
    records: Sequence[ConversationRecord], cap: int, min_words: int = CAP_MIN_WORDS
) -> tuple[list[ConversationRecord], DeTemplating]:
    """The records to export (input order kept) and what was dropped; see the module doc."""
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    patterns = {r.id: record_patterns(r, min_words) for r in records}
    spread: Counter[tuple[str, str]] = Counter(p for found in patterns.values() for p in found)
    over = {p for p, n in spread.items() if n > cap}

    def rank(record: ConversationRecord) -> tuple[int, float, str]:
        found = patterns[record.id]
        touched = len(found & over)
        mean = sum(spread[p] for p in found) / len(found) if found else 0.0
        return touched, mean, record.id

    used: Counter[tuple[str, str]] = Counter()
    dropped: set[str] = set()
    for record in sorted(records, key=rank):
        limited = patterns[record.id] & over
        if any(used[p] >= cap for p in limited):
            dropped.add(record.id)
            continue
        used.update(limited)
    top = sorted(over, key=lambda p: (-spread[p], p))[:TOP_CAPPED]
    report = DeTemplating(
        cap=cap,
        min_words=min_words,
        records_before=len(records),
        records_dropped=len(dropped),
        patterns_over_cap=len(over),
        top_patterns=[
            CappedPattern(
                speaker=speaker,
                pattern=pattern,
                conversations_before=spread[speaker, pattern],
                conversations_after=used[speaker, pattern],
            )
            for speaker, pattern in top
        ],
        dropped=sorted(dropped),
    )
    return [r for r in records if r.id not in dropped], report
