"""A cheap, exact test that lets the critic skip most of its regular expressions.

From a pattern's parse tree we derive groups of literal strings such that every match of the
pattern contains at least one string of each group ("guarantee" or "promise"; "by now").
If some group has no string in the text, the pattern cannot match and is not run. The test
never skips a pattern that could match: it only removes work, never findings.

Drafts are clean most of the time, so most of the ~70 persona patterns are skipped. The
test itself must cost far less than the scans it saves, so `LiteralIndex` evaluates the
conditions of all patterns together: the text's trigrams, intersected with an index of the
literals, find the few literals worth a substring check, and groups are bits of one integer.
Drafts are made of template sentences, so this is done once per distinct sentence-like piece.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre  # the parser's opcodes: a stable part of CPython's re package
import re._parser as sre_parser
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple


class Literal(NamedTuple):
    """A string every match contains: case-folded, or verbatim where the pattern is
    case-sensitive (`exact`), as in "(?-i:[A-Z]{4}X)"."""

    text: str
    exact: bool = False


Group = frozenset[Literal]
Condition = tuple[tuple[Group, ...], ...]

_MIN_LENGTH = 2  # one letter occurs in nearly every draft: only rarer single characters count
_MAX_STRINGS = 32  # alternatives a run of literals may take in
# Soundness: for every ASCII character c, each character that `re` matches to c under
# IGNORECASE case-folds to exactly fold(c), so a run of literals folds to a run, except the
# dotless ı and the dotted İ (which folds to "i" plus a combining dot): both mapped to "i"
# first. (Checked over all of Unicode; non-ASCII literals are simply not used.)
_FOLD_FIXES = str.maketrans({"ı": "i", "İ": "i"})
_TRANSPARENT = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}  # zero-width: no characters of a match


def fold(text: str) -> str:
    """The text as the literal test compares it: case-folded like IGNORECASE matching."""
    return text.translate(_FOLD_FIXES).casefold()


def _useful(literal: Literal) -> bool:
    """Long enough to be rare: two characters, one symbol ("%") or one capital letter
    matched exactly (as in "(?-i:[A-Z]{4}X)")."""
    if len(literal.text) >= _MIN_LENGTH:
        return True
    char = literal.text
    return (literal.exact and char.isupper()) or not (char.isalnum() or char.isspace())


def _strings(op: Any, arg: Any) -> set[str] | None:
    """The strings one parse item matches when they are few and all ASCII ("(bad|poor)"),
    else None."""
    if op is sre.LITERAL:
        return {chr(arg)} if arg < 128 else None
    if op is sre.IN:
        literal = all(o is sre.LITERAL and a < 128 for o, a in arg)
        return {chr(a) for _, a in arg} if literal else None
    if op is sre.SUBPATTERN and not arg[1] and not arg[2]:  # a group that keeps the flags
        return _sequence_strings(arg[3])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and arg[:2] == (0, 1):
        strings = _sequence_strings(arg[2])  # optional: "(only )?"
        return None if strings is None else {""} | strings
    if op is sre.BRANCH:
        out: set[str] = set()
        for branch in arg[1]:
            strings = _sequence_strings(branch)
            if strings is None:
                return None
            out |= strings
        return out if len(out) <= _MAX_STRINGS else None
    return None


def _sequence_strings(items: Any) -> set[str] | None:
    out = {""}
    for op, arg in items:
        strings = _strings(op, arg)
        if strings is None or len(out) * len(strings) > _MAX_STRINGS:
            return None
        out = {a + b for a in out for b in strings}
    return out


def _groups(items: Any, ignorecase: bool) -> list[Group]:
    """Groups of literals, each needed by every match of the sequence `items`.

    A run of literals makes a group of its strings, taking in small sets of alternatives:
    "(bad|poor) (call|move)" needs one of four strings, which is rarer than needing "call"
    or "move"."""
    groups: list[Group] = []
    run = {""}

    def close_run() -> None:
        nonlocal run
        # a string that contains another of the run adds nothing: keep the shortest
        kept = {a for a in run if not any(b != a and b in a for b in run)}
        if kept != {""}:
            groups.append(
                frozenset(Literal(fold(a)) if ignorecase else Literal(a, exact=True) for a in kept)
            )
        run = {""}

    for op, arg in items:
        strings = _strings(op, arg)
        if strings is not None and len(run) * len(strings) <= _MAX_STRINGS:
            run = {a + b for a in run for b in strings}
            continue
        close_run()
        if op in _TRANSPARENT:
            continue
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, pattern = arg
            inner = bool(add_flags & re.IGNORECASE) or (
                ignorecase and not del_flags & re.IGNORECASE
            )
            groups += _groups(pattern, inner)
        elif op is sre.ATOMIC_GROUP:
            groups += _groups(arg, ignorecase)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and arg[0] >= 1:
            groups += _groups(arg[2], ignorecase)
        elif op is sre.BRANCH:
            alternatives = [_best(_groups(branch, ignorecase)) for branch in arg[1]]
            if all(alternatives):
                groups.append(frozenset().union(*alternatives))  # type: ignore[arg-type]
    close_run()
    return [g for g in groups if all(map(_useful, g))]


def _selectivity(group: Group) -> tuple[int, int]:
    return (min(len(lit.text) for lit in group), -len(group))


def _best(groups: list[Group]) -> Group | None:
    return max(groups, key=_selectivity) if groups else None


def _alternatives(items: Any) -> list[Any]:
    """The top-level alternatives of a pattern (one when it has no top-level `|`)."""
    seq = [item for item in items if item[0] not in _TRANSPARENT]
    if len(seq) == 1 and seq[0][0] is sre.SUBPATTERN and not seq[0][1][1] and not seq[0][1][2]:
        return _alternatives(seq[0][1][3])
    if len(seq) == 1 and seq[0][0] is sre.BRANCH:
        return list(seq[0][1][1])
    return [items]


@functools.lru_cache(maxsize=1024)
def required_literals(regex: re.Pattern[str]) -> Condition:
    """For each top-level alternative of `regex`, the literal groups its matches need, most
    selective first. Empty when some alternative needs no literal (the regex always runs).

    Groups come from runs that take in small sets of alternatives ("(bad|poor) (call|move)",
    "if (only )?you"), and may be single symbols ("%") or single capitals matched
    case-sensitively."""
    parsed = sre_parser.parse(regex.pattern, regex.flags)
    ignorecase = bool(parsed.state.flags & re.IGNORECASE)
    condition = []
    for alternative in _alternatives(parsed):
        groups = sorted(set(_groups(alternative, ignorecase)), key=_selectivity, reverse=True)
        if not groups:
            return ()
        condition.append(tuple(groups))
    return tuple(condition)


# --- evaluating many patterns' conditions on one text -----------------------------------------


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class _Rarity:
    """How common strings are in sample texts like the ones to be tested (rarer strings make
    better first tests); with no sample, the literals themselves stand in for English."""

    def __init__(self, sample: Iterable[str], literals: Iterable[str]):
        self.corpus = "\n".join(sample)
        self.folded = fold(self.corpus)
        self.trigrams = Counter(self.folded[i : i + 3] for i in range(len(self.folded) - 2))
        self.shared = Counter(t for literal in literals for t in _trigrams(literal))
        self.counts: dict[Literal, int] = {}

    def of_group(self, group: Group) -> int:
        return sum(map(self._count, group))

    def _count(self, literal: Literal) -> int:
        if literal not in self.counts:
            self.counts[literal] = (self.corpus if literal.exact else self.folded).count(
                literal.text
            )
        return self.counts[literal]

    def key(self, literal: str) -> str:
        """The trigram a literal is looked up by: the rarest of its trigrams."""
        return min(sorted(_trigrams(literal)), key=lambda t: (self.trigrams[t], self.shared[t]))


Rest = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # groups: (folded, exact) strings


class LiteralIndex:
    """The literal conditions of several regexes, evaluated together on one text.

    `candidates(text)` lists the regexes that `required_literals` cannot rule out: exactly
    the test `could_match` makes, done once for all of them. One group of every alternative
    (the rarest in `sample`, texts like the ones to be tested) is looked up through an index
    of trigrams; only the few alternatives whose first group is present check the others.
    `sample` only makes the test faster or slower, never changes its answer.
    """

    def __init__(self, regexes: Sequence[re.Pattern[str]], sample: Iterable[str] = ()):
        conditions = [required_literals(rx) for rx in regexes]
        rarity = _Rarity(
            sample,
            {lit.text for c in conditions for groups in c for g in groups for lit in g},
        )
        # each alternative's groups, the rarest first (a stable sort: ties keep their order)
        conditions = [
            tuple(tuple(sorted(groups, key=rarity.of_group)) for groups in condition)
            for condition in conditions
        ]
        bits: dict[Group, int] = {}
        for condition in conditions:
            for groups in condition:
                bits.setdefault(groups[0], 1 << len(bits))
        self._always = frozenset(i for i, condition in enumerate(conditions) if not condition)
        # per regex: its alternatives as (bit of the first group, the other groups)
        self._alternatives: list[tuple[tuple[int, Rest], ...]] = [
            tuple((bits[groups[0]], tuple(map(_split, groups[1:]))) for groups in condition)
            for condition in conditions
        ]
        by_bit: dict[int, set[int]] = defaultdict(set)
        for i, alternatives in enumerate(self._alternatives):
            for bit, _ in alternatives:
                by_bit[bit].add(i)
        self._by_bit = dict(by_bit)
        masks: dict[Literal, int] = defaultdict(int)
        for group, bit in bits.items():
            for literal in group:
                masks[literal] |= bit
        self._exact = [(lit.text, mask) for lit, mask in masks.items() if lit.exact]
        self._short = [
            (lit.text, mask) for lit, mask in masks.items() if not lit.exact and len(lit.text) < 3
        ]
        # trigram -> the literals looked up by it, with their masks
        self._by_trigram: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
        for lit, mask in sorted(masks.items()):
            if not lit.exact and len(lit.text) > 2:
                self._by_trigram[tuple(rarity.key(lit.text))].append((lit.text, mask))
        self._keys = frozenset(self._by_trigram)
        # Drafts reuse template sentences, so a text is read in pieces, cut between the "."
        # and the " " of each ". ", and each distinct piece is read once. A literal without
        # ". " lies within one piece; the few with one are looked for in the whole text.
        self._across = [
            (lit, mask) for items in self._by_trigram.values() for lit, mask in items if ". " in lit
        ]
        self._in_piece = functools.lru_cache(maxsize=4096)(self._piece_present)

    def _present(self, text: str, folded: str) -> int:
        """Bit mask of the first groups that have a literal in the text."""
        found = 0
        for literal, mask in self._exact:
            if literal in text:
                found |= mask
        for literal, mask in self._short:
            if literal in folded:
                found |= mask
        parts = folded.split(". ")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            found |= self._in_piece(part, i > 0, i < last)
        for literal, mask in self._across:
            if literal in folded:
                found |= mask
        return found

    def _piece_present(self, part: str, after_cut: bool, before_cut: bool) -> int:
        """Bits of the trigram-indexed literals in one piece: `part` with the " " that
        follows the cut before it and the "." that precedes the cut after it."""
        piece = (" " if after_cut else "") + part + ("." if before_cut else "")
        found = 0
        for key in self._keys.intersection(zip(piece, piece[1:], piece[2:], strict=False)):
            for literal, mask in self._by_trigram[key]:
                if mask & ~found and (len(literal) == 3 or literal in piece):
                    found |= mask
        return found

    def candidates(self, text: str, folded: str | None = None) -> list[int]:
        """Indices (ascending) of the regexes that may match `text`; the others cannot.

        `folded` is `fold(text)`, passed in when the caller already has it."""
        folded = fold(text) if folded is None else folded
        found = self._present(text, folded)
        maybe = set(self._always)
        bits = found
        while bits:
            bit = bits & -bits  # the lowest bit set
            maybe |= self._by_bit[bit]
            bits ^= bit
        return [
            i
            for i in sorted(maybe)
            if i in self._always or _any_met(self._alternatives[i], found, text, folded)
        ]


def _split(group: Group) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(lit.text for lit in group if not lit.exact),
        tuple(lit.text for lit in group if lit.exact),
    )


def _any_met(
    alternatives: tuple[tuple[int, Rest], ...], found: int, text: str, folded: str
) -> bool:
    """Whether some alternative has its first group in `found` and its others in the text."""
    in_folded, in_text = folded.__contains__, text.__contains__
    for first, rest in alternatives:
        if not first & found:
            continue
        for folds, exact in rest:
            if not (any(map(in_folded, folds)) or any(map(in_text, exact))):
                break
        else:
            return True
    return False


@functools.lru_cache(maxsize=16)
def shared_index(
    regexes: tuple[re.Pattern[str], ...], sample: tuple[str, ...] = ()
) -> LiteralIndex:
    """A `LiteralIndex` built once per set of patterns (it takes ~20 ms), shared by every
    critic made from the same persona; the index never changes after it is built."""
    return LiteralIndex(regexes, sample)


@functools.lru_cache(maxsize=1024)
def _single(regex: re.Pattern[str]) -> LiteralIndex:
    return LiteralIndex([regex])


def could_match(regex: re.Pattern[str], text: str, folded: str | None = None) -> bool:
    """False only when, for every top-level alternative of the regex, the text lacks all
    literals of one of the groups that alternative needs.

    `folded` is `fold(text)`, passed in when many patterns are tested on one text."""
    return bool(_single(regex).candidates(text, folded))
