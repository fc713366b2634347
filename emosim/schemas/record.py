"""The dataset record: one conversation with its ground truth, labels and provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .common import (
    SCHEMA_VERSION,
    Identifier,
    IntensityLevel,
    LengthClass,
    Split,
    StrictModel,
    Unit,
    Valence,
    intensity_level,
)
from .grounding import ClientFacts, Grounding, ReplyReading
from .labels import LabelEvent
from .persona import ArcStep, ClientPersona
from .scenario import LineageInfo, Phase
from .taxonomy import GolemanFamily

SourceKind = Literal["simulated", "real", "hand_authored"]


# --- provenance ----------------------------------------------------------------------------


class BackendInfo(StrictModel):
    backend: str = Field(description="Backend name: scripted, anthropic, langchain, replay, ...")
    model: str | None = Field(default=None, description="Model id, if the backend uses one.")


class Provenance(StrictModel):
    source: SourceKind = Field(description="Simulated by emosim, real (imported) or hand-authored.")
    engine_version: str = Field(description="emosim version that produced the record.")
    backends: dict[str, BackendInfo] = Field(
        default_factory=dict, description="Agent role -> backend and model that played it."
    )
    prompt_hashes: dict[str, str] = Field(
        default_factory=dict,
        description="Agent role -> sha256 of its prompt template/scripted template file.",
    )
    scenario_hash: str | None = Field(default=None, description="sha256 of the scenario file.")
    random_seed: int | None = Field(default=None, description="Seed the run used.")
    run_id: str | None = Field(default=None, description="Run folder id under runs/.")
    license: str = Field(default="CC-BY-4.0", description="License of the record's content.")
    consent: Literal["not_applicable", "obtained", "not_obtained", "unknown"] = Field(
        default="not_applicable", description="Consent status (synthetic data: not_applicable)."
    )
    anonymization: Literal["not_needed", "anonymized", "pending", "failed"] = Field(
        default="not_needed", description="Anonymization status of the text."
    )
    split: Split | None = Field(default=None, description="Dataset split, assigned per family.")


# --- scenario ------------------------------------------------------------------------------


class ScenarioInfo(StrictModel):
    scenario_id: str = Field(description="Scenario id the conversation was played from.")
    topic: Identifier = Field(description="Topic id.")
    subcategory: Identifier = Field(description="Sub-category id within the topic.")
    client_persona_id: Identifier = Field(description="Client persona id.")
    client_persona: ClientPersona | None = Field(
        default=None, description="Snapshot of the persona as it was when the record was made."
    )
    advisor_persona_id: Identifier = Field(description="Advisor persona id.")
    advisor_persona_version: str = Field(description="Advisor persona version.")
    length_class: LengthClass = Field(description="short 2-3, medium 4-6, long 7-10 exchanges.")
    phase: Phase = Field(description="template, scenario_driven or edge_case.")
    situation: str = Field(description="What brings the client to Elena.")
    planned_arc: list[ArcStep] = Field(description="Arc template the controller followed.")


# --- emotions ------------------------------------------------------------------------------


class EmotionalState(StrictModel):
    emotion: Identifier = Field(description="Emotion id from taxonomies/emotions.yaml.")
    family: GolemanFamily = Field(description="Goleman family of the emotion.")
    intensity: Unit = Field(description="Intensity 0..1.")
    intensity_level: IntensityLevel = Field(description="low <0.4 <= medium <0.7 <= high.")
    valence: Valence | None = Field(default=None, description="Pleasantness -1..1.")
    arousal: Unit | None = Field(default=None, description="Activation 0..1.")

    @model_validator(mode="after")
    def _level_matches_intensity(self) -> EmotionalState:
        expected = intensity_level(self.intensity)
        if self.intensity_level != expected:
            raise ValueError(
                f"intensity_level {self.intensity_level!r} does not match intensity "
                f"{self.intensity} (expected {expected!r})"
            )
        return self


class TextCue(StrictModel):
    text: str = Field(description="The words in the turn that signal the label.")
    start: int = Field(ge=0, description="Character offset of the cue in the turn text.")
    end: int = Field(ge=0, description="Character offset just past the cue.")
    signals: str = Field(description="What the cue signals (an emotion id or 'intensity').")


class EmotionAnnotation(StrictModel):
    primary: Identifier = Field(description="Observed primary emotion id.")
    family: GolemanFamily = Field(description="Family of the primary emotion.")
    secondary: Identifier | None = Field(default=None, description="Observed secondary emotion.")
    intensity: Unit = Field(description="Observed intensity 0..1.")
    intensity_level: IntensityLevel = Field(description="Band of the observed intensity.")
    cues: list[TextCue] = Field(default_factory=list, description="Evidence spans in the text.")
    confidence: Unit = Field(description="Observer's confidence 0..1.")
    observer: str = Field(description="Observer backend and version that made the annotation.")


# --- advisor -------------------------------------------------------------------------------


class StrategyUse(StrictModel):
    primary: Identifier = Field(description="Main strategy id of the turn.")
    combination: list[Identifier] = Field(
        default_factory=list, description="Further strategy ids used in the same turn."
    )
    confidence: Unit | None = Field(default=None, description="Observer confidence, if observed.")
    source: str = Field(description="Who named the strategies (advisor plan or observer id).")


class Sentence(StrictModel):
    index: int = Field(ge=0, description="Position of the sentence in the turn.")
    text: str = Field(description="The sentence.")
    start: int = Field(ge=0, description="Character offset in the turn text.")
    end: int = Field(ge=0, description="Character offset just past the sentence.")
    function: Identifier = Field(description="Sentence-function id (observed).")
    strategy: Identifier | None = Field(default=None, description="Strategy it serves, if any.")
    intended_function: Identifier | None = Field(
        default=None,
        description="Function the generator meant (simulated records); measures the observer.",
    )


class CriticFinding(StrictModel):
    code: Identifier = Field(description="Finding kind, e.g. forbidden_phrase, false_guarantee.")
    message: str = Field(description="Human-readable reason.")
    severity: Literal["info", "minor", "major", "blocker"] = Field(description="How bad it is.")
    evidence: str | None = Field(default=None, description="The offending words, if any.")


class CriticScores(StrictModel):
    voice: Unit = Field(description="Fit with Elena's voice principles.")
    empathy: Unit = Field(description="Attunement to the client's observed state.")
    compliance: Unit = Field(description="1 when no compliance boundary is crossed.")
    clarity: Unit = Field(description="Plain language, explained jargon, sensible length.")
    overall: Unit = Field(description="Combined score.")


class CriticVerdict(StrictModel):
    accepted: bool = Field(description="Whether the draft may be sent.")
    scores: CriticScores = Field(description="Scores 0..1 per dimension.")
    findings: list[CriticFinding] = Field(default_factory=list, description="Reasons.")
    critic: str = Field(description="Critic backend and version.")


class RejectedDraft(StrictModel):
    attempt: int = Field(ge=1, description="Draft number within the turn (1 = first draft).")
    text: str = Field(description="The rejected draft.")
    strategies: list[Identifier] = Field(default_factory=list, description="Strategies planned.")
    anti_pattern: Identifier | None = Field(
        default=None, description="Anti-pattern the draft was built with, when known."
    )
    verdict: CriticVerdict = Field(description="Why the critic rejected it.")


# --- turns ---------------------------------------------------------------------------------


class ClientTurn(StrictModel):
    speaker: Literal["client"] = Field(default="client", description="Always 'client'.")
    index: int = Field(ge=0, description="Position in the conversation (0-based).")
    exchange: int = Field(ge=1, description="Exchange number (1-based).")
    text: str = Field(description="What the client wrote.", min_length=1)
    ground_truth: EmotionalState | None = Field(
        default=None,
        description="Hidden true state of the client (simulated records only). No agent but "
        "the client saw it.",
    )
    annotation: EmotionAnnotation | None = Field(
        default=None, description="What the emotion observer read from the text alone."
    )
    facts: ClientFacts | None = Field(
        default=None,
        description="What the fact observer read from the text alone: figures with their "
        "meaning and evidence spans, and the questions asked.",
    )
    training_weight: Literal[0] = Field(default=0, description="Client turns are never trained.")


class AdvisorTurn(StrictModel):
    speaker: Literal["advisor"] = Field(default="advisor", description="Always 'advisor'.")
    index: int = Field(description="Position in the conversation (0-based).", ge=0)
    exchange: int = Field(description="Exchange number (1-based).", ge=1)
    text: str = Field(description="The reply that was sent (the accepted draft).", min_length=1)
    intended_strategies: StrategyUse | None = Field(
        default=None, description="Strategies the advisor planned (generator side)."
    )
    strategies: StrategyUse | None = Field(
        default=None, description="Strategies the strategy observer read from the text."
    )
    sentences: list[Sentence] = Field(
        default_factory=list, description="Every sentence with its function."
    )
    learning_objective: str = Field(
        default="", description="What a model should learn from this turn."
    )
    critic: CriticVerdict | None = Field(default=None, description="Verdict on the sent reply.")
    rejected_drafts: list[RejectedDraft] = Field(
        default_factory=list, description="Drafts the critic rejected (preference negatives)."
    )
    grounding: Grounding | None = Field(
        default=None,
        description="Every figure in the reply with its origin (client_fact, calculation, "
        "fact_base), the calculations it brings and the client question it takes up.",
    )
    reading: ReplyReading | None = Field(
        default=None,
        description="What the sent reply did, read from its words: question taken up, client "
        "figures used, figures brought, terms left unexplained. The arc moves on this.",
    )
    training_weight: Unit = Field(
        default=1.0, description="Loss weight of the turn (0 excludes it from training)."
    )


Turn = Annotated[ClientTurn | AdvisorTurn, Field(discriminator="speaker")]


# --- outcome, quality ----------------------------------------------------------------------


class ArcMove(StrictModel):
    exchange: int = Field(ge=1, description="Exchange of the reply that moved the arc.")
    movement: Literal["advanced", "stalled", "regressed"] = Field(
        description="How the reply moved the client's hidden state along the arc."
    )
    reason: str = Field(description="What in the sent reply caused it.")
    why: str = Field(description="What the client reacts to (helped, unanswered, harmful:<id>).")
    client_left: bool = Field(default=False, description="The client decided to leave.")


class Outcome(StrictModel):
    status: Literal["completed", "failed"] = Field(description="Whether the run finished.")
    failure_reason: str | None = Field(default=None, description="Why it failed, if it did.")
    arc_completed: bool = Field(description="Whether the client reached the arc's last step.")
    arc_outcome: Literal["completed", "stalled", "regressed", "failed"] | None = Field(
        default=None,
        description="How the arc ended: completed (reached its last step), stalled (did not "
        "get there), regressed (ended below the furthest point it reached), failed (the "
        "client left the conversation).",
    )
    arc_reason: str | None = Field(default=None, description="Why, in the words of the moves.")
    arc_moves: list[ArcMove] = Field(
        default_factory=list, description="How each sent reply moved the arc, in order."
    )
    final_state: EmotionalState | None = Field(default=None, description="Client's last state.")
    resolution_summary: str = Field(description="One paragraph: where the client ended up.")


class ReviewDecision(StrictModel):
    reviewer: str = Field(description="Reviewer handle.")
    decided_at: datetime = Field(description="When the decision was made (UTC).")
    decision: Literal["approve", "reject", "correct", "comment"] = Field(
        description="What the reviewer decided."
    )
    notes: str = Field(default="", description="Free-text notes.")


class Quality(StrictModel):
    scores: dict[str, float] = Field(
        default_factory=dict, description="Automated quality scores (name -> value)."
    )
    review_status: Literal["unreviewed", "in_review", "approved", "rejected", "corrected"] = Field(
        default="unreviewed", description="Human review status."
    )
    reviewer_decisions: list[ReviewDecision] = Field(
        description="Human review decisions, oldest first.", default_factory=list
    )


# --- the record ----------------------------------------------------------------------------


class ConversationRecord(StrictModel):
    """One conversation. The published training-data format."""

    id: str = Field(description="Stable id of the conversation.")
    schema_version: Literal["1.0"] = Field(
        default=SCHEMA_VERSION, description="Version of this format."
    )
    created_at: datetime = Field(description="When the record was written (UTC).")
    provenance: Provenance = Field(description="Where the record came from and how it was made.")
    scenario: ScenarioInfo = Field(description="What was simulated.")
    lineage: LineageInfo = Field(
        description="Seed, parent and variation axis of the conversation.",
        default_factory=LineageInfo,
    )
    turns: list[Turn] = Field(
        description="Turns in order, alternating client and advisor, client first."
    )
    outcome: Outcome = Field(description="How the conversation ended.")
    quality: Quality = Field(
        description="Automated scores and human review.", default_factory=Quality
    )
    label_events: list[LabelEvent] = Field(
        default_factory=list, description="Append-only label history for this conversation."
    )

    @model_validator(mode="after")
    def _turns_alternate(self) -> ConversationRecord:
        for position, turn in enumerate(self.turns):
            if turn.index != position:
                raise ValueError(f"turns[{position}].index is {turn.index}, expected {position}")
            expected = "client" if position % 2 == 0 else "advisor"
            if turn.speaker != expected:
                raise ValueError(
                    f"turns[{position}].speaker is {turn.speaker!r}, expected {expected!r} "
                    "(turns alternate, starting with the client)"
                )
            if turn.exchange != position // 2 + 1:
                raise ValueError(
                    f"turns[{position}].exchange is {turn.exchange}, expected {position // 2 + 1}"
                )
        if self.outcome.status == "completed" and (
            len(self.turns) < 2 or self.turns[-1].speaker != "advisor"
        ):
            raise ValueError(
                "a completed conversation needs at least one exchange and ends with the advisor"
            )
        for event in self.label_events:
            if event.target.conversation_id != self.id:
                raise ValueError(
                    f"label event {event.event_id!r} targets conversation "
                    f"{event.target.conversation_id!r}, not {self.id!r}"
                )
        return self

    @property
    def client_turns(self) -> list[ClientTurn]:
        return [t for t in self.turns if isinstance(t, ClientTurn)]

    @property
    def advisor_turns(self) -> list[AdvisorTurn]:
        return [t for t in self.turns if isinstance(t, AdvisorTurn)]
