"""The exports' embedded label policy (used when the labels package is absent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emosim.errors import DataError
from emosim.exports.labels import resolve_embedded, resolve_events
from emosim.schemas import ConversationRecord, LabelEvent

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RID = "rec"


def ev(
    event_id: str,
    value: object,
    kind: str = "model",
    action: str = "suggest",
    minutes: int = 0,
    supersedes: str | None = None,
    field: str = "emotion",
    turn: int | None = 0,
    sentence: int | None = None,
    conversation: str = RID,
) -> LabelEvent:
    return LabelEvent.model_validate(
        {
            "event_id": event_id,
            "created_at": T0 + timedelta(minutes=minutes),
            "target": {
                "conversation_id": conversation,
                "turn_index": turn,
                "sentence_index": sentence,
                "field": field,
            },
            "value": value,
            "source": {"kind": kind, "name": f"{kind}-1"},
            "action": action,
            "supersedes": supersedes,
        }
    )


def test_priority_beats_recency_and_latest_wins_within_a_kind() -> None:
    events = [
        ev("m1", "anxiety", "model", minutes=0),
        ev("h1", "worry", "human_bulk_review", minutes=1),
        ev("m2", "fear", "model", minutes=5),  # later, but a lower-priority source
    ]
    assert resolve_events(events).value == "worry"
    events.append(ev("h2", "dread", "human_bulk_review", minutes=3))
    assert resolve_events(events).value == "dread"
    events.append(ev("o1", "shame", "live_operator", "correct", minutes=2, supersedes="h2"))
    assert resolve_events(events).value == "shame"
    rule_only = [ev("r1", "hope", "rule", minutes=9), ev("m3", "calm", "model", minutes=10)]
    assert resolve_events(rule_only).value == "hope"


def test_retract_removes_the_event_it_supersedes() -> None:
    events = [
        ev("m1", "anxiety"),
        ev("h1", "worry", "human_bulk_review", minutes=1),
        ev("x1", None, "human_bulk_review", "retract", minutes=2, supersedes="h1"),
    ]
    assert resolve_events(events).value == "anxiety"
    # retracting the retraction restores the label
    events.append(ev("x2", None, "human_bulk_review", "retract", minutes=3, supersedes="x1"))
    assert resolve_events(events).value == "worry"


def test_reject_marks_a_value_rejected_until_a_stronger_source_says_it_again() -> None:
    events = [
        ev("m1", "anxiety", minutes=0),
        ev("j1", "anxiety", "human_bulk_review", "reject", minutes=1),
    ]
    resolution = resolve_events(events)
    assert resolution.has_events and not resolution.resolved and resolution.value is None
    events.append(ev("m2", "anxiety", "model", minutes=5))  # a weaker source repeats it: no
    assert not resolve_events(events).resolved
    events.append(ev("o1", "anxiety", "live_operator", "accept", minutes=6))  # stronger: yes
    assert resolve_events(events).value == "anxiety"
    # a reject of one event drops that event; other values survive
    other = [
        ev("m1", "anxiety"),
        ev("m2", "worry", minutes=1),
        ev("j", None, "rule", "reject", 2, "m2"),
    ]
    assert resolve_events(other).value == "anxiety"


def test_accept_without_value_takes_the_accepted_events_value() -> None:
    events = [ev("m1", "hope"), ev("a1", None, "human_bulk_review", "accept", 1, "m1")]
    resolution = resolve_events(events)
    assert resolution.value == "hope" and resolution.event.event_id == "a1"


@pytest.fixture()
def seed(root: Path) -> dict:
    doc = json.loads((root / "seeds" / "seed_investing_shame_to_empowerment.json").read_text())
    doc["id"] = RID
    doc["label_events"] = []
    return doc


def _resolved(doc: dict, events: list[LabelEvent], catalog) -> ConversationRecord:
    doc = {**doc, "label_events": [json.loads(e.model_dump_json()) for e in events]}
    return resolve_embedded(ConversationRecord.model_validate(doc), catalog)


def test_record_labels_are_replaced_by_the_resolved_ones(seed, catalog) -> None:
    events = [
        ev("e1", "anxiety", "live_operator", "correct", turn=0),
        ev("i1", 0.3, "human_bulk_review", field="intensity", turn=0),
        ev("s1", "normalizing", "human_bulk_review", field="strategy", turn=1),
        ev("f1", "ask_open_question", "rule", field="sentence_function", turn=1, sentence=0),
        ev("r1", "approved", "human_bulk_review", field="review_status", turn=None),
        ev("e2", "hope", turn=2),
        ev("e3", "hope", "human_bulk_review", "reject", 1, turn=2),
    ]
    original = ConversationRecord.model_validate(seed)
    record = _resolved(seed, events, catalog)
    a = record.turns[0].annotation
    assert (a.primary, a.family, a.intensity, a.intensity_level) == ("anxiety", "fear", 0.3, "low")
    strategies = record.turns[1].strategies
    assert strategies.primary == "normalizing" and "normalizing" not in strategies.combination
    assert record.turns[1].sentences[0].function == "ask_open_question"
    assert record.quality.review_status == "approved"
    assert record.turns[2].annotation is None  # its only emotion label was rejected
    assert record.turns[4].annotation == original.turns[4].annotation  # no events: unchanged
    assert original.turns[0].annotation.primary == "shame"  # the input is not modified


def test_an_emotion_label_on_an_unannotated_turn_needs_an_intensity(seed, catalog) -> None:
    seed["turns"][0]["annotation"] = None
    record = _resolved(seed, [ev("e1", "worry", "human_bulk_review")], catalog)
    assert record.turns[0].annotation is None
    events = [
        ev("e1", "worry", "human_bulk_review"),
        ev("i1", 0.75, "human_bulk_review", field="intensity"),
    ]
    a = _resolved(seed, events, catalog).turns[0].annotation
    assert (a.primary, a.family, a.intensity_level) == ("worry", "fear", "high")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (ev("b1", "glee"), "unknown emotion id 'glee'"),
        (ev("b2", "anxiety", turn=1), "turn_index 1 is not a client turn"),
        (ev("b3", "anxiety", turn=99), "turn_index 99 is not a client turn"),
        (ev("b4", "teleport", field="strategy", turn=1), "unknown strategy id 'teleport'"),
        (ev("b5", 7, field="intensity"), "intensity must be a number between 0 and 1"),
        (ev("b6", "validate", field="sentence_function", turn=1, sentence=40), "sentence_index 40"),
        (ev("b7", "fine", field="review_status", turn=None), "review_status"),
    ],
)
def test_bad_label_events_name_the_record_event_field_and_value(
    seed, catalog, event, message
) -> None:
    with pytest.raises(DataError) as caught:
        _resolved(seed, [event], catalog)
    text = str(caught.value)
    assert f"record {RID!r}" in text and f"label event {event.event_id!r}" in text
    assert f"field {event.target.field!r}" in text and message in text
