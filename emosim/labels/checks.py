"""Checking a batch of label events before any of it is stored.

A batch is all-or-nothing: every event's target, value, action and `supersedes` link is
checked, and one list of problems (each naming where the event came from) is raised.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from operator import eq, is_not, itemgetter
from typing import Any, NamedTuple

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.schemas import LabelEvent, Quality

from .eventjson import event_json
from .roles import Roles, SourceRef, supersede_problem
from .targets import TargetKey, TurnShape, target_problem

CLOCK_SKEW = timedelta(minutes=5)
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


def _one_of(known: Collection[str], what: str, field_name: str, value: Any) -> str | None:
    if isinstance(value, str) and value in known:
        return None
    sample = ", ".join(sorted(known)[:40])
    return f"unknown {what} {value!r} for field {field_name!r} (expected one of: {sample})"


ValueCheck = Callable[[Any], str | None]


def value_checks(catalog: Catalog) -> dict[str, ValueCheck]:
    """field -> why a value is not one of its labels (None when it is); built once a batch."""
    emotions, strategies, functions = catalog.emotions, catalog.strategies, catalog.functions
    return {
        "emotion": lambda v: _one_of(emotions, "emotion id", "emotion", v),
        "secondary_emotion": lambda v: (
            None if v is None else _one_of(emotions, "emotion id", "secondary_emotion", v)
        ),
        "intensity": _unit,
        "strategy": lambda v: _one_of(strategies, "strategy id", "strategy", v),
        "sentence_function": lambda v: _one_of(
            functions, "sentence-function id", "sentence_function", v
        ),
        "review_status": lambda v: _one_of(REVIEW_STATUSES, "review status", "review_status", v),
        "quality": _unit,
        "candidate_ranking": _ranking,
        "conversation_verdict": lambda v: _one_of(VERDICTS, "verdict", "conversation_verdict", v),
        "emotional_authenticity": _score,
        "helpfulness": _score,
    }


def value_problem(catalog: Catalog, field_name: str, value: Any) -> str | None:
    """Why `value` is not a label of `field_name`, or None when it is."""
    return value_checks(catalog)[field_name](value)


def same_event(a: LabelEvent, b: LabelEvent) -> bool:
    """A resent event (same id and content; the time may be the resend's): a retry, not news."""
    skip = {"created_at"}
    return a.model_dump(mode="json", exclude=skip) == b.model_dump(mode="json", exclude=skip)


class StoredRef(NamedTuple):
    """A stored event as a batch check needs it: what it is about and who made it, read from
    the store's columns; the whole event is parsed only to compare a resend."""

    event_id: str
    key: TargetKey
    source: SourceRef
    event_json: str

    def event(self) -> LabelEvent:
        return LabelEvent.model_validate_json(self.event_json)


class Pending(NamedTuple):
    """One event of a batch as the checks and the insert read it, with the JSON it will be
    stored as: a stream (e.g. live operators' JSONL) can build it without a LabelEvent."""

    where: str
    event_id: str
    key: TargetKey
    action: str
    value: Any
    supersedes: str | None
    created_at: datetime
    source: SourceRef
    json: str

    @classmethod
    def of(cls, where: str, e: LabelEvent) -> Pending:
        return cls(
            where,
            e.event_id,
            key_of(e),
            e.action,
            e.value,
            e.supersedes,
            e.created_at,
            SourceRef(e.source.kind, e.source.name),
            event_json(e),
        )

    def event(self) -> LabelEvent:
        return LabelEvent.model_validate_json(self.json)


@dataclass
class CheckedBatch:
    """Events that may be stored, and those already stored (identical: skipped)."""

    new: list[Pending] = field(default_factory=list)
    already_stored: list[Pending] = field(default_factory=list)


def future_problem(created_at: datetime, latest: datetime, skew: timedelta) -> str | None:
    """An event dated ahead of the store's clock would pin its label against every later
    correction: refused beyond a small clock skew."""
    moment = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
    if moment <= latest:
        return None
    return (
        f"{created_at.isoformat()} is in the future (more than {skew} ahead of this "
        f"machine's clock, {(latest - skew).isoformat(timespec='seconds')}): date events "
        "when they were made"
    )


def form_problems(
    field_name: str, action: str, value: Any, supersedes: bool, checks: Mapping[str, ValueCheck]
) -> list[str]:
    """What is wrong with an event's action, value and whether it names an event it
    supersedes, whatever its target (each problem starts with the field it is about)."""
    problems: list[str] = []
    needs_value = action in ("suggest", "correct") or (action == "accept" and not supersedes)
    if needs_value and value is None and field_name != "secondary_emotion":
        problems.append(f"value: a {action!r} event needs a value")
    elif value is not None or (needs_value and field_name == "secondary_emotion"):
        bad_value = checks[field_name](value)
        if bad_value:
            problems.append(f"value: {bad_value}")
    if action == "retract" and not supersedes:
        problems.append("supersedes: a 'retract' names the event it withdraws")
    if action == "reject" and not supersedes and value is None:
        problems.append("a 'reject' needs `supersedes` (the event rejected) or a value")
    return problems


def check_events(
    items: Iterable[Pending],
    conversations: Callable[[str], Sequence[TurnShape] | None],
    stored: Mapping[str, StoredRef],
    catalog: Catalog,
    roles: Roles | None = None,
    *,
    now: datetime | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> CheckedBatch:
    """Check a batch; raise DataError listing every problem, or return what to store.

    `conversations` gives a conversation's turns (None: not in the store); `stored` maps
    the event ids this batch names (its own ids and its `supersedes` links) to
    events already in the store; `roles` says who may supersede other people's events;
    `created_at` may be at most `clock_skew` after `now`.
    """
    roles = roles or Roles()
    leads = roles.leads()
    latest = (now or datetime.now(UTC)) + clock_skew
    checks = value_checks(catalog)
    problems: list[str] = []
    batch = CheckedBatch()
    seen: dict[str, Pending] = {}
    for p in items:
        key, event_id = p.key, p.event_id
        before = len(problems)
        if event_id in seen:
            problems.append(f"{p.where}: event {event_id!r}: duplicate event_id within the batch")
            continue
        old = stored.get(event_id)
        if old is not None:
            if same_event(old.event(), p.event()):
                batch.already_stored.append(p)
                seen[event_id] = p
                continue
            problems.append(
                f"{p.where}: event {event_id!r}: event_id is already stored with different "
                "content (events are append-only: make a new event that supersedes it)"
            )
            continue
        prefix = f"{p.where}: event {event_id!r}"
        ahead = future_problem(p.created_at, latest, clock_skew)
        if ahead:
            problems.append(f"{prefix}: created_at: {ahead}")
        where_target = target_problem(conversations(key.conversation_id), key)
        if where_target:
            problems.append(f"{prefix}: target: {where_target}")
        supersedes = p.supersedes
        for problem in form_problems(key.field, p.action, p.value, supersedes is not None, checks):
            problems.append(f"{prefix}: {problem}")
        if supersedes is not None:
            target = seen.get(supersedes) or stored.get(supersedes)
            if target is None:
                problems.append(
                    f"{prefix}: supersedes: unknown event {supersedes!r} "
                    "(not stored and not earlier in this batch)"
                )
            elif target.key != key:
                problems.append(
                    f"{prefix}: supersedes: event {supersedes!r} is about "
                    f"{target.key.describe()}, not {key.describe()}"
                )
            else:
                refused = supersede_problem(p, target, roles, leads)
                if refused:
                    problems.append(f"{prefix}: supersedes: {refused}")
        if len(problems) == before:
            batch.new.append(p)
        seen[event_id] = p
    if problems:
        raise DataError([*problems, "nothing was stored"])
    return batch


class _Ref(typing.Protocol):
    @property
    def key(self) -> TargetKey: ...

    @property
    def source(self) -> SourceRef: ...


class _Acting(NamedTuple):
    """Who supersedes and how: what `supersede_problem` reads of an event."""

    source: SourceRef
    action: str


class _Owned(NamedTuple):
    source: SourceRef


# a Pending's fields by position (NamedTuple order): read column by column, in C
_ID, _KEY, _ACTION, _VALUE, _SUPERSEDES, _CREATED, _SOURCE = map(itemgetter, range(1, 8))
_FIELD, _REF_KEY, _REF_SOURCE = itemgetter(3), itemgetter(1), itemgetter(2)


def quick_batch(
    items: Sequence[Pending],
    conversations: Callable[[str], Sequence[TurnShape] | None],
    stored: Mapping[str, StoredRef],
    catalog: Catalog,
    roles: Roles | None = None,
    *,
    now: datetime | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> CheckedBatch | None:
    """The batch as `check_events` would pass it, when every event is new and passes every
    check, decided for the batch as a whole: the newest date once, each distinct target and
    each distinct (field, action, value) once, permissions once per (who, action, whose).
    None when anything is off (a duplicate, a resend, a problem, a value that is a list):
    `check_events` then goes event by event and names every problem. Same arguments.

    The batch is read column by column (`map` over its fields), so what runs in Python is
    one step per distinct target, form and permission, not per event."""
    ids = set(map(_ID, items))
    if len(ids) != len(items) or not ids.isdisjoint(stored):
        return None
    if items:
        try:  # naive dates beside aware ones: compared one by one
            newest = max(map(_CREATED, items))
        except TypeError:
            return None
        latest = (now or datetime.now(UTC)) + clock_skew
        if future_problem(newest, latest, clock_skew):
            return None
    keys = list(map(_KEY, items))
    for key in set(keys):
        if target_problem(conversations(key.conversation_id), key):
            return None
    supersedes = list(map(_SUPERSEDES, items))
    linked = list(map(is_not, supersedes, repeat(None)))
    values = list(map(_VALUE, items))
    try:  # the value's type too: True == 1, yet a bool is no number here
        forms = set(zip(map(_FIELD, keys), map(_ACTION, items), map(type, values), values,
                        linked, strict=True))  # fmt: skip
    except TypeError:  # a list (candidate ranking) or another unhashable value
        return None
    checks = value_checks(catalog)
    for field_name, action, _, value, has_link in forms:
        if form_problems(field_name, action, value, has_link, checks):
            return None
    roles = roles or Roles()
    leads = roles.leads()
    named = list(compress(supersedes, linked))
    if not ids.isdisjoint(named):  # events superseding events of this batch: in order
        return _links_in_order(items, stored, roles, leads)
    targets = list(map(stored.get, named))
    if None in targets:  # unknown (not stored, and not in this batch)
        return None
    acting = list(compress(items, linked))
    if not all(map(eq, map(_REF_KEY, targets), map(_KEY, acting))):  # another target's
        return None
    who = set(zip(map(_SOURCE, acting), map(_ACTION, acting), map(_REF_SOURCE, targets),
                  strict=True))  # fmt: skip
    for me, action, owner in who:
        if supersede_problem(_Acting(me, action), _Owned(owner), roles, leads):
            return None
    return CheckedBatch(new=list(items))


def _links_in_order(
    items: Sequence[Pending],
    stored: Mapping[str, StoredRef],
    roles: Roles,
    leads: frozenset[SourceRef],
) -> CheckedBatch | None:
    """`quick_batch`'s check of `supersedes` links when some name an event of the batch:
    each must be earlier in it (or stored), about the same target, and allowed."""
    position = {p.event_id: i for i, p in enumerate(items)}
    allowed: dict[tuple[SourceRef, str, SourceRef], bool] = {}
    for i, p in enumerate(items):
        supersedes = p.supersedes
        if supersedes is None:
            continue
        j = position.get(supersedes)
        target: _Ref | None
        if j is None:
            target = stored.get(supersedes)
        elif j < i:  # earlier in this batch
            target = items[j]
        else:  # later in this batch: unknown at this point (and not stored)
            return None
        if target is None or target.key != p.key:
            return None
        who = (p.source, p.action, target.source)
        ok = allowed.get(who)
        if ok is None:
            ok = allowed[who] = supersede_problem(p, target, roles, leads) is None
        if not ok:
            return None
    return CheckedBatch(new=list(items))
