"""Identifiers with a shape: emails, URLs, phone numbers, id numbers and dates of birth.

Phones are found by `phonenumbers` (Google's libphonenumber metadata); card, routing and
Social Security numbers are checked with `python-stdnum` (Luhn, ABA checksum, SSA rules).
Everything else is a documented pattern plus the cue words in data/lists.yaml.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import rtn, ssn

from .context import has_cue, nearest_cue, window_before
from .kinds import PiiSpan
from .lexicon import Lexicon

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# "jane dot doe at gmail dot com": an address spelled out to dodge filters.
SPELLED_EMAIL = re.compile(
    r"\b[\w]+(?:\s*(?:\.|dot)\s*\w+)*\s+(?:at|\[at\]|\(at\))\s+\w+\s*(?:\.|dot|\[dot\])\s*"
    r"(?:com|net|org|edu|gov|us|io|co)\b",
    re.IGNORECASE,
)
_TLD = r"(?:com|net|org|io|me|app|gov|edu|us|co|info|biz|ly|gl|link)"
URL = re.compile(
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+|\b(?:[a-z0-9-]+\.)+"
    + _TLD
    + r"(?:/[^\s<>\"']*)?(?![\w@])",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""

# Digit runs with single separators; classified by length, checksum and the cue before them.
NUMBER_RUN = re.compile(r"(?<![\w$€£@/.,-])\d+(?:[-. ]\d+)*(?![\w%@]|[.,]\d|-\w)")
ALNUM_ID = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d)[A-Z]{1,3}-?\d[\dA-Z-]{4,}(?![\w-])")
SSN_SHAPE = re.compile(r"^\d{3}[- ]\d{2}[- ]\d{4}$")
YEAR_RANGE = re.compile(r"^(19|20)\d\d[-–](19|20)\d\d$")
ZIP4 = re.compile(r"^\d{5}-\d{4}$")
NANP_SHAPE = re.compile(r"^(?:1[-. ]?)?\d{3}[-. ]\d{3}[-. ]\d{4}$|^\d{10}$|^1\d{10}$")
LOCAL_PHONE = re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[-. ])?\d{3}[-. ]\d{4}(?![\w-])")

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
DATE = re.compile(
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|(?:19|20)\d\d-\d\d-\d\d|"
    + _MONTH
    + r"\s+"
    + _DAY
    + r"(?:,?\s+(?:19|20)\d\d)?|"
    + _DAY
    + r"\s+(?:of\s+)?"
    + _MONTH
    + r"(?:,?\s+(?:19|20)\d\d)?)(?![\w/])",
    re.IGNORECASE,
)
NUMERIC_DATE = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})$|^(?:19|20)\d\d-\d\d-\d\d$")
_MONEY_AFTER = re.compile(
    r"^\s?(?:%|percent|dollars?|bucks|usd|k\b|grand|cents|a month|a year|per|/mo|/yr|"
    r"years?|months?|weeks?|days?|hours?|shares?|points?)",
    re.IGNORECASE,
)


def emails(text: str) -> list[PiiSpan]:
    spans = [PiiSpan.make(text, m.start(), m.end(), "email") for m in EMAIL.finditer(text)]
    spans += [PiiSpan.make(text, m.start(), m.end(), "email") for m in SPELLED_EMAIL.finditer(text)]
    return spans


def _identifying_url(url: str, lexicon: Lexicon) -> bool:
    """A URL names someone when it is a profile/payment page or carries an id-like part."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.strip("/")
    if parts.query or "@" in url or "~" in path:
        return True
    if path and any(host == h or host.endswith("." + h) for h in lexicon.lists.profile_hosts):
        return True
    for segment in re.split(r"[/_.-]", path):
        if re.search(r"\d{4,}", segment) and not re.fullmatch(r"(19|20)\d\d", segment):
            return True
        if len(segment) >= 6 and re.search(r"\d", segment) and re.search(r"[A-Za-z]", segment):
            return True
    return False


def urls(text: str, lexicon: Lexicon) -> list[PiiSpan]:
    spans = []
    for m in URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _TRAILING:
            end -= 1
        if _identifying_url(text[m.start() : end], lexicon):
            spans.append(PiiSpan.make(text, m.start(), end, "url"))
    return spans


