"""Which emosim emotion and family each GoEmotions label and ESConv `emotion_type` stands for.

The table is data a domain expert edits (taxonomies/mappings.yaml). It is checked on load
against the emotion taxonomy, so an unknown emotion id or a family that is not the emotion's
own is reported with its file and line, like any other data file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from emosim.catalog import Catalog
from emosim.files import load_yaml_model
from emosim.schemas.common import Identifier, StrictModel
from emosim.schemas.taxonomy import GolemanFamily

MAPPINGS_FILE = Path("taxonomies") / "mappings.yaml"

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)  # fmt: skip
"""The 28 labels of GoEmotions (Demszky et al. 2020), in the order of its emotions.txt."""

NEUTRAL = "neutral"
"""GoEmotions' no-emotion label; evaluations keep it as its own class (see the README)."""

STORE_LABEL_PREFIX = "emosim:"
"""Model labels learned from reviewed labels in a label store are emosim emotion ids with this
prefix (`emosim:worry`): they need no mapping and are read as that emotion."""


def store_label(emotion: str) -> str:
    return f"{STORE_LABEL_PREFIX}{emotion}"


def store_label_emotion(label: str) -> str | None:
    """The emosim emotion a store-learned model label stands for (None: a GoEmotions label)."""
    return label[len(STORE_LABEL_PREFIX) :] if label.startswith(STORE_LABEL_PREFIX) else None


# Emotion id -> family of the loaded taxonomy, set while a mapping file is validated.
_KNOWN_EMOTIONS: ContextVar[dict[str, str] | None] = ContextVar("known_emotions", default=None)


@contextmanager
def _known_emotions(catalog: Catalog) -> Iterator[None]:
    token = _KNOWN_EMOTIONS.set({e.id: e.family for e in catalog.emotions.values()})
    try:
        yield
    finally:
        _KNOWN_EMOTIONS.reset(token)


class LabelMapping(StrictModel):
    """One source label and the emosim emotion it is read as."""

    label: str = Field(min_length=1, description="The label as the source corpus spells it.")
    emotion: Identifier = Field(description="emosim emotion id (taxonomies/emotions.yaml).")
    family: GolemanFamily = Field(description="Goleman family; must be the emotion's family.")
    rationale: str = Field(min_length=10, description="Why this label is read as this emotion.")

    @field_validator("emotion")
    @classmethod
    def _known_emotion(cls, value: str) -> str:
        known = _KNOWN_EMOTIONS.get()
        if known is not None and value not in known:
            raise ValueError(f"unknown emotion id (expected one of: {', '.join(sorted(known))})")
        return value

    @model_validator(mode="after")
    def _family_matches(self) -> LabelMapping:
        known = _KNOWN_EMOTIONS.get()
        if known is not None and self.emotion in known and known[self.emotion] != self.family:
            raise ValueError(
                f"family {self.family!r} is not the family of {self.emotion!r} "
                f"({known[self.emotion]!r} in taxonomies/emotions.yaml)"
            )
        return self


def _unique(items: list[LabelMapping]) -> list[LabelMapping]:
    seen: set[str] = set()
    for item in items:
        if item.label in seen:
            raise ValueError(f"label {item.label!r} is mapped twice")
        seen.add(item.label)
    return items


class EmotionMappings(StrictModel):
    """taxonomies/mappings.yaml: GoEmotions and ESConv labels read as emosim emotions."""

    version: str = Field(description="Version of the mapping table.")
    sources: list[str] = Field(min_length=1, description="Where the source labels come from.")
    goemotions: list[LabelMapping] = Field(
        description="Every GoEmotions label (27 emotions + neutral), each exactly once."
    )
    esconv: list[LabelMapping] = Field(
        min_length=1, description="ESConv help-seeker `emotion_type` values."
    )

    @field_validator("goemotions")
    @classmethod
    def _all_goemotions(cls, items: list[LabelMapping]) -> list[LabelMapping]:
        _unique(items)
        labels = [m.label for m in items]
        unknown = [label for label in labels if label not in GOEMOTIONS_LABELS]
        if unknown:
            raise ValueError(
                f"unknown GoEmotions label(s) {', '.join(map(repr, unknown))} "
                f"(expected: {', '.join(GOEMOTIONS_LABELS)})"
            )
        missing = [label for label in GOEMOTIONS_LABELS if label not in labels]
        if missing:
            raise ValueError(f"GoEmotions label(s) not mapped: {', '.join(missing)}")
        return items

    @field_validator("esconv")
    @classmethod
    def _unique_esconv(cls, items: list[LabelMapping]) -> list[LabelMapping]:
        return _unique(items)

    def goemotions_map(self) -> dict[str, LabelMapping]:
        return {m.label: m for m in self.goemotions}

    def esconv_map(self) -> dict[str, LabelMapping]:
        return {m.label: m for m in self.esconv}


def load_mappings(catalog: Catalog, path: Path | None = None) -> EmotionMappings:
    """Load and check the mapping table (default: taxonomies/mappings.yaml of the catalog)."""
    with _known_emotions(catalog):
        return load_yaml_model(path or catalog.root / MAPPINGS_FILE, EmotionMappings)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def mapping_table_markdown(mappings: EmotionMappings) -> str:
    """Both mapping tables as Markdown, for the generated taxonomy document."""
    lines: list[str] = []
    for title, items in (
        ("GoEmotions label", mappings.goemotions),
        ("ESConv emotion_type", mappings.esconv),
    ):
        if lines:
            lines.append("")
        lines.append(f"| {title} | emosim emotion | Family | Rationale |")
        lines.append("| --- | --- | --- | --- |")
        for m in items:
            lines.append(
                f"| {_cell(m.label)} | `{m.emotion}` | {m.family} | {_cell(m.rationale)} |"
            )
    return "\n".join(lines) + "\n"


def mapping_problems(catalog: Catalog, path: Path) -> list[str]:
    """Located problems of a mapping file, for `emosim validate` (empty when it is valid)."""
    from emosim.errors import DataError

    try:
        load_mappings(catalog, path)
    except DataError as exc:
        return exc.problems
    return []
