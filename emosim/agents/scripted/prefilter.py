"""A cheap, exact test that lets the critic skip most of its regular expressions.

From a pattern's parse tree we derive groups of literal strings such that every match of the
pattern contains at least one string of each group ("guarantee" or "promise"; "by now").
If some group has no string in the text, the pattern cannot match and is not run. The test
never skips a pattern that could match: it only removes work, never findings.

Drafts are clean most of the time, so most of the ~70 persona patterns are skipped after a
few substring checks, which cost far less than scanning the draft with each pattern.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre  # the parser's opcodes: a stable part of CPython's re package
import re._parser as sre_parser
from typing import Any

Group = frozenset[str]

_MIN_LENGTH = 2  # a one-letter literal occurs in nearly every draft: not worth checking
# Soundness: for every ASCII character, each character that `re` matches to it under
# IGNORECASE case-folds to a string containing it, except the dotless ı ("i"), mapped here.
# (Checked over all of Unicode; non-ASCII literals are simply not used.)
_FOLD_FIXES = str.maketrans({"ı": "i"})
_TRANSPARENT = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}  # zero-width: no characters of a match


def fold(text: str) -> str:
    """The text as the literal test compares it: case-folded like IGNORECASE matching."""
    return text.casefold().translate(_FOLD_FIXES)


def _groups(items: Any) -> list[Group]:
    """Groups of literals, each needed by every match of the sequence `items`."""
    groups: list[Group] = []
    run = ""

    def close_run() -> None:
        nonlocal run
        if run:
            groups.append(frozenset({fold(run)}))
        run = ""

    for op, arg in items:
        if op is sre.LITERAL and arg < 128:
            run += chr(arg)
            continue
        close_run()
        if op in _TRANSPARENT:
            continue
        if op is sre.SUBPATTERN:
            groups += _groups(arg[3])
        elif op is sre.ATOMIC_GROUP:
            groups += _groups(arg)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and arg[0] >= 1:
            groups += _groups(arg[2])
        elif op is sre.BRANCH:
            alternatives = [_best(_groups(branch)) for branch in arg[1]]
            if all(alternatives):
                groups.append(frozenset().union(*alternatives))  # type: ignore[arg-type]
    close_run()
    return [g for g in groups if min(map(len, g)) >= _MIN_LENGTH]


def _selectivity(group: Group) -> tuple[int, int]:
    return (min(map(len, group)), -len(group))


def _best(groups: list[Group]) -> Group | None:
    return max(groups, key=_selectivity) if groups else None


def _alternatives(items: Any) -> list[Any]:
    """The top-level alternatives of a pattern (one when it has no top-level `|`)."""
    seq = [item for item in items if item[0] not in _TRANSPARENT]
    if len(seq) == 1 and seq[0][0] is sre.SUBPATTERN:
        return _alternatives(seq[0][1][3])
    if len(seq) == 1 and seq[0][0] is sre.BRANCH:
        return list(seq[0][1][1])
    return [items]


Condition = tuple[tuple[Group, ...], ...]


@functools.lru_cache(maxsize=1024)
def required_literals(regex: re.Pattern[str]) -> Condition:
    """For each top-level alternative of `regex`, the literal groups its matches need, most
    selective first. Empty when some alternative needs no literal (the regex always runs)."""
    condition = []
    for alternative in _alternatives(sre_parser.parse(regex.pattern, regex.flags)):
        groups = sorted(set(_groups(alternative)), key=_selectivity, reverse=True)
        if not groups:
            return ()
        condition.append(tuple(groups))
    return tuple(condition)


def could_match(regex: re.Pattern[str], text: str, folded: str | None = None) -> bool:
    """False only when, for every top-level alternative of the regex, the text lacks all
    literals of one of the groups that alternative needs.

    `folded` is `fold(text)`, passed in when many patterns are tested on one text."""
    condition = required_literals(regex)
    if not condition:
        return True
    folded = fold(text) if folded is None else folded
    return any(all(any(s in folded for s in group) for group in groups) for groups in condition)
