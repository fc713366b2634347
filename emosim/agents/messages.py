"""What agents receive and return. Every agent output is one of these pydantic models and is
validated before it reaches the graph state (LangGraph does not validate node outputs)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from emosim.schemas import (
    ClientPersona,
    CriticFinding,
    EmotionalState,
    EmotionAnnotation,
    StrategyUse,
)
from emosim.schemas.common import Identifier, StrictModel
from emosim.schemas.grounding import (
    CalculationUse,
    Grounding,
    OpenQuestion,
    ReplyReading,
    StatedFact,
)

Movement = Literal["advanced", "stalled", "regressed"]


class Line(StrictModel):
    """One line of the transcript as every agent may see it: the words only."""

    speaker: Literal["client", "advisor"]
    text: str


class ClientInput(StrictModel):
    """The client's view. Only the client sees its hidden state and unspoken concern."""

    persona: ClientPersona
    topic: Identifier
    subcategory: Identifier
    situation: str
    hidden_state: EmotionalState
    transcript: list[Line]
    exchange: int = Field(ge=1)
    exchanges: int = Field(ge=1)
    movement: Movement | None = Field(default=None, description="How the last reply landed.")
    last_advisor_strategy: Identifier | None = None
    facts_used: list[Identifier] = Field(default_factory=list)
    situation_told: list[str] = Field(
        default_factory=list,
        description="The situation in the client's own voice, sentence by sentence: what they "
        "tell over the first turns (the figures in it reach the conversation).",
    )
    told: int = Field(default=0, ge=0, description="How many of those sentences were told.")
    why: str | None = Field(
        default=None,
        description="What in Elena's last reply moved the arc (helped, numbers, answered, "
        "heard, unanswered, jargon, generic, harmful:<anti-pattern or strategy>).",
    )
    reading: ReplyReading | None = Field(default=None, description="What the last reply did.")
    leaving: bool = Field(
        default=False, description="The client has had enough and ends the conversation now."
    )


class ClientOutput(StrictModel):
    text: str = Field(min_length=1)
    facts_used: list[Identifier] = Field(default_factory=list)
    told: int = Field(default=0, ge=0, description="Situation sentences told so far.")


class AdvisorInput(StrictModel):
    """Elena's view: the words said and what the observers read. Never the hidden state."""

    client_name: str
    topic: Identifier
    subcategory: Identifier
    transcript: list[Line]
    observed: EmotionAnnotation
    exchange: int = Field(ge=1)
    exchanges: int = Field(ge=1)
    attempt: int = Field(ge=1, description="1 for a first draft, 2+ for redrafts.")
    critic_feedback: list[CriticFinding] = Field(default_factory=list)
    previous_strategies: list[Identifier] = Field(default_factory=list)
    shared_facts: list[str] = Field(
        default_factory=list,
        description="Facts the client has stated so far, paraphrased in the second person "
        "(newest last). Scripted Elena reflects these; model backends paraphrase the transcript.",
    )
    facts: list[StatedFact] = Field(
        default_factory=list,
        description="The fact observer's running facts: every figure the client stated, with "
        "its meaning and the clause that states it (newest last).",
    )
    open_questions: list[OpenQuestion] = Field(
        default_factory=list, description="Questions the client asked, answered or not."
    )
    numbers: list[CalculationUse] = Field(
        default_factory=list,
        description="Calculations from the client's own figures. Any figure in the reply must "
        "be a client figure, one of these, or a fact-base value.",
    )
    client_closing: bool = Field(
        default=False, description="The client is signing off: close warmly, ask nothing."
    )
    lead_strategy: Identifier | None = Field(
        default=None,
        description="Candidate replies (`emosim candidates`): the strategy this reply leads "
        "with, so that alternatives differ in approach; None lets Elena plan as usual.",
    )


class PlannedSentence(StrictModel):
    text: str
    function: Identifier
    strategy: Identifier | None = None


class AdvisorOutput(StrictModel):
    text: str = Field(min_length=1)
    sentences: list[PlannedSentence] = Field(default_factory=list)
    strategies: StrategyUse
    learning_objective: str = ""
    anti_pattern: Identifier | None = Field(
        default=None,
        description="Generator-side marker: the anti-pattern this draft was built with. The "
        "critic never reads it; the arc controller (ground truth) does.",
    )
    grounding: Grounding | None = Field(
        default=None,
        description="The advisor's own account of its figures and calculations (the critic "
        "traces every figure again; this is what the advisor meant).",
    )


class CriticInput(StrictModel):
    """The critic judges the words of the draft against the persona file and what was observed."""

    draft: str
    observed: EmotionAnnotation
    transcript: list[Line]
    facts: list[StatedFact] = Field(default_factory=list, description="Client's running facts.")
    numbers: list[CalculationUse] = Field(
        default_factory=list, description="Calculations the advisor was given."
    )


class EmotionObserverInput(StrictModel):
    text: str
    previous: EmotionAnnotation | None = None
    context: list[Line] = Field(default_factory=list)
