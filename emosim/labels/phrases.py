"""Phrases as word sequences: what analytics count and what a rule's `phrase` matches.

Text is read as lower-case words with punctuation, sentence breaks and spacing dropped
("I get. I didn't" and "i get, I didn't" are the same four words), so a phrase learned from
one turn matches every turn that has its words in order, however they are punctuated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

Tokens = tuple[str, ...]

_WORD = re.compile(r"\w+(?:'\w+)*")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# Function words: a phrase made only of these says nothing a rule could rely on. Kept short
# on purpose (no 'keep', 'bill', 'interest', 'nothing', ... which mean something here).
FUNCTION_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can can't could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he
    he's her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it
    it's its itself just let's me more most my myself no nor not of off on once only or other
    our ours ourselves out over own same she she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they're this those
    through to too under until up very was wasn't we we're we've were weren't what what's
    when where which while who whom why will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves""".split()
)


def tokens(text: str) -> Tokens:
    """The words of a text, lower-cased, curly apostrophes straightened, accents kept."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return tuple(_WORD.findall(folded))


def phrase_text(words: Sequence[str]) -> str:
    return " ".join(words)


def find(haystack: Sequence[str], needle: Sequence[str]) -> int:
    """Index of the first occurrence of `needle` in `haystack` as a run of words, or -1."""
    n = len(needle)
    if n == 0:
        return -1
    first = needle[0]
    for i in range(len(haystack) - n + 1):
        if haystack[i] == first and tuple(haystack[i : i + n]) == tuple(needle):
            return i
    return -1


def contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    return find(haystack, needle) >= 0


def ngrams(words: Sequence[str], longest: int) -> set[Tokens]:
    """Every run of 1..`longest` words."""
    out: set[Tokens] = set()
    for size in range(1, longest + 1):
        for i in range(len(words) - size + 1):
            out.add(tuple(words[i : i + size]))
    return out


def informative(words: Sequence[str]) -> bool:
    """At least one word that is neither a function word nor a number."""
    return any(w not in FUNCTION_WORDS and not w.isdigit() for w in words)


def extend(seed: Tokens, texts: Iterable[Tokens], longest: int = 12) -> Tokens:
    """The longest run of words around `seed` that every text has wherever it has `seed`.

    Adding a word only when all the texts share it keeps the set of texts the phrase occurs
    in (and so its counts) unchanged: the phrase gets more specific, never broader.
    """
    pool = [t for t in texts if contains(t, seed)]
    if not pool:
        return seed
    phrase = seed
    while len(phrase) < longest:
        grown = False
        first = pool[0]
        at = find(first, phrase)
        for candidate in (
            first[at - 1 : at + len(phrase)] if at > 0 else None,
            first[at : at + len(phrase) + 1] if at + len(phrase) < len(first) else None,
        ):
            if (
                candidate
                and len(candidate) == len(phrase) + 1
                and all(contains(t, candidate) for t in pool)
            ):
                phrase = tuple(candidate)
                grown = True
                break
        if not grown:
            return phrase
    return phrase
