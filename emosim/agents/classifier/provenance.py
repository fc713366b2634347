"""What a trained observer model was trained on, the license it inherits from that data, and
how it scored on human text when it was trained.

A model trained on licensed data carries that data's license and attribution in its metadata,
and every label it produces carries the license in its `LabelSource` (see `label_source`), so
an export made from those labels can say what it inherits. A model trained only on the user's
own reviewed labels inherits nothing; labels imported from a licensed corpus (ESConv) keep
their license through a retrain.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from emosim.schemas import LabelSource
from emosim.schemas.common import StrictModel

MODEL_PLACEHOLDER = "THIS_MODEL"
"""Stands for the model file in a stored command (the file may be moved after training)."""

STORE_SOURCE = "label-store"
"""`TrainingSource.name` of reviewed labels read from a label store."""

GOEMOTIONS_LICENSE = "CC BY 4.0 (GoEmotions)"
ESCONV_LICENSE = "CC BY-NC 4.0 (ESConv)"

GOEMOTIONS_ATTRIBUTION = (
    "Trained on GoEmotions (Demszky, Movshovitz-Attias, Ko, Cowen, Nemade & Ravi, 2020, "
    "'GoEmotions: A Dataset of Fine-Grained Emotions', ACL 2020), Google Research, "
    "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."
)
ESCONV_ATTRIBUTION = (
    "Trained on ESConv (Liu et al., 2021, 'Towards Emotional Support Dialog Systems', "
    "ACL 2021), CoAI Group, Tsinghua University, licensed CC BY-NC 4.0 "
    "(https://creativecommons.org/licenses/by-nc/4.0/): non-commercial use only."
)
ATTRIBUTION_OF_LICENSE = {
    GOEMOTIONS_LICENSE: GOEMOTIONS_ATTRIBUTION,
    ESCONV_LICENSE: ESCONV_ATTRIBUTION,
}
"""License string -> the attribution a model trained on that data must carry."""


class TrainingSource(StrictModel):
    """One body of labelled text a model was trained on."""

    name: str = Field(description="goemotions, esconv, label-store, ...")
    file: str = Field(description="The file read (a path or its name).")
    sha256: str = Field(description="SHA-256 of the file, or of the extracted labels.")
    rows: int = Field(ge=0, description="Training rows taken from it.")
    licenses: list[str] = Field(
        default_factory=list,
        description="Licenses its rows carry (empty: the user's own labels, nothing inherited).",
    )


class HumanTextScore(StrictModel):
    """One score of the observer on human-labelled text, measured when the model was built."""

    dataset: str = Field(description="goemotions, esconv or label-store.")
    split: str = Field(description="Which rows, and whether training saw them.")
    level: str = Field(description="Label level scored (family, fine, ...).")
    n: int = Field(ge=0, description="Rows or dialogs scored.")
    accuracy: float
    macro_f1: float
    baseline_accuracy: float | None = Field(
        default=None, description="Majority-class accuracy on the same rows."
    )
    command: str = Field(default="", description="The command that reproduces the figure.")


def inherited_licenses(sources: Iterable[TrainingSource]) -> list[str]:
    """Every license the model's training rows carry, sorted (empty: none inherited)."""
    return sorted({lic for s in sources for lic in s.licenses if lic})


def license_text(licenses: list[str]) -> str:
    """One line for the model meta and each label: the licenses joined, or '' for none."""
    return "; ".join(licenses)


def attribution_text(licenses: list[str]) -> str:
    """The attributions those licenses require (a license without a known text is named)."""
    return " ".join(
        ATTRIBUTION_OF_LICENSE.get(lic, f"Trained on data licensed {lic}.") for lic in licenses
    )


def label_source(
    name: str,
    version: str,
    *,
    model_sha256: str = "",
    data_sha256: str = "",
    license: str = "",
) -> LabelSource:
    """The `model` source of a label a trained observer made, with its model's provenance."""
    return LabelSource(
        kind="model",
        name=name,
        version=version,
        model_sha256=model_sha256,
        data_sha256=data_sha256,
        license=license,
    )
