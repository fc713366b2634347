r"""Cue phrases compiled into one regex: `Lexicon.find`'s hits in one pass, no tokenizing.

`Lexicon.find` tokenizes a text before it looks up cues; the observers read every client
turn, every reply and each of its sentences, mostly text not tokenized before. `Cues` finds
the same hits with one regex pass over the lower-cased text: the cue phrases compiled into a
trie whose assertions hold exactly where `text.tokens` would start or end a token (a word is
`\w+('\w+)*`, any other character but whitespace is a token by itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .text import Lexicon, tokens

_WORD_START = r"(?<!\w)(?<!\w')"  # a cue's first word: not inside a word or after its "'"
_WORD_END = r"(?!\w)(?!'\w)"  # a cue's last word: it does not go on, not even past a "'"
_APOSTROPHE = r"(?!(?<=\w)'\w)'"  # an apostrophe on its own, not the one inside "don't"
_SPACE = r"\s+"  # between two words (without it they would be one)
_GAP = r"\s*"  # next to a punctuation mark, which is a token even when it touches a word
_WORDLIKE = re.compile(r"\w")
_KEY = ""  # trie slot for the cue that ends at a node (no unit is empty)


def lower(text: str) -> str | None:
    """`text` lower-cased with ’ read as ', if that keeps every character where it was and of
    the same class (plain ASCII); otherwise None and the caller asks `Lexicon.find`."""
    low = text.replace("’", "'").lower()
    return low if low.isascii() else None


def _units(key: tuple[str, ...]) -> list[str]:
    """Regex pieces of one cue: a trie over them shares the prefixes cues have in common.

    Words are fenced only at the cue's two ends: inside it, what follows a word (whitespace,
    a mark, a guarded apostrophe) already ends it, and what precedes one already starts it.
    """
    units: list[str] = []
    word = False
    for index, token in enumerate(key):
        follows_word, word = word, bool(_WORDLIKE.match(token))
        if index == 0:
            units += [_WORD_START] if word else []
        else:
            units.append(_SPACE if word and follows_word else _GAP)
        if token == "'":
            units.append(_APOSTROPHE)
        else:
            units += map(re.escape, token)
    if word:
        units.append(_WORD_END)
    return units


def _trie_pattern(keys: Iterable[tuple[str, ...]]) -> tuple[str, list[tuple[str, ...]]]:
    """One regex for all cues and the cue behind each of its groups.

    At every node the longer continuations come first and the end of a cue last (the end of
    its last word, then an empty group), so at any position the regex takes the cue with the
    most tokens, as `Lexicon.find` does; `match.lastindex` then names the cue.
    """
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for unit in _units(key):
            node = node.setdefault(unit, {})
        node[_KEY] = key
    order: list[tuple[str, ...]] = []

    def emit(node: dict[str, Any]) -> str:
        units = sorted((u for u in node if u != _KEY), key=lambda u: u == _WORD_END)
        alternatives = [unit + emit(node[unit]) for unit in units]
        if _KEY in node:
            order.append(node[_KEY])
            alternatives.append("()")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return emit(root), order


Hit = tuple[str, int, int]  # label, start, end
# Tokens a sentence can end with (`text.split_sentences`): its end mark and closing quotes.
_SENTENCE_TAIL = frozenset(".!?\"')”")


class Cues:
    """Label -> cue phrases; finds exactly the hits of `text.Lexicon.find`, as
    (label, start, end), in the same order."""

    def __init__(self, cues: Mapping[str, Iterable[str]]):
        self.lexicon = Lexicon(cues)
        owner: dict[tuple[str, ...], list[str]] = {}
        for label, items in cues.items():
            for cue in items:
                key = tuple(t for t, _, _ in tokens(cue))
                if key and label not in owner.setdefault(key, []):
                    owner[key].append(label)
        self.keys = list(owner)
        pattern, order = _trie_pattern(owner)
        self.regex = re.compile(pattern) if order else None
        self.owners: list[tuple[str, ...]] = [(), *(tuple(owner[key]) for key in order)]
        # Whether a hit can run from one sentence into the next: only through a token that
        # ends a sentence. If none can, a text's hits are its sentences' hits, each found in
        # the sentence alone (token boundaries are the same at the whitespace between them).
        self.can_cross_sentences = any(t in _SENTENCE_TAIL for key in owner for t in key[:-1])

    def find(self, text: str, low: str | None) -> list[Hit]:
        """Hits in `text`; `low` is `lower(text)`."""
        if low is None:
            return [(hit.label, hit.start, hit.end) for hit in self.lexicon.find(text)]
        if self.regex is None:
            return []
        owners = self.owners
        return [
            (label, m.start(), m.end())
            for m in self.regex.finditer(low)
            for label in owners[m.lastindex]  # type: ignore[index]
        ]


def may_overlap(first: list[tuple[str, ...]], second: list[tuple[str, ...]]) -> bool:
    """Whether a cue of `first` and one of `second` can share a token in some text: one
    holds the other, or one's last tokens are the other's first."""
    for a in first:
        for b in second:
            for shift in range(1 - len(b), len(a)):
                lo, hi = max(0, shift), min(len(a), shift + len(b))
                if a[lo:hi] == b[lo - shift : hi - shift]:
                    return True
    return False
