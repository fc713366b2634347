"""Text helpers shared by the scripted agents: sentences with offsets, cue lexicons, seeds."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, int, str]]:
    """Sentences of `text` as (start, end, sentence) with exact character offsets."""
    spans: list[tuple[int, int, str]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()
        # keep closing quotes with the sentence they close
        while end < len(text) and text[end] in "\"'”’)":
            end += 1
        if text[start:end].strip():
            spans.append(_strip_span(text, start, end))
        start = match.end()
    if text[start:].strip():
        spans.append(_strip_span(text, start, len(text)))
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int, str]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end, text[start:end]


def _cue_regex(cue: str) -> str:
    escaped = re.escape(cue.strip())
    left = r"\b" if cue[:1].isalnum() else ""
    right = r"\b" if cue[-1:].isalnum() else ""
    return f"{left}{escaped}{right}"


@dataclass(frozen=True)
class CueHit:
    label: str
    text: str
    start: int
    end: int

    @property
    def words(self) -> int:
        return max(1, len(self.text.split()))


class Lexicon:
    """Label -> cue phrases, matched case-insensitively on word boundaries, longest first."""

    def __init__(self, cues: Mapping[str, Iterable[str]]):
        pairs = sorted(
            (
                (c.lower().strip(), label)
                for label, items in cues.items()
                for c in items
                if c.strip()
            ),
            key=lambda p: (-len(p[0]), p[0]),
        )
        self._owner: dict[str, list[str]] = {}
        for cue, label in pairs:
            self._owner.setdefault(cue, [])
            if label not in self._owner[cue]:
                self._owner[cue].append(label)
        alternation = "|".join(_cue_regex(c) for c in self._owner)
        self._regex = re.compile(alternation, re.IGNORECASE) if alternation else None

    def find(self, text: str) -> list[CueHit]:
        if self._regex is None:
            return []
        hits = []
        for m in self._regex.finditer(text):
            for label in self._owner[m.group(0).lower()]:
                hits.append(CueHit(label, m.group(0), m.start(), m.end()))
        return hits


_NEGATION = re.compile(
    r"\b(not|no|never|don't|dont|isn't|aren't|wasn't|without|hardly|less)\W+(\w+\W+){0,2}$",
    re.IGNORECASE,
)


def negated(text: str, start: int) -> bool:
    """Whether a cue starting at `start` follows a negation within three words."""
    return bool(_NEGATION.search(text[max(0, start - 40) : start]))


def derive_seed(*parts: object) -> int:
    """A stable 64-bit seed from any parts: same inputs, same randomness, across processes."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


def fill(template: str, slots: Mapping[str, str]) -> str:
    out = template
    for key, value in slots.items():
        out = out.replace("{" + key + "}", value)
    return out


def sentence_case(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper() and not text.startswith("I "):
        return text[0].lower() + text[1:]
    return text


def ensure_period(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in '.!?"”' else text + "."


def word_count(text: str) -> int:
    return len(re.findall(r"\b[\w'’-]+\b", text))


def as_phrase(name: str) -> str:
    """A display name used mid-sentence: 'Debt management' -> 'debt management', but a proper
    noun where every word is capitalized ('Social Security') keeps its case."""
    words = name.split()
    if len(words) > 1 and all(w[:1].isupper() for w in words):
        return name
    return name[:1].lower() + name[1:]
