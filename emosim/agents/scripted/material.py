"""The scripted client's own material: feelings and reactions written apart from the emotion
taxonomy's example lines (which the observer's cues come from), so that the observer's
agreement with the hidden arc is not the taxonomy agreeing with itself.

Files: agents/scripted/client_feelings.yaml (emotion -> level -> lines) and
agents/scripted/client_reactions.yaml (category -> lines; `numbers_landed` by tone,
`disagree` by money script). Both are validated by their models in `templates.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emosim.catalog import Catalog

CATEGORIES = (
    "answered",
    "heard",
    "unanswered",
    "jargon",
    "minimized",
    "rushed",
    "judged",
    "false_comfort",
    "generic",
    "hesitate",
    "new_topic",
    "leave",
    "sign_off",
    "sign_off_unresolved",
)


@dataclass(frozen=True)
class NumbersLanded:
    relief: list[str] = field(default_factory=list)
    dread: list[str] = field(default_factory=list)
    neutral: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reactions:
    numbers_landed: NumbersLanded
    disagree: dict[str, list[str]]
    answered: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    jargon: list[str] = field(default_factory=list)
    minimized: list[str] = field(default_factory=list)
    rushed: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    false_comfort: list[str] = field(default_factory=list)
    generic: list[str] = field(default_factory=list)
    hesitate: list[str] = field(default_factory=list)
    new_topic: list[str] = field(default_factory=list)
    leave: list[str] = field(default_factory=list)
    sign_off: list[str] = field(default_factory=list)
    sign_off_unresolved: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClientMaterial:
    feelings: dict[str, dict[str, list[str]]]
    reactions: Reactions


def _lines(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [str(v) for items in value.values() for v in _lines(items)]
    return []


def load_client_material(catalog: Catalog) -> ClientMaterial | None:
    """The client's material under the catalog root, validated by its models (a bad line is
    an error naming the file, field and value); None when the files are not there."""
    from .templates import (
        CLIENT_FEELINGS_FILE,
        CLIENT_REACTIONS_FILE,
        load_client_feelings,
        load_client_reactions,
    )

    root = catalog.root
    if not (root / CLIENT_FEELINGS_FILE).is_file() or not (root / CLIENT_REACTIONS_FILE).is_file():
        return None
    feelings = load_client_feelings(catalog).model_dump()
    raw = load_client_reactions(catalog).model_dump()
    emotions = feelings.get("emotions", {})
    numbers = raw.get("numbers_landed") or {}
    return ClientMaterial(
        feelings={
            emotion: {level: _lines(lines) for level, lines in levels.items()}
            for emotion, levels in emotions.items()
        },
        reactions=Reactions(
            numbers_landed=NumbersLanded(
                relief=_lines(numbers.get("relief")),
                dread=_lines(numbers.get("dread")),
                neutral=_lines(numbers.get("neutral")),
            ),
            disagree={k: _lines(v) for k, v in (raw.get("disagree") or {}).items()},
            **{c: _lines(raw.get(c)) for c in CATEGORIES},
        ),
    )
