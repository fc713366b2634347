"""Text helpers shared by the scripted agents: sentences with offsets, cue lexicons, seeds."""

from __future__ import annotations

import functools
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


_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")


@functools.lru_cache(maxsize=512)
def tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    """Lower-cased word and punctuation tokens with their character offsets.

    Cached: the critic and the observers tokenize the same draft several times.
    """
    return tuple(
        (m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)
    )


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
    """Label -> cue phrases, matched case-insensitively on whole tokens, longest first.

    Matching walks the text's tokens and looks up token n-grams in a dict, so its cost grows
    with the text, not with the number of cues (a regex alternation of hundreds of cues is
    an order of magnitude slower).
    """

    def __init__(self, cues: Mapping[str, Iterable[str]]):
        owner: dict[tuple[str, ...], list[str]] = {}
        for label, items in cues.items():
            for cue in items:
                key = tuple(t for t, _, _ in tokens(cue))
                if not key:
                    continue
                owners = owner.setdefault(key, [])
                if label not in owners:
                    owners.append(label)
        # first token -> candidate cues, longest first
        self._by_first: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
        for key, owners in owner.items():
            self._by_first.setdefault(key[0], []).append((key, owners))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda kv: -len(kv[0]))

    def find(self, text: str) -> list[CueHit]:
        toks = tokens(text)
        words = [t for t, _, _ in toks]
        hits: list[CueHit] = []
        i = 0
        while i < len(toks):
            for key, owners in self._by_first.get(words[i], ()):
                n = len(key)
                if tuple(words[i : i + n]) == key:
                    start, end = toks[i][1], toks[i + n - 1][2]
                    hits.extend(CueHit(label, text[start:end], start, end) for label in owners)
                    i += n
                    break
            else:
                i += 1
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


_PRONOUN_I = re.compile(r"^I(?:['’](?:m|ve|ll|d))?\b")


def proper_nouns(texts: Iterable[str]) -> frozenset[str]:
    """Words written capitalized in the middle of a sentence: names, places, brands."""
    found = set()
    for text in texts:
        for _, _, sentence in split_sentences(text):
            for word in re.findall(r"[A-Za-z][\w'’-]*", sentence)[1:]:
                if word[0].isupper() and not _PRONOUN_I.match(word):
                    found.add(word)
    return frozenset(found)


def lower_first(text: str, keep: frozenset[str] = frozenset()) -> str:
    """Lower-case the first letter for use after a lead-in, but never 'I', an acronym or a
    word in `keep` (the speaker's proper nouns)."""
    match = re.match(r"[A-Za-z][\w'’-]*", text)
    if not match:
        return text
    word = re.split(r"['’]", match.group(0))[0]  # "Saul's" is the name "Saul"
    if _PRONOUN_I.match(text) or word in keep or (len(word) > 1 and word[:2].isupper()):
        return text
    return text[0].lower() + text[1:]


def ensure_period(text: str) -> str:
    text = text.strip().rstrip(":;,").rstrip()
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
