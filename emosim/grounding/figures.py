"""Figures in text: amounts, rates, ages and durations, with their unit and what they mean.

Used on both sides: the fact observer reads the client's figures (what each one is about,
from the words of its clause), and the critic finds every figure in an advisor draft so that
each one can be traced. Pure functions over strings; identifiers that contain digits
("401(k)", "529 plan", "Form 1040") are not figures.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from emosim.schemas.grounding import FactKind, Unit

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:\s*(?:k\b|K\b|thousand\b|million\b|mil\b|m\b))?"
_MONEY = re.compile(
    rf"(?<![\w$])\$\s?(?P<num>{_NUM})(?P<scale>{_SCALE})"
    rf"|(?<![\w$])(?P<num2>{_NUM})(?P<scale2>{_SCALE})\s*(?:dollars|bucks)\b",
    re.IGNORECASE,
)
_PER_MONTH = re.compile(
    r"^\s*(?:-|\s)?(?:a|per|/|each|every)[\s-]?(?:month|mo)\b|^\s*(?:-a-month|monthly)\b",
    re.IGNORECASE,
)
_PER_YEAR = re.compile(
    r"^\s*(?:-|\s)?(?:a|per|/|each|every)[\s-]?(?:year|yr)\b|^\s*(?:-a-year|annually|yearly)\b",
    re.IGNORECASE,
)
_MONTHLY_BEFORE = re.compile(r"\bmonthly\b(?:\s+\w+){0,2}\s*$", re.IGNORECASE)
_YEARLY_BEFORE = re.compile(r"\b(?:annual|yearly)\b(?:\s+\w+){0,2}\s*$", re.IGNORECASE)
_PERCENT = re.compile(rf"(?<![\w.])(?P<num>{_NUM})\s*(?:%|percent\b)", re.IGNORECASE)
_WORDNUM = "|".join(WORD_NUMBERS)
_AGE = re.compile(
    r"\b(?:I'm|I am|I’m|I'll be|I’ll be|I turn|I turned|turning|turn|turned|at age|age|aged|at)\s+"
    r"(?P<num>\d{2})\b(?!\s*(?:%|percent|months?|years?(?!\s+old)|\.\d|,\d|k\b))"
    r"|\b(?P<num2>\d{2})(?:\s+|-)years?(?:\s+|-)old\b",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"\b(?P<num>\d+(?:\.\d+)?|{_WORDNUM}|a couple of|a few)\s+(?P<unit>years?|months?)\b"
    rf"(?!\s+old)",
    re.IGNORECASE,
)
# digits that name things rather than quantities
_IDENTIFIER = re.compile(
    r"\b(?:401\s?\(?k\)?s?|403\s?\(?b\)?|457\s?\(?b\)?|529s?|1099s?|1040|W-?2s?|W-?4|"
    r"Form\s+\d+\w*|Schedule\s+\w+|Section\s+\d+\w*|\d{3}-\d{3}-\d{4}|20\d\d|19\d\d)\b",
    re.IGNORECASE,
)


# what follows an amount that is a balance, not a monthly figure ("$12,000 saved")
_A_BALANCE = re.compile(
    r"\s*(?:saved|in savings|in the bank|in checking|in my (?:savings|checking|account)|"
    r"put away|set aside|left over|in debt|of debt|owed)\b",
    re.IGNORECASE,
)


_SAVED_BEFORE = re.compile(
    r"\b(?:saved|set aside|put away|socked away)\s+(?:up\s+)?(?:about|around|roughly|nearly|"
    r"almost|over|just over|just under|close to)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """A figure found in a text."""

    value: float
    unit: Unit
    text: str
    start: int
    end: int


def _number(num: str, scale: str = "") -> float:
    value = float(num.replace(",", ""))
    scale = scale.strip().lower()
    if scale in {"k", "thousand"}:
        value *= 1_000
    elif scale in {"million", "mil", "m"}:
        value *= 1_000_000
    return value


def _masked(text: str) -> str:
    """The text with identifier digits blanked (same length, so offsets stay valid)."""
    return _IDENTIFIER.sub(lambda m: "#" * len(m.group(0)), text)


def find_figures(text: str) -> list[Found]:
    """Every figure in `text`, in order, none overlapping another."""
    return list(_find_figures(text))


@functools.lru_cache(maxsize=8192)
def _find_figures(text: str) -> tuple[Found, ...]:
    """Cached: the same sentences (a situation told turn by turn, a draft traced by the gate
    and again for the record) are read many times."""
    masked = _masked(text)
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(value: float, unit: Unit, start: int, end: int) -> None:
        half = re.match(r"½|\s+and\s+a\s+half\b", text[end:])
        if half and unit in {"age", "years", "months"}:  # "age 59½", "2 and a half years"
            value += 0.5
            end += half.end()
        if free(start, end):
            taken.append((start, end))
            found.append(Found(value, unit, text[start:end].strip(), start, end))

    for m in _MONEY.finditer(masked):
        num = m.group("num") or m.group("num2")
        scale = m.group("scale") or m.group("scale2") or ""
        value = _number(num, scale)
        end = m.end()
        after = masked[end : end + 16]
        unit: Unit = "usd"
        per = _PER_MONTH.match(after) or _PER_YEAR.match(after)
        if per:
            unit = "usd_per_month" if _PER_MONTH.match(after) else "usd_per_year"
            end += per.end()
        elif _MONTHLY_BEFORE.search(masked[max(0, m.start() - 30) : m.start()]):
            unit = "usd_per_month"
        elif _YEARLY_BEFORE.search(masked[max(0, m.start() - 30) : m.start()]):
            unit = "usd_per_year"
        add(value, unit, m.start(), end)
    for m in _PERCENT.finditer(masked):
        add(_number(m.group("num")), "percent", m.start(), m.end())
    for m in _AGE.finditer(masked):
        group = "num" if m.group("num") else "num2"
        value = float(m.group(group))
        if 15 <= value <= 105:
            start = m.start(group) if group == "num" else m.start()
            add(value, "age", start, m.end())
    for m in _DURATION.finditer(masked):
        raw = m.group("num").lower()
        value = (
            2.0
            if raw == "a couple of"
            else 3.0
            if raw == "a few"
            else float(WORD_NUMBERS.get(raw, 0) or _number(raw))
        )
        if raw in {"a couple of", "a few"} or not raw[0].isdigit():
            # vague, or spelled out ("three to six months"): general guidance, not a figure
            # anyone can misquote; figures are written in digits
            continue
        unit = "years" if m.group("unit").lower().startswith("year") else "months"
        add(value, unit, m.start(), m.end())
    found.sort(key=lambda f: f.start)
    # "$2,150 a month if I claim at 62 and $3,050 at 67": a bare amount in a list after a
    # monthly one is monthly too
    prev: Found | None = None
    for i, cur in enumerate(found):
        if not cur.unit.startswith("usd"):
            continue
        between = text[prev.end : cur.start] if prev else ""
        if (
            prev is not None
            and cur.unit == "usd"
            and prev.unit in {"usd_per_month", "usd_per_year"}
            and len(between) <= 40
            and not re.search(r"[.!?;]", between)
            and re.search(r"\b(?:and|or|to|vs\.?|versus)\b", between)
            # "$1,400 a month in rent and have $12,000 saved": a balance of its own
            and not re.search(r"\b(?:have|has|had|got|owe|owed)\b", between, re.IGNORECASE)
            and not _A_BALANCE.match(text[cur.end : cur.end + 24])
        ):
            found[i] = cur = Found(cur.value, prev.unit, cur.text, cur.start, cur.end)
        prev = cur
    return tuple(found)


# --- meaning --------------------------------------------------------------------------------

_KIND_WORDS: list[tuple[FactKind, tuple[str, ...]]] = [
    ("tax_due", ("owe the irs", "tax bill", "balance due", "owe in taxes", "tax balance", "irs")),
    (
        "windfall",
        ("inherit", "inheritance", "windfall", "bonus", "settlement", "lottery", "payout"),
    ),
    # "I'm down $12,000", not "down to $78k" or "a down payment"
    # "I lost $8,000", not "I'm still a bit lost"
    (
        "loss",
        (
            "loss",
            "losses",
            "lost $",
            "lost about $",
            "lost around $",
            "lost over $",
            "down $",
            "down about $",
            "down roughly $",
        ),
    ),
    ("gain", ("gain", "gains", "profit")),
    (
        "debt",
        ("owe", "debt", "loan", "loans", "mortgage", "balance on", "credit card", "in collections"),
    ),
    # pay that comes in, before "pay " read as a payment going out
    ("income", ("take-home", "take home", "home pay", "paycheck", "salary", "my pay ", "our pay ")),
    ("payment", ("payment", "pay ", "paying", "minimum")),
    (
        "income",
        (
            "make ",
            "making",
            "earn",
            "salary",
            "paycheck",
            "income",
            "social security",
            "pension",
            "benefit",
            "claim",
            "statement shows",
            "take home",
            "take-home",
            "brings in",
            "bring in",
        ),
    ),
    (
        "cost",
        (
            "cost",
            "costs",
            "quote",
            "rent",
            "bills",
            "spend",
            "expenses",
            "premium",
            "tuition",
            "care",
            "fee",
            "fees",
            "price",
        ),
    ),
    (
        "savings",
        (
            "saved",
            "savings",
            "checking",
            "set aside",
            "emergency fund",
            "nest egg",
            "in my",
            "sitting",
            "401(k)",
            "ira",
            "account",
            "have about",
            "got about",
            "put away",
        ),
    ),
]
_CLAUSE_BREAK = re.compile(
    r"(?<=[.!?;])\s+|\s+(?:but|and then|although|while)\s+|,\s+(?:and|but)\s+"
)
_SUBJECT = re.compile(
    r"\b(?:my|our|the|in|on|for|from)\s+((?:[\w()'’-]+\s+){0,3}?"
    r"(?:account|checking|savings|loans?|mortgage|card|cards|bill|quote|care|rent|house|"
    r"pension|security|salary|paycheck|income|fund|ira|401\(k\)|premium|tuition|inheritance|"
    r"debt|taxes|irs|losses|gains|payment|payments|benefit|budget|job|raise|business))(?=\W|$)",
    re.IGNORECASE,
)


def clause_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause of `text` holding [start, end): from the last sentence or clause break
    before it to the next one after it."""
    left = 0
    for m in _CLAUSE_BREAK.finditer(text, 0, start):
        left = m.end()
    right = len(text)
    m = _CLAUSE_BREAK.search(text, end)
    if m:
        right = m.start()
    while right > left and text[right - 1] in ".!?,; ":
        right -= 1
    return left, right


