"""Types shared by every model of the dataset format."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = "1.0"

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=2, max_length=64),
    Field(description="A snake_case identifier (lowercase letters, digits, underscores)."),
]
"""Ids used in YAML files and records: stable, human-readable, diff-friendly."""


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty or blank")
    return text


NonBlank = Annotated[str, StringConstraints(min_length=1), AfterValidator(_not_blank)]
"""Required text: an empty or all-space value is an error, never a silent default."""

IntensityLevel = Literal["low", "medium", "high"]
LengthClass = Literal["short", "medium", "long"]
Speaker = Literal["client", "advisor"]
Split = Literal["train", "validation", "test"]

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Valence = Annotated[float, Field(ge=-1.0, le=1.0)]

# Exchange counts per length class (one exchange = one client turn + one advisor turn).
LENGTH_CLASS_EXCHANGES: dict[str, tuple[int, int]] = {
    "short": (2, 3),
    "medium": (4, 6),
    "long": (7, 10),
}

# Intensity bands: low < 0.4 <= medium < 0.7 <= high.
INTENSITY_BANDS: dict[str, tuple[float, float]] = {
    "low": (0.0, 0.4),
    "medium": (0.4, 0.7),
    "high": (0.7, 1.0),
}


def intensity_level(value: float) -> IntensityLevel:
    """Band a 0..1 intensity: the one rule every agent and report uses."""
    if value < INTENSITY_BANDS["medium"][0]:
        return "low"
    if value < INTENSITY_BANDS["high"][0]:
        return "medium"
    return "high"


def length_class_for(exchanges: int) -> LengthClass:
    for name, (lo, hi) in LENGTH_CLASS_EXCHANGES.items():
        if lo <= exchanges <= hi:
            return name  # type: ignore[return-value]
    raise ValueError(f"{exchanges} exchanges fit no length class (2-10 allowed)")


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo in YAML must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)
