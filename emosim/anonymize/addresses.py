"""Postal addresses: house number + street name + USPS suffix (+ unit, city, state, ZIP),
P.O. boxes, and "City, ST 12345" lines. Patterns only: no offline library detects US
addresses in running text (usaddress parses a known address, it does not find one)."""

from __future__ import annotations

import re
from functools import cache

from .context import has_cue, window_before
from .kinds import PiiSpan
from .lexicon import Lexicon, alternation

STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR"
).split()
STATE_NAMES = [
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas",
    "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota",
    "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey",
    "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon",
    "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
]  # fmt: skip

_STOP = r"(?!(?:a|an|the|to|of|my|in|on|at|and|or|for|with|more|than|about|years?|months?|kids?)\b)"


@cache
def _patterns(lexicon: Lexicon) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    lists = lexicon.lists
    suffix = alternation(lists.street_suffixes)
    strong = alternation(lists.strong_street_suffixes)
    unit = alternation(lists.unit_words)
    state = "|".join(STATES) + "|" + alternation(STATE_NAMES)
    city_state_zip = (
        r"(?:,?\s+(?:[A-Z][a-z]+\.?\s){0,2}[A-Z][a-z]+,?\s+(?:" + state + r")\b\.?"
        r"(?:,?\s+\d{5}(?:-\d{4})?)?)?"
    )
    direction = (
        r"(?:(?:[NSEW]\.?|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\s+)?"
    )
    name_words = r"(?:(?:[A-Z][A-Za-z'’-]*|\d+(?:st|nd|rd|th))\s+){1,4}"
    lower_words = r"(?:" + _STOP + r"[a-z][a-z'’-]*\s+){1,2}"
    unit_part = r"(?:,?\s+(?i:" + unit + r")\.?\s*#?\s*[\w-]{1,6}\b)?"
    street = re.compile(
        r"(?<![\w$.,])\d{1,6}[A-Za-z]?\s+"
        + direction
        + r"(?:"
        + name_words
        + r"(?:(?i:"
        + suffix
        + r"))|"
        + lower_words
        + r"(?i:"
        + strong
        + r"))\b\.?"
        + unit_part
        + city_state_zip,
    )
    po_box = re.compile(
        r"\b(?:P\.?\s?O\.?|Post Office)\s*Box\s+\d+\b" + city_state_zip, re.IGNORECASE
    )
    city_line = re.compile(
        r"\b(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+,\s+(?:" + "|".join(STATES) + r")\s+\d{5}(?:-\d{4})?\b"
    )
    return street, po_box, city_line


ZIP = re.compile(r"(?<![\w$-])\d{5}(?:-\d{4})?(?![\w-])")


def addresses(text: str, lexicon: Lexicon) -> list[PiiSpan]:
    street, po_box, city_line = _patterns(lexicon)
    spans = []
    for pattern in (street, po_box, city_line):
        for m in pattern.finditer(text):
            end = m.end()
            while text[end - 1] in ".,":
                end -= 1
            spans.append(PiiSpan.make(text, m.start(), end, "address"))
    for m in ZIP.finditer(text):
        if has_cue(lexicon, window_before(text, m.start(), 24), "zip"):
            spans.append(PiiSpan.make(text, m.start(), m.end(), "address", boost=-1))
    return spans
