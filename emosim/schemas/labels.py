"""Label events: the append-only history every current label is resolved from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from .common import StrictModel, Unit

SourceKind = Literal["model", "rule", "human_bulk_review", "live_operator"]
LabelAction = Literal["suggest", "accept", "reject", "correct", "retract"]
LabelField = Literal[
    "emotion",
    "secondary_emotion",
    "intensity",
    "strategy",
    "sentence_function",
    "review_status",
    "quality",
    # human preference review (emosim/preferences): one event per reviewer and judgement
    "candidate_ranking",
    "conversation_verdict",
    "emotional_authenticity",
    "helpfulness",
]


class LabelTarget(StrictModel):
    conversation_id: str = Field(description="Record id the label belongs to.")
    turn_index: int | None = Field(default=None, ge=0, description="Turn, if turn-level.")
    sentence_index: int | None = Field(default=None, ge=0, description="Sentence, if any.")
    field: LabelField = Field(description="Which label this event is about.")


class LabelSource(StrictModel):
    kind: SourceKind = Field(description="Stream the event came from.")
    name: str = Field(description="Model id, rule id, reviewer or operator handle.")
    version: str = Field(default="", description="Version of the model, rule set or tool.")
    model_sha256: str = Field(
        default="", description="SHA-256 of the trained model file that made the label, if any."
    )
    data_sha256: str = Field(
        default="", description="SHA-256 of that model's training data (public files and labels)."
    )
    license: str = Field(
        default="",
        description="License the label inherits from the source's training data or corpus "
        "(empty: none beyond the record's own).",
    )

    @model_serializer(mode="wrap")
    def _drop_empty_provenance(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Sources without a trained model (reviewers, rules, lexicons) serialize as before."""
        data = handler(self)
        for key in _PROVENANCE:
            if key in data and not data[key]:
                del data[key]
        return data


_PROVENANCE = ("model_sha256", "data_sha256", "license")


class LabelEvent(StrictModel):
    event_id: str = Field(description="Unique id of this event.")
    created_at: datetime = Field(description="When the event was made (UTC).")
    target: LabelTarget = Field(description="The label the event is about.")
    value: Any = Field(description="The label value (an id, a number or a small object).")
    source: LabelSource = Field(description="Who or what made the event.")
    action: LabelAction = Field(description="What the event does to the target's label.")
    confidence: Unit | None = Field(default=None, description="Source's confidence 0..1.")
    reason: str = Field(default="", description="Why the source made this event.")
    supersedes: str | None = Field(
        default=None, description="event_id this event corrects, rejects or retracts."
    )
