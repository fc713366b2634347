"""Deriving current labels from label events, by the resolution policy.

`resolve_events` gives every target's resolution (winner, per-source opinions, what was
retracted or rejected); `resolve_record` returns a copy of a record whose annotations
carry the resolved labels (the exports use it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import Field

from emosim.catalog import Catalog, get_catalog
from emosim.schemas import (
    AdvisorTurn,
    ClientTurn,
    ConversationRecord,
    EmotionAnnotation,
    LabelEvent,
    LabelSource,
    LabelTarget,
    StrategyUse,
    intensity_level,
)
from emosim.schemas.common import StrictModel

from .checks import key_of
from .policy import HUMAN_KINDS, ResolutionPolicy
from .store import utc
from .targets import TargetKey

if TYPE_CHECKING:
    from .store import LabelStore

ASSERTIONS = ("suggest", "accept", "correct")


def comparable(field_name: str, value: Any) -> Any:
    """What two labels must share to agree: intensities agree within one band."""
    if field_name == "intensity" and isinstance(value, int | float):
        return intensity_level(float(value))
    return value


@dataclass
class Candidate:
    event: LabelEvent
    value: Any
    order: int

    @property
    def kind(self) -> str:
        return self.event.source.kind


@dataclass
class Resolution:
    """Everything the policy decided about one target."""

    key: TargetKey
    winner: Candidate | None
    candidates: list[Candidate]
    retracted: list[LabelEvent] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)
    decided_by: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        if self.winner is not None:
            return "labelled"
        return "rejected" if self.rejected else "unlabelled"

    @cached_property
    def opinions(self) -> list[Candidate]:
        """The latest surviving value of each source (kind and name)."""
        latest: dict[tuple[str, str], Candidate] = {}
        for c in self.candidates:
            latest[(c.kind, c.event.source.name)] = c
        return sorted(latest.values(), key=lambda c: c.order)

    @cached_property
    def disagreement(self) -> bool:
        return len({repr(comparable(self.key.field, c.value)) for c in self.opinions}) > 1


def _pick(candidates: list[Candidate], policy: ResolutionPolicy) -> Candidate | None:
    if not candidates:
        return None
    if policy.within_kind == "highest_confidence":
        return max(candidates, key=lambda c: (c.event.confidence or 0.0, c.order))
    return max(candidates, key=lambda c: c.order)


def _resolve_target(
    key: TargetKey, events: list[LabelEvent], policy: ResolutionPolicy
) -> Resolution:
    if len(events) == 1 and events[0].action in ("suggest", "correct"):  # the common case
        only = Candidate(events[0], events[0].value, 0)
        return Resolution(key, only, [only], decided_by={only.kind})
    by_id = {e.event_id: e for e in events}
    retractors: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e.action == "retract" and e.supersedes:
            retractors[e.supersedes].append(e.event_id)
    memo: dict[str, bool] = {}

    def effective(event_id: str, visiting: frozenset[str] = frozenset()) -> bool:
        if event_id not in memo:
            if event_id in visiting:
                return True
            inner = visiting | {event_id}
            memo[event_id] = not any(effective(r, inner) for r in retractors.get(event_id, ()))
        return memo[event_id]

    live = {e.event_id for e in events if effective(e.event_id)}
    retracted = [e for e in events if e.event_id not in live]
    candidates: list[Candidate] = []
    for order, e in enumerate(events):
        if e.event_id not in live or e.action not in ASSERTIONS:
            continue
        value = e.value
        if e.action == "accept" and value is None:
            accepted = by_id.get(e.supersedes or "")
            if accepted is None:
                continue
            value = accepted.value
        candidates.append(Candidate(e, value, order))
    rejected: list[Candidate] = []
    for order, e in enumerate(events):
        if e.action != "reject" or e.event_id not in live:
            continue
        if e.supersedes:
            hit = [c for c in candidates if c.event.event_id == e.supersedes]
        else:
            hit = [c for c in candidates if c.order < order and c.value == e.value]
        rejected.extend(hit)
        gone = {id(c) for c in hit}
        candidates = [c for c in candidates if id(c) not in gone]
    winner = None
    for kind in policy.priority:
        winner = _pick([c for c in candidates if c.kind == kind], policy)
        if winner is not None:
            break
    decided_by = {e.source.kind for e in events if e.event_id in live and e.action != "retract"}
    return Resolution(key, winner, candidates, retracted, rejected, decided_by)


def chronological(events: Iterable[LabelEvent]) -> list[LabelEvent]:
    """Sorted by creation time; events made at the same moment keep their stored order."""
    return sorted(events, key=lambda e: utc(e.created_at))


def resolve_events(
    events: Iterable[LabelEvent], policy: ResolutionPolicy | None = None
) -> dict[TargetKey, Resolution]:
    policy = policy or ResolutionPolicy()
    grouped: dict[TargetKey, list[LabelEvent]] = defaultdict(list)
    for e in chronological(events):
        grouped[key_of(e)].append(e)
    return {key: _resolve_target(key, evs, policy) for key, evs in grouped.items()}


# --- published rows ------------------------------------------------------------------------


class Opinion(StrictModel):
    source: LabelSource = Field(description="Who holds this value.")
    value: Any = Field(description="The value the source's latest surviving event gives.")
    event_id: str = Field(description="That event.")
    created_at: datetime = Field(description="When it was made.")


class ResolvedLabel(StrictModel):
    """The current label of one target and how it was decided."""

    target: LabelTarget = Field(description="The label.")
    status: str = Field(
        description="labelled; rejected (every value was rejected); unlabelled (only retracted)."
    )
    value: Any = Field(default=None, description="The current value (None unless labelled).")
    event_id: str | None = Field(default=None, description="The winning event.")
    source: LabelSource | None = Field(default=None, description="Source of the winning event.")
    action: str | None = Field(default=None, description="Action of the winning event.")
    disagreement: bool = Field(description="Whether sources' latest values differ.")
    opinions: list[Opinion] = Field(description="Latest surviving value of every source.")
    events: int = Field(description="How many events the target has.")


def resolved_row(resolution: Resolution, n_events: int) -> ResolvedLabel:
    k = resolution.key
    w = resolution.winner
    return ResolvedLabel(
        target=LabelTarget(
            conversation_id=k.conversation_id,
            turn_index=k.turn_index,
            sentence_index=k.sentence_index,
            field=k.field,  # type: ignore[arg-type]
        ),
        status=resolution.status,
        value=w.value if w else None,
        event_id=w.event.event_id if w else None,
        source=w.event.source if w else None,
        action=w.event.action if w else None,
        disagreement=resolution.disagreement,
        opinions=[
            Opinion(
                source=c.event.source,
                value=c.value,
                event_id=c.event.event_id,
                created_at=c.event.created_at,
            )
            for c in resolution.opinions
        ],
        events=n_events,
    )


def resolved_rows(
    events: list[LabelEvent], policy: ResolutionPolicy | None = None
) -> list[ResolvedLabel]:
    """Every target's resolved label, in conversation order."""
    counts: Counter[TargetKey] = Counter(key_of(e) for e in events)
    resolutions = resolve_events(events, policy)
    return [
        resolved_row(resolutions[k], counts[k]) for k in sorted(resolutions, key=TargetKey.sort_key)
    ]