def meaning(text: str, figure: Found) -> tuple[FactKind, str, str]:
    """(kind, subject, evidence clause) of a client's figure, from the words around it."""
    left, right = clause_around(text, figure.start, figure.end)
    clause = text[left:right]
    low = clause.lower()
    subject_match = _SUBJECT.search(clause)
    subject = subject_match.group(1) if subject_match else ""
    if figure.unit == "percent":
        return "rate", subject, clause
    before = text[max(0, figure.start - 24) : figure.start].lower()
    if figure.unit == "usd_per_month" and re.search(
        r"(?<!home )(?<!home-)\b(?:pay|paying|payment of|putting|put|send|sending|give|giving|wire|transfer)\b"
        r"(?:\s+\w+){0,2}\s*$",
        before,
    ):
        return "payment", subject, clause
    if figure.unit == "age":
        return "age", subject, clause
    if figure.unit in {"years", "months"}:
        return "duration", subject, clause
    # the words nearest the figure first ("has $180,000 in savings and gets $1,400 from
    # Social Security": each amount is what its own words say), then the whole clause
    near = text[max(left, figure.start - 32) : min(right, figure.end + 24)].lower()
    # the words right after it first: "... in rent and have $12,000 saved" is savings
    after = _A_BALANCE.match(text, figure.end, min(right, figure.end + 24))
    if figure.unit == "usd" and _SAVED_BEFORE.search(
        text, max(left, figure.start - 24), figure.start
    ):
        return "savings", subject, clause  # "we've saved about $92,000 for a down payment"
    for scope in ((after.group(0).lower(),) if after else ()) + (near, low):
        for kind, words in _KIND_WORDS:
            if any(w in scope for w in words):
                if kind == "payment" and figure.unit == "usd" and "owe" in scope:
                    return "debt", subject, clause
                if kind in {"savings"} and figure.unit == "usd_per_month":
                    return "payment", subject, clause
                return kind, subject, clause
    if figure.unit == "usd_per_month":
        return "cost", subject, clause
    return "amount", subject, clause


