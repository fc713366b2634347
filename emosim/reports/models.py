"""Models of what a quality report writes: every figure's numbers, as `figures.json` holds them.

The PNG plots and the HTML page are drawn from these models only, so the numbers a tool reads
are exactly the numbers a person sees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from emosim.diversity import DiversityReport
from emosim.labels.apply import LabelsApplied
from emosim.preferences.report import PreferenceReview
from emosim.schemas.common import Identifier, IntensityLevel, LengthClass, StrictModel

from .human_text import ObserverOnHumanText

Movement = Literal["advanced", "stalled", "regressed"]


class TrajectoryPoint(StrictModel):
    exchange: int = Field(ge=1, description="Exchange number (1-based).")
    n: int = Field(ge=0, description="Client turns at this exchange with truth and annotation.")
    true_valence: float = Field(description="Mean valence of the true emotion.")
    observed_valence: float = Field(description="Mean valence of the observed emotion.")
    true_intensity: float = Field(description="Mean true intensity.")
    observed_intensity: float = Field(description="Mean observed intensity.")
    emotion_agreement: float = Field(description="Share of turns where observed == true emotion.")


class Trajectory(StrictModel):
    length_class: LengthClass
    conversations: int = Field(ge=0, description="Conversations of this length class.")
    points: list[TrajectoryPoint] = Field(description="One point per exchange.")


class CoverageCell(StrictModel):
    emotion: Identifier
    level: IntensityLevel
    count: int = Field(ge=0, description="Client turns whose true state is this emotion and level.")
    observed: int = Field(
        ge=0, description="Client turns the observer read as this emotion and level."
    )
    target: int = Field(ge=0, description="Client turns wanted.")
    met: bool = Field(description="count >= target.")


class Coverage(StrictModel):
    basis: str = Field(description="Which state was counted for each client turn.")
    targets_file: str | None = Field(description="Targets file, or None for the defaults.")
    client_turns: int = Field(ge=0, description="Client turns read.")
    from_ground_truth: int = Field(ge=0, description="Of these, turns with a true state.")
    cells: list[CoverageCell] = Field(description="Every emotion x level of the taxonomy.")
    cells_met: int = Field(ge=0)
    cells_total: int = Field(ge=0)
    targets_met: int = Field(
        ge=0, description="Targets met, of every target, as `emosim coverage` counts them."
    )
    targets_total: int = Field(ge=0, description="Every target of the targets file.")
    targets_short: list[str] = Field(description="kind:name of each target not met.")
    lengths: dict[LengthClass, int] = Field(description="Conversations per length class.")
    length_targets: dict[LengthClass, int] = Field(description="Conversations wanted per class.")


class StrategyDistribution(StrictModel):
    intended: dict[str, int] = Field(description="Advisor's planned primary strategy -> turns.")
    observed: dict[str, int] = Field(description="Strategy observer's primary -> turns.")
    used: dict[str, int] = Field(
        description="Every planned strategy (primary and combination) -> turns using it."
    )
    observer_agreement: float | None = Field(
        description="Share of turns where observed primary == planned primary (planned known)."
    )
    target_per_strategy: int = Field(ge=0, description="Turns wanted per strategy.")


class StrategyOutcome(StrictModel):
    strategy: Identifier = Field(description="Advisor turn's primary strategy (planned if known).")
    n: int = Field(ge=0, description="Advisor turns followed by another true client state.")
    advanced: int = Field(ge=0)
    stalled: int = Field(ge=0)
    regressed: int = Field(ge=0)
    next_emotions: dict[str, int] = Field(description="True emotion of the next client turn.")


class StrategyOutcomes(StrictModel):
    rule: str = Field(description="How a movement is judged from two true states.")
    rows: list[StrategyOutcome]


class CriticRejections(StrictModel):
    advisor_turns: int = Field(ge=0)
    rejected_drafts: int = Field(ge=0)
    first_pass_rate: float | None = Field(description="Share of advisor turns with no rejection.")
    reasons: dict[str, int] = Field(description="Finding code -> findings in rejected drafts.")
    by_anti_pattern: dict[str, dict[str, int]] = Field(
        description="Anti-pattern a draft was built with ('none' if unknown) -> finding codes."
    )


class NumberSummary(StrictModel):
    n: int = Field(ge=0)
    mean: float | None
    median: float | None
    minimum: float | None
    maximum: float | None


class Lengths(StrictModel):
    exchanges: dict[int, int] = Field(description="Exchanges per conversation -> conversations.")
    exchanges_by_class: dict[LengthClass, NumberSummary]
    client_words: NumberSummary = Field(description="Words per client turn.")
    advisor_words: NumberSummary = Field(description="Words per sent advisor turn.")
    client_word_histogram: dict[str, int] = Field(description="Word-count bin -> client turns.")
    advisor_word_histogram: dict[str, int] = Field(description="Word-count bin -> advisor turns.")


class DiversityScores(StrictModel):
    texts: int = Field(ge=0)
    distinct_1: float
    distinct_2: float
    near_duplicate_rate: float = Field(description="Share of texts with a near duplicate.")


class Diversity(StrictModel):
    threshold: float = Field(description="Jaccard similarity that makes two texts near duplicates.")
    shingle_words: int = Field(description="Words per shingle (n-gram) for the Jaccard.")
    client: DiversityScores
    advisor: DiversityScores
    conversations: DiversityReport = Field(
        description="Whole conversations: the near-duplicate measure `emosim coverage` reports."
    )


class ComplianceCount(StrictModel):
    sent: int = Field(ge=0, description="Findings on replies that were sent.")
    rejected: int = Field(ge=0, description="Findings on drafts the critic rejected.")


class Compliance(StrictModel):
    codes: list[str] = Field(description="Finding codes counted as compliance findings.")
    findings: dict[str, ComplianceCount] = Field(
        description="Boundary id (code 'compliance') or finding code -> counts."
    )
    sent_replies_with_findings: int = Field(ge=0, description="Sent replies with any of them.")


class CostRow(StrictModel):
    role: str
    backend: str
    model: str | None
    conversations: int = Field(ge=0)
    free: bool = Field(description="The backend makes no paid model calls.")


class Cost(StrictModel):
    rows: list[CostRow]
    tokens: dict[str, float] = Field(
        description="Summed usage scores: quality.scores keys tokens_*, *_tokens, model_calls."
    )
    cost_usd: float = Field(description="Known cost: free backends 0 plus reported cost_usd.")
    unpriced_conversations: int = Field(
        ge=0, description="Conversations played by a paid backend without a cost_usd score."
    )


class ClassificationScores(StrictModel):
    accuracy: float
    macro_f1: float = Field(description="Macro-F1 over the labels seen in truth or prediction.")
    labels: list[str] = Field(description="Row/column order of the confusion matrix.")
    confusion: list[list[int]] = Field(description="Rows: true label; columns: observed label.")


class ObserverAccuracy(StrictModel):
    observer: list[str] = Field(description="Observer names that made the annotations.")
    n: int = Field(
        ge=0, description="Client turns of simulated records with a true state and an annotation."
    )
    emotion: ClassificationScores = Field(description="Member level (emotion id).")
    family: ClassificationScores = Field(description="Goleman family level.")
    intensity_mae: float = Field(description="Mean absolute error of intensity 0..1.")
    level_accuracy: float = Field(description="Share with the right low/medium/high band.")


class ReportFigures(StrictModel):
    generated_at: datetime
    inputs: list[str] = Field(description="Runs and record files the report read.")
    conversations: int = Field(ge=0)
    sources: dict[str, int] = Field(description="provenance.source -> conversations.")
    trajectories: list[Trajectory]
    coverage: Coverage
    strategies: StrategyDistribution
    outcomes: StrategyOutcomes
    rejections: CriticRejections
    lengths: Lengths
    diversity: Diversity
    compliance: Compliance
    cost: Cost
    observer: ObserverAccuracy | None = Field(
        description="Agreement on simulated text (observer vs hidden arc); None when no "
        "simulated client turn has a true state and an annotation."
    )
    human_text: list[ObserverOnHumanText] = Field(
        default_factory=list,
        description="Each emotion observer's accuracy on human-labelled text, as stored in its "
        "model at training time (none for lexicon observers).",
    )
    plots: dict[str, str] = Field(
        default_factory=dict, description="Figure name -> PNG file, relative to the report."
    )
    labels: LabelsApplied | None = Field(
        default=None, description="The label store applied to the records (None: not asked)."
    )
    preferences: PreferenceReview | None = Field(
        default=None,
        description="Human preference review: rankings of candidate replies and authenticity "
        "judgements, with Krippendorff's alpha per task (None: no candidates or judgements).",
    )