def resolve_store(
    store: LabelStore, policy: ResolutionPolicy | None = None
) -> Iterator[ResolvedLabel]:
    """`resolved_rows` of a whole store (same rows, same order), conversation by conversation:
    a store of any size resolves in the memory of its largest conversation."""
    for _, events in store.events_by_conversation():
        yield from resolved_rows(events, policy)


# --- records -------------------------------------------------------------------------------


def _merged_events(record: ConversationRecord, events: Iterable[LabelEvent] | None) -> list:
    merged = {e.event_id: e for e in record.label_events}
    for e in events or ():
        if e.target.conversation_id == record.id:
            merged.setdefault(e.event_id, e)
    return chronological(merged.values())


def _tag(source: LabelSource) -> str:
    return f"{source.kind}:{source.name}" + (f"/{source.version}" if source.version else "")


def resolve_record(
    record: ConversationRecord,
    events: Iterable[LabelEvent] | None = None,
    *,
    policy: ResolutionPolicy | None = None,
    catalog: Catalog | None = None,
) -> ConversationRecord:
    """A copy of `record` whose annotations carry the resolved labels.

    `events` (e.g. from the label store) are merged with the record's embedded
    `label_events` (by event_id) and the copy embeds the merged history. A primary emotion
    or strategy whose every value was rejected clears the annotation / strategies (nothing
    trustworthy is left); other labels without a surviving value keep the record's value.
    """
    catalog = catalog or get_catalog()
    history = _merged_events(record, events)
    resolutions = resolve_events(history, policy)
    out = record.model_copy(deep=True)
    out.label_events = history

    def get(turn: int | None, name: str, sentence: int | None = None) -> Resolution | None:
        return resolutions.get(TargetKey(record.id, turn, sentence, name))

    for turn in out.turns:
        if isinstance(turn, ClientTurn):
            _apply_client(turn, get, catalog)
        elif isinstance(turn, AdvisorTurn):
            _apply_advisor(turn, get)
    status = get(None, "review_status")
    if status and status.winner:
        out.quality.review_status = status.winner.value
    quality = get(None, "quality")
    if quality and quality.winner:
        out.quality.scores["quality"] = float(quality.winner.value)
    return out


