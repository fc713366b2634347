"""Candidate replies for human preference ranking: the format reviewers rank and exports read.

One `CandidateSet` per advisor turn: the conversation so far (exactly as the original turn saw
it) and N alternative Elena replies, the accepted original among them. Each candidate carries
what it planned, what the observers read from its words and the critic's verdict, so a ranking
can later be explained by approach, not only by wording.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field, model_validator

from emosim.schemas.common import Identifier, IntensityLevel, Speaker, StrictModel
from emosim.schemas.record import CriticVerdict, EmotionAnnotation, Sentence, StrategyUse

CANDIDATES_DIR = "candidates"
CANDIDATES_FILE = "candidates.jsonl"
"""Where a run keeps its candidates: RUN/candidates/candidates.jsonl, one CandidateSet a line."""

PlanSource = Literal["original", "emotion_fit", "planner"]
FitKind = Literal["helpful", "neutral", "harmful"]


def candidate_id(conversation_id: str, turn_index: int, text: str) -> str:
    """Same conversation, turn and words -> same id, in any run or re-run."""
    digest = hashlib.sha256(f"{conversation_id}\n{turn_index}\n{text}".encode()).hexdigest()
    return f"cand-{digest[:16]}"


class CandidateOrigin(StrictModel):
    """How a candidate was made: enough to make it again."""

    backend: str = Field(
        description="Backend spec that wrote the reply (scripted, anthropic, ...)."
    )
    model: str | None = Field(default=None, description="Model id, if the backend uses one.")
    seed: int = Field(description="Seed the candidate was drawn with.")
    plan_source: PlanSource = Field(
        description="original: the sent reply; emotion_fit: a strategy that fits the client's "
        "observed emotion in the taxonomy; planner: the advisor's own planner with another seed."
    )
    lead_strategy: Identifier | None = Field(
        default=None,
        description="Strategy the writer was told to lead with (None: the writer's own plan).",
    )
    checkpoint_id: str = Field(description="Checkpoint the reply was generated from.")
    attempts: int = Field(
        default=1, ge=1, description="Drafts written until the critic's verdict (1 = first)."
    )


class EmotionFit(StrictModel):
    """How the reply's observed strategies fit the client's observed emotion (taxonomy)."""

    emotion: Identifier = Field(description="Client emotion the observer read before the reply.")
    intensity_level: IntensityLevel = Field(description="Its observed intensity band.")
    fit: FitKind = Field(
        description="harmful if a strategy is harmful for the emotion, else helpful if one is "
        "helpful, else neutral."
    )
    helpful: list[Identifier] = Field(
        default_factory=list, description="Observed strategies the taxonomy lists as helpful."
    )
    harmful: list[Identifier] = Field(
        default_factory=list, description="Observed strategies the taxonomy lists as harmful."
    )


class Candidate(StrictModel):
    """One alternative Elena reply for one advisor turn."""

    candidate_id: str = Field(description="Content-derived id: conversation, turn and text.")
    conversation_id: str = Field(description="Conversation the candidate belongs to.")
    turn_index: int = Field(ge=1, description="Index of the advisor turn it replaces (odd).")
    text: str = Field(min_length=1, description="The reply.")
    planned: StrategyUse | None = Field(
        default=None, description="Strategy plan the reply was written for (primary+combination)."
    )
    observed: StrategyUse | None = Field(
        default=None, description="Strategies the strategy observer read from the text."
    )
    emotion_fit: EmotionFit | None = Field(
        default=None, description="Fit of the observed strategies with the client's emotion."
    )
    sentences: list[Sentence] = Field(
        default_factory=list, description="Every sentence with its observed function."
    )
    critic: CriticVerdict | None = Field(default=None, description="The critic's verdict.")
    origin: CandidateOrigin = Field(description="How the candidate was made.")
    is_original: bool = Field(
        default=False, description="True for the reply the conversation actually sent."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Candidate:
        if self.turn_index % 2 != 1:
            raise ValueError(
                f"turn_index {self.turn_index} is a client turn (advisor turns are odd)"
            )
        expected = candidate_id(self.conversation_id, self.turn_index, self.text)
        if self.candidate_id != expected:
            raise ValueError(
                f"candidate_id {self.candidate_id!r} does not match its content "
                f"(expected {expected!r})"
            )
        if self.is_original != (self.origin.plan_source == "original"):
            raise ValueError("is_original and origin.plan_source 'original' must go together")
        return self

    @property
    def accepted(self) -> bool:
        return self.critic is None or self.critic.accepted

    @property
    def primary(self) -> str | None:
        """Planned primary strategy (the approach the candidate was written for)."""
        return self.planned.primary if self.planned else None


class ContextTurn(StrictModel):
    """One turn of the conversation so far, as the reviewer sees it."""

    index: int = Field(ge=0, description="Position in the conversation (0-based).")
    speaker: Speaker = Field(description="client or advisor.")
    text: str = Field(min_length=1, description="What was written.")


class CandidateSet(StrictModel):
    """The candidates for one advisor turn, with the conversation up to it."""

    conversation_id: str = Field(description="Conversation id in the run.")
    turn_index: int = Field(ge=1, description="Index of the advisor turn (odd).")
    run_id: str = Field(description="Run folder id the conversation lives in.")
    checkpoint_id: str = Field(
        description="Checkpoint the candidates were generated from (state before the reply)."
    )
    seed: int = Field(description="Seed the set was generated with (same seed -> same set).")
    n: int | None = Field(
        default=None, ge=2, description="Candidates asked for, the original included (--n)."
    )
    backends: list[str] = Field(
        default_factory=list,
        description="Backend specs the alternatives' advisor was played by, in turn (--backend).",
    )
    context: list[ContextTurn] = Field(
        description="Turns 0..turn_index-1: the conversation so far, ending with the client."
    )
    client_state: EmotionAnnotation | None = Field(
        default=None, description="What the emotion observer read from the last client turn."
    )
    candidates: list[Candidate] = Field(
        min_length=2, description="The alternatives, the original first."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CandidateSet:
        if self.turn_index % 2 != 1:
            raise ValueError(
                f"turn_index {self.turn_index} is a client turn (advisor turns are odd)"
            )
        if [t.index for t in self.context] != list(range(self.turn_index)):
            raise ValueError(
                f"context must hold turns 0..{self.turn_index - 1} in order "
                f"(got {[t.index for t in self.context]})"
            )
        if self.context[-1].speaker != "client":
            raise ValueError("context must end with the client turn the candidates answer")
        originals = [c for c in self.candidates if c.is_original]
        if len(originals) != 1:
            raise ValueError(f"exactly one candidate must be the original (got {len(originals)})")
        ids = [c.candidate_id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError("candidate ids repeat: two candidates have the same text")
        for c in self.candidates:
            if (c.conversation_id, c.turn_index) != (self.conversation_id, self.turn_index):
                raise ValueError(
                    f"candidate {c.candidate_id} belongs to {c.conversation_id} turn "
                    f"{c.turn_index}, not this set"
                )
        return self

    @property
    def key(self) -> tuple[str, int]:
        return (self.conversation_id, self.turn_index)

    @property
    def original(self) -> Candidate:
        return next(c for c in self.candidates if c.is_original)

    def candidate(self, candidate_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.candidate_id == candidate_id), None)
