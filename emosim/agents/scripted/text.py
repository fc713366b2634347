"""Text helpers shared by the scripted agents: sentences with offsets, cue lexicons, seeds."""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, int, str]]:
    """Sentences of `text` as (start, end, sentence) with exact character offsets."""
    return list(_sentences(text))


@functools.lru_cache(maxsize=512)
def _sentences(text: str) -> tuple[tuple[int, int, str], ...]:
    """Cached: the advisor, the critic and the observers split the same draft."""
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
    return tuple(spans)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int, str]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end, text[start:end]


_INLINE_FLAGS = re.compile(r"\(\?[-a-zA-Z]")
_CODE_ESCAPE = re.compile(r"\\[xuUN0-9]")  # a character given by its code, or a group
_ESCAPE = re.compile(r"\\.", re.DOTALL)


def lower_twin(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """`regex` without IGNORECASE, to scan the lower-cased text of an ASCII text instead (at
    the same offsets, about twice as fast). It finds the same there when the pattern spells
    every letter in ASCII lower case (escapes such as \\W aside; uncased marks such as ’ are
    fine), names no character by its code and sets no flags inline; else None."""
    pattern = regex.pattern
    if (
        not regex.flags & re.IGNORECASE
        or _INLINE_FLAGS.search(pattern)
        or _CODE_ESCAPE.search(pattern)
        or any(c.upper() != c.lower() for c in _ESCAPE.sub("", pattern) if not "a" <= c <= "z")
    ):
        return None
    return re.compile(pattern, regex.flags & ~re.IGNORECASE)


_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")


@functools.lru_cache(maxsize=512)
def tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    """Lower-cased word and punctuation tokens with their character offsets.

    Cached: the critic and the observers tokenize the same draft several times.
    """
    if text.isascii():  # lower-casing an ASCII text keeps every offset and token boundary
        return tuple([(m[0], m.start(), m.end()) for m in _TOKEN.finditer(text.lower())])
    return tuple(
        (m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)
    )


@functools.lru_cache(maxsize=512)
def _token_words(text: str) -> tuple[str, ...]:
    """The words of `tokens(text)`, for cue lookups. Most texts have no cue, so the words are
    found alone (in C) and the offsets only when a cue is found."""
    if text.isascii():
        return tuple(_TOKEN.findall(text.lower()))
    return tuple([word for word, _, _ in tokens(text)])


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
        self._owners = owner
        # first token -> the lengths of the cues it starts, longest first
        lengths: dict[str, set[int]] = {}
        for key in owner:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {first: tuple(sorted(ns, reverse=True)) for first, ns in lengths.items()}

    def find(self, text: str) -> list[CueHit]:
        """Cue hits left to right; a hit's tokens are not looked at again."""
        words = _token_words(text)
        lengths, owner = self._lengths, self._owners
        hits: list[CueHit] = []
        free = 0  # the first token not inside an earlier hit
        for i in compress(range(len(words)), map(lengths.__contains__, words)):
            if i < free:
                continue
            for n in lengths[words[i]]:
                owners = owner.get(words[i : i + n]) if i + n <= len(words) else None
                if owners is not None:
                    toks = tokens(text)
                    start, end = toks[i][1], toks[i + n - 1][2]
                    hits.extend(CueHit(label, text[start:end], start, end) for label in owners)
                    free = i + n
                    break
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


_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")


def has_choices(template: str) -> bool:
    return "[" in template and _CHOICE.search(template) is not None


def expand(template: str, rng: random.Random) -> str:
    """Resolve inline alternatives: "[It makes sense|It's understandable] that ..." becomes one
    of them. An empty alternative ("[, {name}|]") lets a part be left out. Alternatives do not
    nest; a template without them comes back unchanged (and draws nothing from `rng`)."""
    if "[" not in template:
        return template
    return _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)


def variants(template: str) -> int:
    """How many distinct texts `expand` can make of a template (product of group sizes)."""
    count = 1
    for group in _CHOICE.findall(template):
        count *= len(set(group.split("|")))
    return count


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


_LEAD_IN_WORDS = frozenset({"but", "and", "so"})


