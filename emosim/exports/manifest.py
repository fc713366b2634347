"""The export manifest: counts, options and input hashes; the card and recipe are read from it."""

from __future__ import annotations

from pydantic import Field

from ..labels.apply import LabelsApplied
from ..schemas.common import StrictModel
from .detemplate import DeTemplating
from .inputs import InputFile
from .options import ExportOptions


class SplitSummary(StrictModel):
    file: str | None = Field(description="Rows file, or None when the split is empty.")
    rows: int = Field(ge=0, description="Rows written.")
    records: int = Field(ge=0, description="Records with at least one row.")
    families: int = Field(ge=0, description="Lineage families with at least one row.")
    emotions: dict[str, int] = Field(
        default_factory=dict, description="Resolved client emotions in the split's records."
    )
    strategies: dict[str, int] = Field(
        default_factory=dict, description="Primary strategies of the split's trained turns."
    )


class HumanRankings(StrictModel):
    """Reviewers' rankings of candidate replies the preference rows were built from."""

    candidate_files: list[str] = Field(description="candidates.jsonl files read.")
    ranked_sets: int = Field(ge=0, description="Candidate sets of kept records with rankings.")
    sets_used: int = Field(ge=0, description="Of those, sets that gave rows after the filters.")
    reviewers: list[str] = Field(description="Reviewers whose rankings were used.")
    rankings: int = Field(ge=0, description="Rankings used (one per reviewer and set).")
    mean_agreement: float | None = Field(
        default=None, description="Mean Krippendorff's alpha over sets with two or more reviewers."
    )
    stale_rankings: int = Field(
        default=0, ge=0, description="Rankings naming candidates their set no longer has."
    )
    unmatched_sets: int = Field(
        default=0, ge=0, description="Ranked sets whose conversation differs from the record's."
    )


class ExportManifest(StrictModel):
    emosim_version: str
    format: str
    format_description: str
    options: ExportOptions
    inputs: list[InputFile]
    duplicates_skipped: int = Field(ge=0, description="Identical records given twice, read once.")
    labels: LabelsApplied = Field(
        description="The label stores whose events were applied (or none), their event "
        "counts and hashes, and how many labels differ from the model's."
    )
    family_source: str = Field(description="Function that grouped records into families.")
    records_read: int = Field(ge=0)
    records_kept: int = Field(
        ge=0, description="Records that passed the filters (and the pattern cap, if set)."
    )
    de_templating: DeTemplating | None = Field(
        default=None, description="What --cap-pattern dropped, when it was set."
    )
    records_without_rows: int = Field(
        ge=0, description="Kept records that gave no row (e.g. no trainable turn)."
    )
    advisor_turns: int = Field(ge=0, description="Advisor turns in the kept records.")
    trainable_turns: int = Field(ge=0, description="Of those, trainable under the options.")
    context_turns_trained: int = Field(
        ge=0,
        description="Non-trainable advisor turns inside rows of formats that train every "
        "assistant message (trl-messages, sharegpt); use trl-prompt-completion when > 0.",
    )
    pair_sources: dict[str, int] = Field(
        default_factory=dict, description="Preference negatives by source (critic, anti_pattern)."
    )
    human_rankings: HumanRankings | None = Field(
        default=None, description="Preference formats: the human rankings read, if any."
    )
    kto_labels: dict[str, int] = Field(
        default_factory=dict, description="KTO rows by label (desirable, undesirable)."
    )
    splits: dict[str, SplitSummary] = Field(description="train / validation / test.")
    family_splits: dict[str, str] = Field(description="Family id -> split of every kept family.")
    data_sources: list[str] = Field(
        default_factory=list,
        description="Third-party data the records derive from (goemotions, esconv).",
    )
    licenses: dict[str, int] = Field(default_factory=dict, description="Record licenses -> count.")
    label_licenses: dict[str, str] = Field(
        default_factory=dict,
        description="Label sources (trained observers, imported corpora) whose labels the "
        "records carry -> the license they inherit from their training data.",
    )
    files: list[str] = Field(description="Files written, relative to the output folder.")