# --- person ----------------------------------------------------------------------------------

_FIRST_TO_SECOND = [
    (r"\bI am\b", "you are"),
    (r"\bI'm\b", "you're"),
    (r"\bI’m\b", "you’re"),
    (r"\bI've\b", "you've"),
    (r"\bI’ve\b", "you’ve"),
    (r"\bI'll\b", "you'll"),
    (r"\bI’ll\b", "you’ll"),
    (r"\bI'd\b", "you'd"),
    (r"\bI’d\b", "you’d"),
    (r"\bI was\b", "you were"),
    (r"\bI\b", "you"),
    (r"\bmyself\b", "yourself"),
    (r"\bmy\b", "your"),
    (r"\bMy\b", "Your"),
    (r"\bmine\b", "yours"),
    (r"\bme\b", "you"),
    (r"\bWe\b", "You"),
    (r"\bOur\b", "Your"),
    (r"\bwe're\b", "you're"),
    (r"\bwe’re\b", "you’re"),
    (r"\bwe've\b", "you've"),
    (r"\bwe\b", "you"),
    (r"\bour\b", "your"),
    (r"\bus\b", "you"),
]
_FIRST_TO_SECOND_RX = [(re.compile(a), b) for a, b in _FIRST_TO_SECOND]


def to_second_person(clause: str) -> str:
    """The client's clause as Elena says it back: 'I owe $14,000 on my loans' -> 'you owe
    $14,000 on your loans'. Only pronouns change; figures stay exactly as written."""
    out = clause
    for rx, repl in _FIRST_TO_SECOND_RX:
        out = rx.sub(repl, out)
    return out
