"""Label ingest's fast paths give what the careful paths give (issue 22: ingest speed).

`labels ingest` reads operator lines through a TypedDict made from `OperatorEvent`, checks a
batch as a whole (`quick_batch`) before going event by event (`check_events`), and writes
each row's chain hash inline: each is compared here with the path it stands in for.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from emosim.errors import DataError
from emosim.labels.chain import link
from emosim.labels.checks import Pending, StoredRef, check_events, quick_batch
from emosim.labels.operators import _DEFAULTS, _LINE, OperatorEvent, _pending
from emosim.labels.roles import Member, Role, Roles
from emosim.labels.store import event_rows, utc
from emosim.labels.targets import TurnShape
from emosim.schemas import LabelEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = {"conversation_id": "c1", "turn_index": 0, "field": "emotion", "operator": "ann"}


def _line(**change) -> str:
    doc = {**BASE, "event_id": "e1", "value": "anxiety", **change}
    return json.dumps({k: v for k, v in doc.items() if v is not ...})


LINES = [
    _line(),
    _line(action="accept", value=None, supersedes="m1"),
    _line(turn_index="2"),
    _line(turn_index=2.0),
    _line(turn_index=2.5),
    _line(turn_index=-1),
    _line(turn_index=True),
    _line(turn_index=None, field="quality", value=0.5),
    _line(sentence_index=1, field="sentence_function", turn_index=1, value="acknowledge_emotion"),
    _line(sentence_index=-2),
    _line(field="mood"),
    _line(action="undo"),
    _line(operator=""),
    _line(operator=7),
    _line(operator=...),
    _line(conversation_id=...),
    _line(conversation_id=None),
    _line(confidence=1),
    _line(confidence="0.5"),
    _line(confidence=1.5),
    _line(confidence=None),
    _line(reason=None),
    _line(tool_version="op-ui 2"),
    _line(created_at="2026-02-01T00:00:01Z"),
    _line(created_at="2026-02-01T09:30:00.25+05:30"),
    _line(created_at="2026-02-01"),
    _line(created_at="2026-02-30T00:00:00Z"),
    _line(created_at=1_770_000_000),
    _line(created_at="soon"),
    _line(value=["a", "b"], field="candidate_ranking", turn_index=1),
    _line(value={"nested": [1, 2]}),
    _line(value=2**70),
    _line(event_id=None),
    _line(supersedes=3),
    _line(colour="red"),
    "[]",
    '"text"',
    "{}",
]


def test_the_operator_model_has_no_validators_a_typeddict_would_skip() -> None:
    """The TypedDict carries the fields' types and bounds, not the model's own validators:
    one added to OperatorEvent must be added to the line reader too."""
    found = OperatorEvent.__pydantic_decorators__
    assert not (found.field_validators or found.model_validators or found.validators)


@pytest.mark.parametrize("line", LINES)
def test_operator_lines_read_as_the_model_reads_them(line: str) -> None:
    """Same acceptance, same event (target, value types, date, JSON stored) for each line."""
    try:
        model = OperatorEvent.model_validate_json(line)
    except ValidationError:
        model = None
    try:
        fast = _LINE.validate_json(line)
    except ValidationError:
        fast = None
    assert (fast is None) == (model is None), line
    if model is not None and model.event_id is not None:
        expected = model.pending("f:1", NOW)
        got = _pending({**_DEFAULTS, **fast}, "f:1", NOW)
        assert got == expected
        assert [type(v) for v in got] == [type(v) for v in expected]
        assert LabelEvent.model_validate_json(got.json) == expected.event()


# --- checking a batch as a whole -------------------------------------------------------------

SHAPES = {
    "c1": [TurnShape("client", 0), TurnShape("advisor", 2), TurnShape("client", 0)],
    "c2": [TurnShape("client", 0), TurnShape("advisor", 1)],
}
ROLES = Roles(
    roles={"lead": Role(supersede_others=True)},
    members=[Member(name="boss", kinds=["live_operator"], role="lead")],
)


def _event(n: int, rng: random.Random) -> LabelEvent:
    """A valid event: a label of a turn, sentence or conversation, or a decision on a
    stored event of its own target that its author may make."""
    cid = rng.choice(["c1", "c1", "c2"])
    target: dict = {"conversation_id": cid, "turn_index": 0, "field": "emotion"}
    value: object = rng.choice(["anxiety", "relief", "shame"])
    pick = rng.random()
    if pick < 0.15:
        target = {"conversation_id": cid, "turn_index": 1, "sentence_index": 0}
        target["field"], value = "sentence_function", "acknowledge_emotion"
    elif pick < 0.25:
        target, value = {"conversation_id": cid, "field": "quality"}, rng.choice([0.4, 1, 0.0])
    elif pick < 0.3:
        target["field"], value = "intensity", rng.choice([0.3, 1, 0.9])
    action, supersedes, name = "correct", None, rng.choice(["ann", "bob", "boss"])
    own = target == {"conversation_id": "c1", "turn_index": 0, "field": "emotion"}
    if own and rng.random() < 0.7:  # decide on a stored event of this target
        supersedes = rng.choice(["s-model", "s-ann"])
        choices = ["accept", "correct", "reject"]
        if supersedes == "s-ann":
            name = rng.choice(["ann", "boss"])
            choices.append("retract")
        action = rng.choice(choices)
        if action in ("reject", "retract") or (action == "accept" and rng.random() < 0.5):
            value = None
    return LabelEvent.model_validate(
        {
            "event_id": f"e{n}",
            "created_at": NOW - timedelta(minutes=rng.randint(0, 600)),
            "target": target,
            "value": value,
            "source": {"kind": "live_operator", "name": name},
            "action": action,
            "supersedes": supersedes,
        }
    )


def _spoil(events: list[LabelEvent], rng: random.Random) -> str:
    """Change one event of the batch in one way a check must catch (or a resend must be
    recognised); returns what was done, for the failure message."""
    i = rng.randrange(len(events))
    e = events[i]
    t = e.target
    how = rng.choice(
        [
            "unknown conversation", "turn out of range", "advisor field on a client turn",
            "sentence out of range", "bad value", "bool intensity", "no value", "future",
            "naive date", "duplicate id", "retract without supersedes", "bare reject",
            "unknown supersedes", "supersedes a later event", "supersedes another target",
            "another person's event", "lead takes over", "list value", "int 1 as intensity",
        ]
    )  # fmt: skip
    change: dict = {}
    if how == "unknown conversation":
        change["target"] = t.model_copy(update={"conversation_id": "c9"})
    elif how == "turn out of range":
        change["target"] = t.model_copy(update={"turn_index": 7, "sentence_index": None})
    elif how == "advisor field on a client turn":
        change["target"] = t.model_copy(update={"turn_index": 0, "field": "strategy"})
    elif how == "sentence out of range":
        update = {"turn_index": 1, "sentence_index": 5, "field": "sentence_function"}
        change["target"] = t.model_copy(update=update)
    elif how == "bad value":
        change["value"] = "glee"
    elif how == "bool intensity":
        change.update(value=True, target=t.model_copy(update={"field": "intensity"}))
    elif how == "int 1 as intensity":
        change.update(value=1, target=t.model_copy(update={"field": "intensity"}))
    elif how == "no value":
        change.update(value=None, action="correct")
    elif how == "future":
        change["created_at"] = NOW + timedelta(hours=1)
    elif how == "naive date":
        change["created_at"] = (NOW - timedelta(minutes=3)).replace(tzinfo=None)
    elif how == "duplicate id":
        change["event_id"] = events[rng.randrange(len(events))].event_id
    elif how == "retract without supersedes":
        change.update(action="retract", supersedes=None)
    elif how == "bare reject":
        change.update(action="reject", supersedes=None, value=None)
    elif how == "unknown supersedes":
        change["supersedes"] = "nowhere"
    elif how == "supersedes a later event" and i + 1 < len(events):
        change["supersedes"] = events[-1].event_id
    elif how == "supersedes another target":
        change["supersedes"] = "s-quality"
    elif how == "another person's event":
        change.update(supersedes="s-ann", source=e.source.model_copy(update={"name": "bob"}))
    elif how == "lead takes over":
        change.update(supersedes="s-ann", source=e.source.model_copy(update={"name": "boss"}))
        change["target"] = t.model_copy(update={"conversation_id": "c1", "turn_index": 0})
        change["target"] = change["target"].model_copy(update={"field": "emotion"})
        change["target"] = change["target"].model_copy(update={"sentence_index": None})
    elif how == "list value":
        change.update(value=["x1", "x2"], action="correct", supersedes=None)
        change["target"] = t.model_copy(
            update={"turn_index": 1, "sentence_index": None, "field": "candidate_ranking"}
        )
    events[i] = e.model_copy(update=change)
    return how


def _stored() -> dict[str, StoredRef]:
    docs = [
        ("s-model", {"conversation_id": "c1", "turn_index": 0, "field": "emotion"}, "model"),
        ("s-ann", {"conversation_id": "c1", "turn_index": 0, "field": "emotion"}, "live_operator"),
        ("s-quality", {"conversation_id": "c2", "field": "quality"}, "model"),
    ]
    refs = {}
    for event_id, target, kind in docs:
        e = LabelEvent.model_validate(
            {
                "event_id": event_id,
                "created_at": NOW - timedelta(days=1),
                "target": target,
                "value": 0.5 if target["field"] == "quality" else "anxiety",
                "source": {"kind": kind, "name": "ann" if kind == "live_operator" else "m"},
                "action": "suggest",
            }
        )
        p = Pending.of("stored", e)
        refs[event_id] = StoredRef(p.event_id, p.key, p.source, p.json)
    return refs


def test_a_batch_passed_as_a_whole_is_what_event_by_event_checks_pass(catalog) -> None:
    """Random batches, most with one planted problem (or a resend): the whole-batch check
    passes a batch only when the event-by-event check stores every event of it as new."""
    rng = random.Random(22)
    stored = _stored()
    passed = spoiled_passed = 0
    for round_ in range(400):
        events = [_event(n, rng) for n in range(rng.randint(1, 12))]
        for j in range(1, len(events)):  # some supersede an earlier event of the batch
            if rng.random() < 0.2 and events[j - 1].target == events[j].target:
                events[j] = events[j].model_copy(update={"supersedes": events[j - 1].event_id})
        how = _spoil(events, rng) if round_ % 4 else "clean"
        items = [Pending.of(f"b:{k}", e) for k, e in enumerate(events)]
        if how != "clean" and rng.random() < 0.2:  # a resend of a stored event
            items.append(Pending.of("resend", stored["s-model"].event()))
        args = (items, SHAPES.get, stored, catalog, ROLES)
        try:
            careful = check_events(*args, now=NOW)
        except DataError:
            careful = None
        quick = quick_batch(*args, now=NOW)
        if quick is not None:
            assert careful is not None, how
            assert quick.new == careful.new == items and not careful.already_stored, how
            passed += 1
            spoiled_passed += how != "clean"
    assert passed > 100  # the fast path is taken, not only declined
    assert spoiled_passed > 0  # changes a check allows (e.g. a lead's) pass as a whole too


def test_rows_are_chained_as_the_chain_check_recomputes_them() -> None:
    """Each row's hash is `chain.link` of the one before and the row; dates are stored in UTC
    as `isoformat` writes them (any offset, naive read as UTC, with and without microseconds)."""
    moments = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 2, 3, 4, 5, 7),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-8))),
        OperatorEvent.model_validate_json(_line(created_at="2026-02-01T00:00:01+00:00")).created_at,
    ]
    items = []
    for n, moment in enumerate(moments):
        p = Pending.of(f"x:{n}", LabelEvent.model_validate({
            "event_id": f"r{n}", "created_at": moment, "source": {"kind": "model", "name": "m"},
            "target": {"conversation_id": "c1", "turn_index": 0, "field": "emotion"},
            "value": "anxiety", "action": "suggest",
        }))  # fmt: skip
        items.append(p._replace(created_at=moment))
    rows = event_rows(items, "head", "2026-03-01T00:00:00+00:00")
    prev = "head"
    for row, moment in zip(rows, moments, strict=True):
        assert row[8] == utc(moment).isoformat()
        assert row[-1] == link(prev, row[:-1])
        prev = row[-1]


def test_a_bool_is_not_taken_for_the_number_it_equals(catalog) -> None:
    """True == 1, yet an intensity of true is refused: the batch check keeps them apart."""
    events = [
        LabelEvent.model_validate(
            {
                "event_id": f"i{n}",
                "created_at": NOW,
                "value": value,
                "action": "correct",
                "target": {"conversation_id": "c1", "turn_index": 0, "field": "intensity"},
                "source": {"kind": "live_operator", "name": "ann"},
            }
        )  # fmt: skip
        for n, value in enumerate([1, True])
    ]
    items = [Pending.of(f"b:{n}", e) for n, e in enumerate(events)]
    args = (items, SHAPES.get, {}, catalog, ROLES)
    assert quick_batch(*args, now=NOW) is None
    with pytest.raises(DataError, match="expected a number 0..1, got True"):
        check_events(*args, now=NOW)
    assert quick_batch(items[:1], SHAPES.get, {}, catalog, ROLES, now=NOW) is not None


# --- reading a file column by column ----------------------------------------------------------


def _good_lines() -> list[str]:
    """The lines of LINES the model accepts, each with an id of its own."""
    out = []
    for n, line in enumerate(LINES):
        doc = json.loads(line)
        if not isinstance(doc, dict):
            continue
        try:
            OperatorEvent.model_validate_json(line)
        except ValidationError:
            continue
        if "event_id" in doc and doc["event_id"] is not None:
            doc["event_id"] = f"e{n}"
        out.append(json.dumps(doc))
    return out


def _raw_line(**change) -> str:
    """A line with its text unescaped (json.dumps writes non-ASCII as \\u escapes)."""
    return json.dumps({**BASE, "value": "anxiety", **change}, ensure_ascii=False)


def _no_random_id(p: Pending) -> Pending:
    """A line without an id gets a random one: compared without it."""
    return p._replace(event_id="", json="") if p.event_id.startswith("op-") else p


@pytest.mark.parametrize(
    "shape",
    ["lf", "crlf", "no final newline", "blank line", "non-ascii", "line separator in a value",
     "a bad line", "form feed"],
)  # fmt: skip
def test_a_file_read_as_a_whole_is_what_reading_line_by_line_gives(shape: str) -> None:
    """The whole-file reader gives the line reader's events (ids, targets, types, dates,
    stored JSON, line numbers), or declines (None) and leaves the file to it."""
    from emosim.labels.operators import _read_lines, _read_whole

    lines = _good_lines()
    assert len(lines) > 10
    end = "\n"
    if shape == "crlf":
        end = "\r\n"
    elif shape == "blank line":
        lines.insert(3, "   ")
    elif shape == "non-ascii":
        lines.append(_raw_line(event_id="e-nonascii", operator="Zoë", reason="très bien"))
    elif shape == "line separator in a value":
        lines.append(_raw_line(event_id="e-sep", reason="one\u2028two"))
    elif shape == "a bad line":
        lines.append(_line(event_id="e-bad", turn_index=-1))
    elif shape == "form feed":
        lines.append(_line(event_id="e-ff")[:-1] + "\x0c}")
    text = end.join(lines) + ("" if shape == "no final newline" else end)
    whole = _read_whole(text, "f.jsonl", NOW)
    try:
        careful = _read_lines(text, "f.jsonl", NOW)
    except DataError:
        careful = None
    if shape in ("blank line", "a bad line", "line separator in a value", "form feed"):
        assert whole is None
        return
    assert whole is not None and careful is not None
    assert list(map(_no_random_id, whole)) == list(map(_no_random_id, careful))
    for a, b in zip(whole, careful, strict=True):
        assert [type(v) for v in a] == [type(v) for v in b]
        if not a.event_id.startswith("op-"):
            assert a.json == b.json


def test_collection_is_paused_for_a_batch_and_resumes_as_it_was() -> None:
    import gc

    from emosim.heap import collection_paused

    assert gc.isenabled()
    with pytest.raises(KeyError), collection_paused():
        assert not gc.isenabled()
        raise KeyError("a failing batch")
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()
