"""Audit of a label history: each event's supersedes chain and backdated links.

An event that supersedes one made after it (its `created_at` is earlier) was backdated or
came from a clock that is off; resolution orders events by `created_at`, so such an event
can lose to the very event it answers. `labels history` flags it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emosim.schemas import LabelEvent

from .store import utc


@dataclass
class AuditedEvent:
    event: LabelEvent
    chain: list[str]  # event ids it supersedes, nearest first (x2 -> x1 -> h1)
    backdated: bool  # made before the event it supersedes

    def as_json(self) -> dict:
        return {
            **self.event.model_dump(mode="json"),
            "supersedes_chain": self.chain,
            "backdated": self.backdated,
        }


def supersedes_chain(event: LabelEvent, known: Mapping[str, LabelEvent]) -> list[str]:
    chain: list[str] = []
    link = event.supersedes
    while link and link not in chain:
        chain.append(link)
        previous = known.get(link)
        link = previous.supersedes if previous else None
    return chain


def audit(events: Iterable[LabelEvent], known: Mapping[str, LabelEvent]) -> list[AuditedEvent]:
    """`events` audited against `known` (every event their links may name, by id)."""
    out = []
    for e in events:
        target = known.get(e.supersedes) if e.supersedes else None
        backdated = target is not None and utc(e.created_at) < utc(target.created_at)
        out.append(AuditedEvent(e, supersedes_chain(e, known), backdated))
    return out
