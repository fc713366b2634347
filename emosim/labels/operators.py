"""Live operators' label events: the payload they send (HTTP or JSONL) and its conversion."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NotRequired, Required

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads TypedDicts from here on Python 3.11

from emosim.errors import DataError
from emosim.files import format_validation_error
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
    at about half the cost of building the model, with the same types, bounds and refusal of
    unknown keys, read from the model itself (`tests/test_labels_streams.py` compares both on
    good and bad lines). A line it refuses is read again by the model, for its messages."""
    fields: dict[str, Any] = {}
    for name, info in OperatorEvent.model_fields.items():
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = Required[kind] if info.is_required() else NotRequired[kind]
    line = TypedDict("OperatorLine", fields)  # type: ignore[operator]
    line.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return line


_LINE = TypeAdapter(_line_type())
_DEFAULTS = {n: f.default for n, f in OperatorEvent.model_fields.items() if not f.is_required()}


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
    problems: list[str] = []
    items: list[Pending] = []
    now = datetime.now(UTC)
    validate = _LINE.validate_json
    name = str(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.isspace():
            continue
        where = f"{name}:{number}"
        try:  # one pass in pydantic-core; a bad line is read again for a precise message
            items.append(_pending({**_DEFAULTS, **validate(line)}, where, now))
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
    if not items:
        raise DataError([f"{path}: no events"])
    return items
