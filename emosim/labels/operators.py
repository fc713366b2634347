"""Live operators' label events: the payload they send (HTTP or JSONL) and its conversion."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import partial
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any, NotRequired, Required

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads TypedDicts from here on Python 3.11

from emosim.errors import DataError
from emosim.files import format_validation_error
from emosim.heap import collection_paused
from emosim.schemas import LabelEvent
from emosim.schemas.common import StrictModel, Unit
from emosim.schemas.labels import LabelAction, LabelField

from .checks import Pending
from .eventjson import dumps_event
from .roles import SourceRef
from .targets import TargetKey

KIND = "live_operator"


class OperatorEvent(StrictModel):
    """One label decision by a live operator about one target."""

    conversation_id: str = Field(description="Conversation the label belongs to.")
    turn_index: int | None = Field(default=None, ge=0, description="Turn, if turn-level.")
    sentence_index: int | None = Field(default=None, ge=0, description="Sentence, if any.")
    field: LabelField = Field(description="Which label.")
    value: Any = Field(default=None, description="New value (emotion/strategy/function id...).")
    action: LabelAction = Field(default="correct", description="What the event does.")
    operator: str = Field(min_length=1, description="Operator handle.")
    tool_version: str = Field(default="", description="Version of the operator's tool.")
    confidence: Unit | None = Field(default=None, description="Operator's confidence 0..1.")
    reason: str = Field(default="", description="Why.")
    supersedes: str | None = Field(default=None, description="event_id corrected or retracted.")
    event_id: str | None = Field(
        default=None, description="Client-chosen id: resending the same event stores it once."
    )
    created_at: datetime | None = Field(default=None, description="When (default: received).")

    def pending(self, where: str, now: datetime) -> Pending:
        """The event to store, as the checks read it, and its stored JSON: built straight
        from this validated model (same types and bounds as LabelEvent's)."""
        return _pending(self.__dict__, where, now)

    def to_event(self, now: datetime | None = None) -> LabelEvent:
        return self.pending("", now or datetime.now(UTC)).event()


_new = tuple.__new__  # a NamedTuple from a tuple, without its Python-level __new__


def _pending(doc: dict[str, Any], where: str, now: datetime) -> Pending:
    """`OperatorEvent.pending` of a validated event's fields (a model's, or a line's)."""
    event_id = doc["event_id"] or f"op-{uuid.uuid4().hex}"
    created, action, value = doc["created_at"] or now, doc["action"], doc["value"]
    supersedes, operator = doc["supersedes"], doc["operator"]
    key = _new(
        TargetKey, (doc["conversation_id"], doc["turn_index"], doc["sentence_index"], doc["field"])
    )
    source = {"kind": KIND, "name": operator, "version": doc["tool_version"]}
    text = dumps_event(
        event_id, created, key, value, source, action, doc["confidence"], doc["reason"], supersedes
    )
    by = _new(SourceRef, (KIND, operator))
    return _new(Pending, (where, event_id, key, action, value, supersedes, created, by, text))


def _line_type() -> Any:
    """OperatorEvent's fields as a TypedDict: pydantic validates a line into a plain dict
    at about half the cost of building the model, with the same types, bounds, defaults and
    refusal of unknown keys, read from the model itself (`tests/test_labels_streams.py` and
    `tests/test_labels_ingest.py` compare both on good and bad lines). A line it refuses is
    read again by the model, for its messages."""
    fields: dict[str, Any] = {}
    for name, info in OperatorEvent.model_fields.items():
        if info.is_required():
            kind = (
                Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            )
            fields[name] = Required[kind]
        else:  # the default filled in by pydantic, as the model does
            fields[name] = NotRequired[
                Annotated[(info.annotation, *info.metadata, Field(default=info.default))]
            ]
    line = TypedDict("OperatorLine", fields)  # type: ignore[operator]
    line.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return line


_LINE = TypeAdapter(_line_type())
_DEFAULTS = {n: f.default for n, f in OperatorEvent.model_fields.items() if not f.is_required()}
_FIELDS = tuple(OperatorEvent.model_fields)
_COLUMNS = itemgetter(*_FIELDS)  # a validated line's values, in _FIELDS order


class OperatorBatch(StrictModel):
    """Body of POST /v1/events."""

    events: list[OperatorEvent] = Field(min_length=1, description="Events, in order.")


def read_operator_jsonl(path: Path) -> list[Pending]:
    """Every line of a JSONL batch as a live_operator event; all problems at once."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except UnicodeDecodeError as exc:
        raise DataError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    now = datetime.now(UTC)
    with collection_paused():
        items = _read_whole(text, str(path), now)
        if items is None:
            items = _read_lines(text, str(path), now)
    if not items:
        raise DataError([f"{path}: no events"])
    return items


def _read_whole(text: str, name: str, now: datetime) -> list[Pending] | None:
    """The batch read column by column, when every line is an event (no blank line, no
    line refused): one pydantic call per line, the rest over whole columns in C. None
    otherwise: `_read_lines` then reads line by line and names every problem."""
    # an ASCII text without CR breaks lines only at LF; else as str.splitlines does
    lines = text.split("\n") if text.isascii() and "\r" not in text else text.splitlines()
    if lines and not lines[-1]:
        lines.pop()
    if not lines:
        return None
    try:
        docs = list(map(_LINE.validator.validate_json, lines))
    except ValidationError:
        return None
    col = dict(zip(_FIELDS, zip(*map(_COLUMNS, docs), strict=True), strict=True))
    ids, created = col["event_id"], col["created_at"]
    if None in ids or "" in ids:
        ids = tuple(i or f"op-{uuid.uuid4().hex}" for i in ids)
    if None in created:
        created = tuple(now if c is None else c for c in created)
    keys = list(
        map(_new_key, zip(col["conversation_id"], col["turn_index"], col["sentence_index"],
                          col["field"], strict=True))
    )  # fmt: skip
    operators, versions = col["operator"], col["tool_version"]
    people = {o: SourceRef(KIND, o) for o in set(operators)}
    sources = {
        (o, v): {"kind": KIND, "name": o, "version": v}
        for o, v in set(zip(operators, versions, strict=True))
    }
    texts = list(
        map(dumps_event, ids, created, keys, col["value"],
            map(sources.__getitem__, zip(operators, versions, strict=True)), col["action"],
            col["confidence"], col["reason"], col["supersedes"])
    )  # fmt: skip
    where = map("{}:{}".format, repeat(name), range(1, len(lines) + 1))
    return list(
        map(_new_pending, zip(where, ids, keys, col["action"], col["value"], col["supersedes"],
                              created, map(people.__getitem__, operators), texts, strict=True))
    )  # fmt: skip


_new_key = partial(tuple.__new__, TargetKey)
_new_pending = partial(tuple.__new__, Pending)


def _read_lines(text: str, name: str, now: datetime) -> list[Pending]:
    """Line by line: blank lines skipped, every refused line named with its problem."""
    problems: list[str] = []
    items: list[Pending] = []
    validate = _LINE.validate_json
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.isspace():
            continue
        where = f"{name}:{number}"
        try:  # one pass in pydantic-core; a bad line is read again for a precise message
            items.append(_pending(validate(line), where, now))
            continue
        except ValidationError:
            pass
        try:  # the model itself has the last word on what a line may say
            items.append(OperatorEvent.model_validate_json(line).pending(where, now))
            continue
        except ValidationError:
            pass
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            items.append(OperatorEvent.model_validate(doc).pending(where, now))
        except ValidationError as exc:
            problems.extend(format_validation_error(exc, where))
    if problems:
        raise DataError([*problems, "nothing was stored"])
    return items
