"""Preference negatives for a trainable advisor turn, always against the reply that was sent.

Critic-rejected drafts are the negatives. With `--anti-pattern-pairs`, a turn that has no
rejected draft gets one negative taken from the taxonomy's anti-pattern examples: an
anti-pattern Elena's persona says to avoid for the client's emotion family (any anti-pattern
when the family is unknown), and one of its examples, both picked by a stable hash of the
record id and turn index so the choice is the same in every export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from ..catalog import Catalog
from ..schemas import AdvisorTurn
from .dialogue import Dialogue, Step


@dataclass(frozen=True)
class Negative:
    text: str
    strategies: list[str]
    source: Literal["critic", "anti_pattern"]
    tag: str


def _pick(key: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % count


def anti_pattern_negative(dialogue: Dialogue, step: Step, catalog: Catalog) -> Negative:
    emotion = dialogue.emotion_before(step)
    avoid: list[str] = []
    if emotion is not None:
        for adaptation in catalog.advisor.adaptations:
            if adaptation.family == emotion.family:
                avoid = [a for a in adaptation.avoid if a in catalog.anti_patterns]
    candidates = avoid or sorted(catalog.anti_patterns)
    key = f"{dialogue.record.id}:{step.turn.index}"
    pattern = catalog.anti_patterns[candidates[_pick(key + ":pattern", len(candidates))]]
    example = pattern.examples[_pick(key + ":example", len(pattern.examples))]
    return Negative(example, [pattern.id], "anti_pattern", pattern.id)


def negatives(
    dialogue: Dialogue, step: Step, catalog: Catalog, anti_pattern_pairs: bool
) -> list[Negative]:
    """Negatives for one trainable step, in draft order; none equal the sent reply."""
    turn = step.turn
    assert isinstance(turn, AdvisorTurn)
    found: list[Negative] = []
    seen = {turn.text.strip()}
    for draft in sorted(turn.rejected_drafts, key=lambda d: d.attempt):
        if draft.text.strip() in seen:
            continue
        seen.add(draft.text.strip())
        strategies = draft.strategies or ([draft.anti_pattern] if draft.anti_pattern else [])
        found.append(Negative(draft.text, strategies, "critic", f"attempt {draft.attempt}"))
    if not found and anti_pattern_pairs:
        found.append(anti_pattern_negative(dialogue, step, catalog))
    return found