def _leads_in(part: str) -> bool:
    return part.endswith((",", ";", ":")) or part.rpartition(" ")[2].lower() in _LEAD_IN_WORDS


def join_lead_ins(parts: Iterable[str], keep: frozenset[str] = frozenset()) -> str:
    """Join message parts into sentences. A part that ends in a comma, a colon or a
    conjunction ("Okay, don't judge me, but") leads into the next one, which then goes on in
    lower case."""
    out: list[str] = []
    leading = False
    for part in (p.strip() for p in parts):
        if not part:
            continue
        text = lower_first(part, keep) if leading else sentence_case(part)
        leading = _leads_in(part)
        out.append(text if leading else ensure_period(text))
    if leading:  # a lead-in with nothing after it still ends as a sentence
        out[-1] = ensure_period(out[-1])
    return " ".join(out)


def ensure_period(text: str) -> str:
    text = text.strip().rstrip(":;,").rstrip()
    return text if text[-1:] in '.!?"”' else text + "."


_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been being it "
    "its this that these those you your yours we our they their them he she his her i me my "
    "so such than then there here what which who whom when where how why if about into over "
    "under up down out off can could will would should may might must do does did have has had "
    "not no more most less least each every some any all one also just only very much many "
    "like usually often sometimes set before after between during within without until since "
    "through across against among around behind below beyond toward towards per via else "
    "anything something someone everything nothing way thing things".split()
)


_WORDS = re.compile(r"[a-z0-9][a-z0-9'’-]*")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str | None:
    word = word.replace("’", "'").removesuffix("'s")
    if word in _STOP or len(word) < 3:
        return None
    for _ in range(2):  # "earnings" -> "earning" -> "earn"
        for suffix in ("ing", "ed", "es", "s", "ly"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return word


@functools.lru_cache(maxsize=16384)
def stems(text: str) -> frozenset[str]:
    """Content words of `text`, crudely stemmed: to compare a sentence with a term and its
    gloss (the critic's jargon check, the advisor's pick of the term a question is about).
    Cached: the critic, the reading of a reply and the advisor stem the same texts."""
    return frozenset(s for s in map(_stem, _WORDS.findall(text.lower())) if s)


_WORD = re.compile(r"\b[\w'’-]+\b")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def as_phrase(name: str) -> str:
    """A display name used mid-sentence: 'Debt management' -> 'debt management', but a proper
    noun where every word is capitalized ('Social Security') keeps its case."""
    words = name.split()
    if len(words) > 1 and all(w[:1].isupper() for w in words):
        return name
    return name[:1].lower() + name[1:]


# key terms that are also everyday words: "will" the document ("a will", "Dad's will",
# "wills"), never the modal ("when the money will be needed", "I will")
_NOUN_SENSE = {
    "will": re.compile(
        r"\b(?:a|an|the|my|your|his|her|our|their|no|living|new|old|term|word|[a-z]+['’]s)"
        r"\s+wills?\b|\bwills\b|[\"“']wills?[\"”']|\bwills?\s+(?:mean|means|is|are)\b"
        r"|\b(?:what's|what\s+is|explain|define)\s+wills?\b",
        re.IGNORECASE,
    ),
}


def term_pattern(term: str) -> re.Pattern[str]:
    """Where a text names `term`: the whole term, not part of a longer word (a word boundary
    on each side where it begins or ends with a word character: "401(k)s" names 401(k),
    "approach" not APR), and a term that is also an everyday word only in its term's sense."""
    low = term.lower()
    if low in _NOUN_SENSE:
        return _NOUN_SENSE[low]
    start = r"\b" if re.match(r"\w", term) else ""
    end = r"\b" if re.match(r"\w", term[-1:]) else ""
    return re.compile(start + re.escape(term) + end, re.IGNORECASE)


def names_term(text: str, term: str) -> bool:
    return term_pattern(term).search(text) is not None


def in_term_sense(text: str, term: str, start: int) -> bool:
    """Whether the mention of `term` at `start` is the term (see term_pattern)."""
    sense = _NOUN_SENSE.get(term.lower())
    return sense is None or any(m.start() <= start < m.end() for m in sense.finditer(text))
