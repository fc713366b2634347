"""Other wordings of the answer bank's questions, written by a planner
(agents/scripted/asked_as/<topic>.yaml): clients ask one thing in many words, and a lexical
index only finds the words it was given. The answer index reads each phrasing as one more
wording of its bank question."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import Field, field_validator

from emosim.files import DataError, load_yaml_model
from emosim.schemas.common import StrictModel

ASKED_AS_DIR = Path("agents") / "scripted" / "asked_as"


class AskedAsFile(StrictModel):
    """One file of phrasings: bank question -> how clients also ask it."""

    topic: str | None = Field(
        default=None, description="The topic whose questions these are; null for follow-ups."
    )
    asked_as: dict[str, list[str]] = Field(
        description="Bank question, exactly as in the bank -> other wordings of it."
    )

    @field_validator("asked_as")
    @classmethod
    def _nonempty(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for question, phrasings in v.items():
            if not phrasings or any(not p.strip() for p in phrasings):
                raise ValueError(f"{question!r}: list at least one non-empty phrasing")
        return v


def asked_as_paths(root: Path) -> list[Path]:
    return sorted((root / ASKED_AS_DIR).glob("*.yaml"))


def load_asked_as(root: Path, bank: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Every phrasing under `root`/agents/scripted/asked_as, by bank question. Given the
    `bank`, a question not in it is an error naming the file and the question (a bank
    question reworded without its phrasings would otherwise lose them silently)."""
    known = None if bank is None else set(bank)
    out: dict[str, list[str]] = {}
    errors: list[str] = []
    for path in asked_as_paths(root):
        data = load_yaml_model(path, AskedAsFile)
        for question, phrasings in data.asked_as.items():
            if known is not None and question not in known:
                errors.append(f"{path}: asked_as: {question!r} is not a question of the bank")
                continue
            out.setdefault(question, []).extend(phrasings)
    if errors:
        raise DataError(errors)
    return out
