"""All detectors over one text, overlaps resolved."""

from __future__ import annotations

from functools import cache

from . import addresses, patterns
from .kinds import PiiSpan, resolve_overlaps
from .lexicon import Lexicon, get_lexicon
from .names import NameFinder


@cache
def _names(lexicon: Lexicon) -> NameFinder:
    return NameFinder(lexicon)


def detect(text: str, lexicon: Lexicon | None = None) -> list[PiiSpan]:
    lx = lexicon or get_lexicon()
    spans: list[PiiSpan] = []
    spans += patterns.emails(text)
    spans += patterns.urls(text, lx)
    spans += patterns.dates_of_birth(text, lx)
    spans += patterns.numbers(text, lx)
    spans += patterns.phones(text, lx)
    spans += addresses.addresses(text, lx)
    spans += _names(lx).find(text)
    return resolve_overlaps(spans)
