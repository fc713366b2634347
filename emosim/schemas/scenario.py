"""Model of a scenario file in `simulations/`: what one simulated conversation should be."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .common import (
    LENGTH_CLASS_EXCHANGES,
    Identifier,
    LengthClass,
    NonBlank,
    StrictModel,
    Unit,
)
from .persona import ArcStep

Phase = Literal["template", "scenario_driven", "edge_case"]
VariationAxis = Literal[
    "topic", "emotion", "strategy_context", "intensity", "persona", "length", "fork"
]


class LineageInfo(StrictModel):
    seed_id: str | None = Field(default=None, description="Root seed of the family.")
    parent_id: str | None = Field(default=None, description="Direct parent scenario/record.")
    axis: VariationAxis | None = Field(default=None, description="Variation axis applied.")
    changed: dict[str, str] = Field(
        default_factory=dict, description="Field -> new value changed by the variation."
    )
    fork_checkpoint: str | None = Field(
        default=None, description="Checkpoint id a fork started from."
    )


class Scenario(StrictModel):
    id: Identifier
    title: NonBlank = Field(description="Short human title.")
    topic: Identifier = Field(description="Topic id from taxonomies/topics.yaml.")
    subcategory: Identifier = Field(description="Sub-category id within the topic.")
    client_persona: Identifier = Field(description="Persona id from personas/clients/.")
    advisor_persona: Identifier = Field(default="elena_morales")
    length_class: LengthClass = Field(
        description="short (2-3 exchanges), medium (4-6) or long (7-10)."
    )
    exchanges: int = Field(ge=2, le=10, description="Client/advisor exchanges to play.")
    phase: Phase = Field(
        default="scenario_driven",
        description="Generation phase: template, scenario_driven or edge_case.",
    )
    situation: NonBlank = Field(description="What brings the client to Elena today.")
    arc: Annotated[list[ArcStep], Field(min_length=1)] | None = Field(
        default=None,
        description="Hidden emotional arc; the persona's default arc if absent (an empty list "
        "is an error, not the default).",
    )
    anti_pattern_rate: Unit = Field(
        default=0.15, description="Share of first drafts that deliberately use an anti-pattern."
    )
    max_redrafts: int = Field(
        description="Redrafts allowed after a critic rejection.", default=2, ge=0, le=5
    )
    seed: int = Field(default=0, description="Default random seed.")
    backend: str | dict[str, str] | None = Field(
        default=None,
        description="Backend spec for this scenario (e.g. 'scripted', 'anthropic', or role -> "
        "backend such as {client: anthropic, '*': scripted}); the run's --backend if absent.",
    )
    lineage: LineageInfo = Field(
        description="Where this scenario comes from (seed, parent, axis).",
        default_factory=LineageInfo,
    )

    @model_validator(mode="after")
    def _exchanges_fit_length_class(self) -> Scenario:
        lo, hi = LENGTH_CLASS_EXCHANGES[self.length_class]
        if not lo <= self.exchanges <= hi:
            raise ValueError(
                f"exchanges={self.exchanges} does not fit length_class "
                f"{self.length_class!r} ({lo}-{hi})"
            )
        return self
