"""Reading the help-seeker's turns and `emotion_type` of ESConv dialogs, with located errors.

ESConv (Liu et al. 2021, ACL; CC BY-NC 4.0, attribution required) comes as the split files
(`text`, speaker `usr`/`sys`), either as one JSON list or as JSON Lines, and as the original
`ESConv.json` / `FailedESConv.json` (`content`, speaker `seeker`/`supporter` or
`speaker`/`listener`). Both shapes are read; consecutive seeker utterances form one turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emosim.errors import DataError
from emosim.esconv import SEEKER, SUPPORTER, read_documents
from emosim.files import format_validation_error


class _Utterance(BaseModel):
    model_config = ConfigDict(extra="ignore")

    speaker: str
    text: str | None = None
    content: str | None = None


class _Dialog(BaseModel):
    model_config = ConfigDict(extra="ignore")

    emotion_type: str = Field(min_length=1)
    dialog: list[_Utterance] = Field(min_length=1)
    survey_score: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class SeekerDialog:
    where: str
    emotion_type: str
    turns: list[str]
    initial_intensity: float | None  # the seeker's survey answer, 1..5, when given


def _intensity(survey: dict[str, Any]) -> float | None:
    seeker = survey.get("seeker")
    raw = seeker.get("initial_emotion_intensity") if isinstance(seeker, dict) else None
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def read_dialogs(path: Path) -> tuple[list[SeekerDialog], int]:
    """Dialogs with at least one seeker turn, and how many had none (skipped)."""
    dialogs: list[SeekerDialog] = []
    empty = 0
    for where, doc in read_documents(path):
        if not isinstance(doc, dict):
            raise DataError(
                [f"{where}: expected an ESConv dialog object, got {type(doc).__name__}"]
            )
        try:
            dialog = _Dialog.model_validate(doc)
        except ValidationError as exc:
            raise DataError(format_validation_error(exc, where)) from None
        turns: list[str] = []
        last = None
        for i, utterance in enumerate(dialog.dialog):
            if utterance.speaker not in SEEKER | SUPPORTER:
                raise DataError(
                    [
                        f"{where}: dialog.{i}.speaker: unknown speaker {utterance.speaker!r} "
                        f"(expected one of: {', '.join(sorted(SEEKER | SUPPORTER))})"
                    ]
                )
            words = utterance.text if utterance.text is not None else utterance.content or ""
            words = " ".join(words.split())
            if utterance.speaker in SEEKER and words:
                if last in SEEKER and turns:
                    turns[-1] = f"{turns[-1]} {words}"
                else:
                    turns.append(words)
            last = utterance.speaker
        if not turns:
            empty += 1
            continue
        dialogs.append(
            SeekerDialog(
                where=where,
                emotion_type=dialog.emotion_type.strip().lower(),
                turns=turns,
                initial_intensity=_intensity(dialog.survey_score),
            )
        )
    if not dialogs:
        raise DataError([f"{path}: no dialog with a seeker utterance"])
    return dialogs, empty
