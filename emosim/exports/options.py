"""Export options: parsed and checked once, recorded verbatim in the manifest."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..catalog import Catalog
from ..errors import EmosimError
from ..schemas.common import StrictModel

FORMATS: dict[str, str] = {
    "openai-chat": "OpenAI chat fine-tuning: messages, assistant turns weighted 0/1",
    "openai-dpo": "OpenAI preference fine-tuning: input / preferred_output / non_preferred_output",
    "trl-messages": "TRL conversational language modeling: messages",
    "trl-prompt-completion": "TRL conversational prompt-completion: one row per trainable turn",
    "trl-dpo": "TRL conversational preference: prompt / chosen / rejected",
    "trl-kto": "TRL conversational unpaired preference: prompt / completion / label",
    "trl-reward": "TRL reward modeling (RewardTrainer): prompt / chosen / rejected / margin",
    "axolotl": "Axolotl chat_template: messages with a per-message boolean `train`",
    "sharegpt": "ShareGPT / LLaMA-Factory: conversations of from/value turns",
    "emotion-classification": "Client turns with prior context and resolved emotion labels",
    "layer": "Emotional layer, domain masked: prompt / completion (plan line + reply skeleton)",
    "layer-plan": "Emotional layer planning, domain masked: prompt / completion (JSON plan)",
}
"""Every export format, with the one-line description shown in help and the dataset card."""

TrainableMode = Literal["all", "accepted"]
ReviewStatus = Literal["unreviewed", "in_review", "approved", "rejected", "corrected"]
LENGTHS = ("short", "medium", "long")
REVIEW_STATUSES = ("unreviewed", "in_review", "approved", "rejected", "corrected")
SPLIT_NAMES = ("train", "validation", "test")


class SplitRatios(StrictModel):
    train: float = Field(ge=0.0, le=1.0, description="Share of families in train.")
    validation: float = Field(ge=0.0, le=1.0, description="Share of families in validation.")
    test: float = Field(ge=0.0, le=1.0, description="Share of families in test.")


class Filters(StrictModel):
    topics: list[str] = Field(default_factory=list, description="Keep records of these topics.")
    emotions: list[str] = Field(
        default_factory=list,
        description="Keep records with a client turn of one of these emotions or families.",
    )
    lengths: list[str] = Field(default_factory=list, description="Keep these length classes.")
    review_statuses: list[str] = Field(
        default_factory=list, description="Keep records with one of these review statuses."
    )


class ExportOptions(StrictModel):
    format: str = Field(description="Export format (one of FORMATS).")
    system_prompt: bool = Field(default=True, description="Prepend Elena's system prompt.")
    trainable: TrainableMode = Field(
        default="all", description="all: every weighted turn; accepted: critic-accepted only."
    )
    min_quality: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Minimum critic overall score to train a turn."
    )
    planning: bool = Field(default=False, description="Prefix assistant content with a <plan>.")
    anti_pattern_pairs: bool = Field(
        default=False,
        description="Add taxonomy anti-pattern negatives where no draft was rejected.",
    )
    split: SplitRatios = Field(description="Family shares per split.")
    filters: Filters = Field(default_factory=Filters, description="Record filters.")
    min_agreement: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Human-ranking pairs only: least Krippendorff's alpha of the candidate "
        "set's rankings (a set ranked by one reviewer has none and is left out).",
    )
    min_margin: float | None = Field(
        default=None,
        ge=0.0,
        description="Human-ranking pairs only: least Plackett-Luce score difference between "
        "chosen and rejected (KTO: between a candidate and its set's average).",
    )
    cap_pattern: int | None = Field(
        default=None,
        ge=1,
        description="De-templating: the most conversations one sentence pattern (names and "
        "numbers masked) may appear in; conversations over the cap are dropped.",
    )


def parse_format(value: str) -> str:
    if value not in FORMATS:
        raise EmosimError(
            f"--format: unknown format {value!r} (expected one of: {', '.join(FORMATS)})"
        )
    return value


def parse_split(value: str) -> SplitRatios:
    """`0.8,0.1,0.1` -> ratios; three non-negative numbers that add up to 1."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3:
        raise EmosimError(
            f"--split: expected three numbers train,validation,test (e.g. 0.8,0.1,0.1), got {value!r}"
        )
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise EmosimError(f"--split: {value!r} is not three numbers (e.g. 0.8,0.1,0.1)") from None
    if any(n < 0 or n > 1 or n != n for n in numbers):
        raise EmosimError(f"--split: every share must be between 0 and 1, got {value!r}")
    if abs(sum(numbers) - 1.0) > 1e-6:
        raise EmosimError(f"--split: shares must add up to 1, got {value!r} (sum {sum(numbers):g})")
    return SplitRatios(train=numbers[0], validation=numbers[1], test=numbers[2])


def parse_trainable(value: str) -> TrainableMode:
    if value not in ("all", "accepted"):
        raise EmosimError(f"--trainable: expected 'all' or 'accepted', got {value!r}")
    return value  # type: ignore[return-value]


def _check(option: str, values: list[str], known: list[str] | tuple[str, ...]) -> list[str]:
    for value in values:
        if value not in known:
            raise EmosimError(
                f"{option}: unknown value {value!r} (expected one of: {', '.join(sorted(known))})"
            )
    return sorted(set(values))


def parse_filters(
    catalog: Catalog,
    topics: list[str],
    emotions: list[str],
    lengths: list[str],
    review_statuses: list[str],
) -> Filters:
    """Check filter values against the catalog so a typo is an error, not an empty export."""
    families = [f.id for f in catalog.emotions_file.families]
    return Filters(
        topics=_check("--topic", topics, list(catalog.topics)),
        emotions=_check("--emotion", emotions, [*catalog.emotions, *families]),
        lengths=_check("--length", lengths, LENGTHS),
        review_statuses=_check("--review-status", review_statuses, REVIEW_STATUSES),
    )
