"""What the conversation knows as figures: facts the client stated, and where every figure in
an advisor reply comes from. Part of the record, so that every number a trained model sees
is traceable to the client's words, a calculation, or the vetted fact base."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import StrictModel

Unit = Literal["usd", "usd_per_month", "usd_per_year", "percent", "age", "years", "months"]
FactKind = Literal[
    "savings",
    "income",
    "cost",
    "debt",
    "payment",
    "rate",
    "age",
    "duration",
    "windfall",
    "tax_due",
    "loss",
    "gain",
    "amount",
]
Origin = Literal["client_fact", "calculation", "fact_base"]


class StatedFact(StrictModel):
    """A figure the client stated, with what it means, read from the client's text alone."""

    id: str = Field(description="Stable id within the conversation, e.g. 't2-f1'.")
    turn: int = Field(ge=0, description="Index of the client turn that stated it.")
    kind: FactKind = Field(description="What the figure is: a balance, an income, a rate...")
    value: float = Field(description="The number, in `unit`.")
    unit: Unit = Field(description="Unit of `value`.")
    text: str = Field(description="The figure as written, e.g. '$1,400 a month'.")
    start: int = Field(ge=0, description="Character offset of the figure in the turn's text.")
    end: int = Field(ge=0, description="End offset (exclusive).")
    evidence: str = Field(description="The clause that states it, as the client wrote it.")
    subject: str = Field(
        default="", description="A few words naming what it is about ('checking account')."
    )
    echo: bool = Field(
        default=False,
        description="The client repeating a figure Elena just said, not a fact of their own.",
    )


class OpenQuestion(StrictModel):
    turn: int = Field(ge=0, description="Client turn index where it was asked.")
    text: str = Field(description="The question as the client wrote it.")
    answered: bool = Field(default=False, description="Whether a later reply took it up.")


class ClientFacts(StrictModel):
    """The fact observer's reading of one client turn."""

    facts: list[StatedFact] = Field(
        default_factory=list, description="Figures the turn states, in order."
    )
    questions: list[str] = Field(default_factory=list, description="Questions asked in it.")


class CalculationUse(StrictModel):
    name: str = Field(description="Calculator name (emosim.grounding.calculators.CALCULATORS).")
    inputs: dict[str, float] = Field(description="Arguments, by parameter name.")
    outputs: dict[str, float] = Field(description="Results, by name.")
    summary: str = Field(default="", description="The calculator's own one-line summary.")
    input_facts: dict[str, str] = Field(
        default_factory=dict,
        description="Input name -> client fact id or fact-base id it was taken from; inputs "
        "not listed are stated assumptions.",
    )


class FigureUse(StrictModel):
    """One figure in an advisor reply and where it comes from."""

    text: str = Field(description="The figure as written in the reply.")
    value: float = Field(description="Its number.")
    unit: Unit = Field(description="Unit of `value`.")
    origin: Origin = Field(description="client_fact, calculation or fact_base.")
    source_id: str | None = Field(
        default=None, description="Client fact id, fact-base id, or calculator name."
    )


class Grounding(StrictModel):
    """What an advisor reply is grounded in: the figures it states and their origins, the
    calculations it brings, the client question it answers."""

    figures: list[FigureUse] = Field(
        default_factory=list, description="Every figure in the reply, with its origin."
    )
    calculations: list[CalculationUse] = Field(
        default_factory=list, description="The calculations whose figures the reply states."
    )
    answered_question: str | None = Field(
        default=None, description="The client question this reply takes up, if any."
    )
    facts_taken_up: list[str] = Field(
        default_factory=list, description="Client fact ids the reply uses (or calculates from)."
    )


class ReplyReading(StrictModel):
    """The simulator's reading of one sent reply."""

    question: str | None = Field(default=None, description="The client's last question.")
    answered: bool | None = Field(
        default=None, description="Whether the reply took the question up (None: none asked)."
    )
    client_figures_used: list[str] = Field(
        default_factory=list, description="Client figures the reply repeats."
    )
    new_figures: list[str] = Field(
        default_factory=list, description="Figures the reply brings (calculations, facts)."
    )
    unexplained_terms: list[str] = Field(
        default_factory=list, description="Key terms named without their plain meaning."
    )
    explained_terms: list[str] = Field(
        default_factory=list, description="Key terms named with their plain meaning."
    )
    asks: bool = Field(default=False, description="The reply asks the client something.")