def _apply_client(turn: ClientTurn, get: Any, catalog: Catalog) -> None:
    emotion, secondary, intensity = (
        get(turn.index, "emotion"),
        get(turn.index, "secondary_emotion"),
        get(turn.index, "intensity"),
    )
    if emotion and emotion.status == "rejected":
        turn.annotation = None
        return
    a = turn.annotation
    if a is None:
        if not (emotion and emotion.winner and intensity and intensity.winner):
            return
        w = emotion.winner
        value = float(intensity.winner.value)
        turn.annotation = EmotionAnnotation(
            primary=w.value,
            family=catalog.emotion(w.value).family,
            intensity=value,
            intensity_level=intensity_level(value),
            confidence=w.event.confidence if w.event.confidence is not None else 1.0,
            observer=_tag(w.event.source),
        )
        a = turn.annotation
    if emotion and emotion.winner and emotion.winner.value != a.primary:
        w = emotion.winner
        a.primary = w.value
        a.family = catalog.emotion(w.value).family
        a.observer = _tag(w.event.source)
        if w.event.confidence is not None:
            a.confidence = w.event.confidence
        elif w.kind in HUMAN_KINDS:
            a.confidence = 1.0
    if secondary:
        if secondary.winner:
            a.secondary = secondary.winner.value
        elif secondary.status == "rejected":
            a.secondary = None
        if a.secondary == a.primary:
            a.secondary = None
    if intensity and intensity.winner:
        a.intensity = float(intensity.winner.value)
        a.intensity_level = intensity_level(a.intensity)


def _apply_advisor(turn: AdvisorTurn, get: Any) -> None:
    strategy = get(turn.index, "strategy")
    if strategy and strategy.status == "rejected":
        turn.strategies = None
    elif strategy and strategy.winner:
        w = strategy.winner
        old = turn.strategies
        if old is None or old.primary != w.value:
            combination = [s for s in (old.combination if old else []) if s != w.value]
            turn.strategies = StrategyUse(
                primary=w.value,
                combination=combination,
                confidence=w.event.confidence,
                source=_tag(w.event.source),
            )
    for sentence in turn.sentences:
        fn = get(turn.index, "sentence_function", sentence.index)
        if fn and fn.winner:
            sentence.function = fn.winner.value