def phones(text: str, lexicon: Lexicon) -> list[PiiSpan]:
    spans = [
        PiiSpan.make(text, m.start, m.end, "phone")
        for m in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID)
    ]
    # numbers libphonenumber cannot place (local 7-digit, fictional 555 area) count after a cue
    for m in LOCAL_PHONE.finditer(text):
        if has_cue(lexicon, window_before(text, m.start(), 32), "phone"):
            spans.append(PiiSpan.make(text, m.start(), m.end(), "phone", boost=-1))
    return spans


def _is_amount(text: str, start: int, end: int, lexicon: Lexicon) -> bool:
    if text[max(0, start - 2) : start].strip().endswith(("$", "£", "€")):
        return True
    return bool(_MONEY_AFTER.match(text[end : end + 12]))


def _classify(raw: str, digits: str, cue: str | None) -> tuple[str, str] | None:
    """(kind, label) of a digit run, or None when it is not an identifier."""
    n = len(digits)
    if cue == "ssn" and n in (4, 9):
        return "national_id", "SSN"
    if cue == "national_id" and n >= 5:
        return "national_id", "NATIONAL_ID"
    if cue == "routing" and n == 9:
        return ("routing", "ROUTING") if rtn.is_valid(digits) else ("account", "ACCOUNT")
    if cue == "card" and 13 <= n <= 19:
        return ("card", "CARD") if luhn.is_valid(digits) else ("account", "ACCOUNT")
    if cue in ("account", "card", "routing") and n >= 4:
        return "account", "ACCOUNT"
    if SSN_SHAPE.match(raw) and ssn.is_valid(digits):
        return "national_id", "SSN"
    if 13 <= n <= 19 and luhn.is_valid(digits):
        return "card", "CARD"
    if n == 9 and " " not in raw and rtn.is_valid(digits):
        return "routing", "ROUTING"
    if n >= 8 and (" " not in raw or cue):
        return "account", "ACCOUNT"
    return None


def numbers(text: str, lexicon: Lexicon) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    groups = ("account", "card", "routing", "ssn", "national_id")
    for m in NUMBER_RUN.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 4 or NUMERIC_DATE.match(raw) or YEAR_RANGE.match(raw):
            continue
        if _is_amount(text, m.start(), m.end(), lexicon):
            continue
        cue = nearest_cue(lexicon, window_before(text, m.start()), groups)
        if ZIP4.match(raw) and cue is None:
            continue
        if len(digits) < 6 and cue not in ("ssn",) and not _last_digits_cue(text, m.start()):
            continue
        found = _classify(raw, digits, cue)
        if found:
            kind, label = found
            spans.append(
                PiiSpan.make(text, m.start(), m.end(), kind, label=label, boost=1 if cue else -3)
            )  # type: ignore[arg-type]
    for m in ALNUM_ID.finditer(text):
        cue = nearest_cue(lexicon, window_before(text, m.start(), 32), groups)
        if cue == "national_id":
            spans.append(PiiSpan.make(text, m.start(), m.end(), "national_id", boost=1))
        elif cue == "account":
            spans.append(PiiSpan.make(text, m.start(), m.end(), "account", boost=1))
        elif cue is None and (iban.is_valid(m.group())):
            spans.append(PiiSpan.make(text, m.start(), m.end(), "account"))
    return spans


_LAST_DIGITS = re.compile(
    r"(?:ending in|ends in|ending with|last (?:four|4)(?: digits)?(?: of [\w' ]+)?(?: (?:is|are))?)\s*:?\s*$",
    re.IGNORECASE,
)


def _last_digits_cue(text: str, start: int) -> bool:
    return bool(_LAST_DIGITS.search(text[max(0, start - 40) : start]))


def dates_of_birth(text: str, lexicon: Lexicon) -> list[PiiSpan]:
    spans = []
    for m in DATE.finditer(text):
        if has_cue(lexicon, window_before(text, m.start(), 40), "dob"):
            spans.append(PiiSpan.make(text, m.start(), m.end(), "dob"))
    return spans
