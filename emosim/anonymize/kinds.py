"""What the anonymizer finds: kinds of identifying text and the spans that hold them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

PiiKind = Literal[
    "name",
    "email",
    "phone",
    "address",
    "dob",
    "national_id",
    "account",
    "card",
    "routing",
    "url",
]
PII_KINDS: tuple[str, ...] = get_args(PiiKind)

# Who a name belongs to, when the text says so: the speaker introducing themself ("self") or
# the other speaker being addressed ("addressee"). Resolved to CLIENT_NAME / ADVISOR_NAME.
NameRole = Literal["self", "addressee"]

# Placeholder label per kind; names get theirs from the role, national ids from the cue.
DEFAULT_LABELS: dict[str, str] = {
    "name": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "address": "ADDRESS",
    "dob": "DOB",
    "national_id": "NATIONAL_ID",
    "account": "ACCOUNT",
    "card": "CARD",
    "routing": "ROUTING",
    "url": "URL",
}

# Which detection wins when two spans overlap (higher first, then the longer span).
PRIORITY: dict[str, int] = {
    "email": 9,
    "url": 8,
    "dob": 7,
    "national_id": 7,
    "routing": 7,
    "card": 6,
    "address": 6,
    "account": 5,
    "phone": 5,
    "name": 4,
}


@dataclass(frozen=True)
class PiiSpan:
    """One stretch of identifying text in one turn."""

    start: int
    end: int
    kind: PiiKind
    text: str
    label: str
    priority: int
    role: NameRole | None = None

    @classmethod
    def make(
        cls,
        text: str,
        start: int,
        end: int,
        kind: PiiKind,
        *,
        label: str | None = None,
        boost: int = 0,
        role: NameRole | None = None,
    ) -> PiiSpan:
        return cls(
            start=start,
            end=end,
            kind=kind,
            text=text[start:end],
            label=label or DEFAULT_LABELS[kind],
            priority=PRIORITY[kind] + boost,
            role=role,
        )


def resolve_overlaps(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Keep the strongest of overlapping spans: priority, then length, then position."""
    chosen: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (-s.priority, -(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
