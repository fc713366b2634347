"""Checking a batch of label events before any of it is stored.

A batch is all-or-nothing: every event's target, value, action and `supersedes` link is
checked, and one list of problems (each naming where the event came from) is raised.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.schemas import LabelEvent, Quality

from .roles import Roles, supersede_problem
from .targets import ConversationInfo, TargetKey, target_problem

REVIEW_STATUSES: tuple[str, ...] = typing.get_args(Quality.model_fields["review_status"].annotation)


def key_of(event: LabelEvent) -> TargetKey:
    t = event.target
    return TargetKey(t.conversation_id, t.turn_index, t.sentence_index, t.field)


def _unit(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number 0..1, got {value!r}"
    if not 0.0 <= float(value) <= 1.0:
        return f"expected a number 0..1, got {value!r}"
    return None


VERDICTS = ("accept", "reject")
SCORE_RANGE = (1, 5)


def _score(value: Any) -> str | None:
    low, high = SCORE_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"expected a whole number {low}..{high}, got {value!r}"
    return None


def _ranking(value: Any) -> str | None:
    """Candidate ids, best first (which candidates exist is checked where rankings are read)."""
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(isinstance(v, str) and v for v in value)
    ):
        return f"expected a list of two or more candidate ids, best first, got {value!r}"
    if len(set(value)) != len(value):
        return f"a candidate is ranked twice in {value!r}"
    return None


def value_problem(catalog: Catalog, field_name: str, value: Any) -> str | None:
    """Why `value` is not a label of `field_name`, or None when it is."""

    def one_of(known: Mapping[str, object] | tuple[str, ...], what: str) -> str | None:
        if isinstance(value, str) and value in known:
            return None
        sample = ", ".join(sorted(known)[:40])
        return f"unknown {what} {value!r} for field {field_name!r} (expected one of: {sample})"

    checks: dict[str, Callable[[], str | None]] = {
        "emotion": lambda: one_of(catalog.emotions, "emotion id"),
        "secondary_emotion": lambda: (
            None if value is None else one_of(catalog.emotions, "emotion id")
        ),
        "intensity": lambda: _unit(value),
        "strategy": lambda: one_of(catalog.strategies, "strategy id"),
        "sentence_function": lambda: one_of(catalog.functions, "sentence-function id"),
        "review_status": lambda: one_of(REVIEW_STATUSES, "review status"),
        "quality": lambda: _unit(value),
        "candidate_ranking": lambda: _ranking(value),
        "conversation_verdict": lambda: one_of(VERDICTS, "verdict"),
        "emotional_authenticity": lambda: _score(value),
        "helpfulness": lambda: _score(value),
    }
    return checks[field_name]()


def same_event(a: LabelEvent, b: LabelEvent) -> bool:
    """A resent event (same id and content; the time may be the resend's): a retry, not news."""
    skip = {"created_at"}
    return a.model_dump(mode="json", exclude=skip) == b.model_dump(mode="json", exclude=skip)


@dataclass
class CheckedBatch:
    """Events that may be stored, and those already stored (identical: skipped)."""

    new: list[LabelEvent] = field(default_factory=list)
    already_stored: list[LabelEvent] = field(default_factory=list)


def check_events(
    items: Iterable[tuple[str, LabelEvent]],
    conversations: Callable[[str], ConversationInfo | None],
    stored: Mapping[str, LabelEvent],
    catalog: Catalog,
    roles: Roles | None = None,
) -> CheckedBatch:
    """Check a batch; raise DataError listing every problem, or return what to store.

    `stored` maps the event ids this batch names (its own ids and its `supersedes` links) to
    events already in the store; `roles` says who may supersede other people's events.
    """
    problems: list[str] = []
    batch = CheckedBatch()
    seen: dict[str, LabelEvent] = {}
    for where, event in items:
        key = key_of(event)
        prefix = f"{where}: event {event.event_id!r}"
        before = len(problems)
        if event.event_id in seen:
            problems.append(f"{prefix}: duplicate event_id within the batch")
            continue
        old = stored.get(event.event_id)
        if old is not None:
            if same_event(old, event):
                batch.already_stored.append(event)
                seen[event.event_id] = event
                continue
            problems.append(
                f"{prefix}: event_id is already stored with different content "
                "(events are append-only: make a new event that supersedes it)"
            )
            continue
        where_target = target_problem(conversations(key.conversation_id), key)
        if where_target:
            problems.append(f"{prefix}: target: {where_target}")
        action = event.action
        needs_value = action in ("suggest", "correct") or (
            action == "accept" and event.supersedes is None
        )
        if needs_value and event.value is None and key.field != "secondary_emotion":
            problems.append(f"{prefix}: value: a {action!r} event needs a value")
        elif event.value is not None or (needs_value and key.field == "secondary_emotion"):
            bad_value = value_problem(catalog, key.field, event.value)
            if bad_value:
                problems.append(f"{prefix}: value: {bad_value}")
        if action == "retract" and event.supersedes is None:
            problems.append(f"{prefix}: supersedes: a 'retract' names the event it withdraws")
        if action == "reject" and event.supersedes is None and event.value is None:
            problems.append(
                f"{prefix}: a 'reject' needs `supersedes` (the event rejected) or a value"
            )
        if event.supersedes is not None:
            target = seen.get(event.supersedes) or stored.get(event.supersedes)
            if target is None:
                problems.append(
                    f"{prefix}: supersedes: unknown event {event.supersedes!r} "
                    "(not stored and not earlier in this batch)"
                )
            elif key_of(target) != key:
                problems.append(
                    f"{prefix}: supersedes: event {event.supersedes!r} is about "
                    f"{key_of(target).describe()}, not {key.describe()}"
                )
            else:
                refused = supersede_problem(event, target, roles or Roles())
                if refused:
                    problems.append(f"{prefix}: supersedes: {refused}")
        if len(problems) == before:
            batch.new.append(event)
        seen[event.event_id] = event
    if problems:
        raise DataError([*problems, "nothing was stored"])
    return batch
