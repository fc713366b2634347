"""Read supporter utterances and their human strategy labels from ESConv files.

ESConv (Liu et al., 2021, "Towards Emotional Support Dialog Systems", ACL; CC BY-NC 4.0,
non-commercial, attribution required) comes in two shapes: the split files (`text`, `speaker`
"usr"/"sys", `strategy`), as a JSON list or as JSON Lines, and the original `ESConv.json` /
`FailedESConv.json` (`content`, `speaker` "seeker"/"supporter" or "speaker"/"listener",
`annotation: {strategy}`). Both are read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emosim.errors import EmosimError
from emosim.esconv import SUPPORTER, read_documents
from emosim.files import format_validation_error
from emosim.schemas.taxonomy import EsconvStrategy

LABELS: tuple[str, ...] = get_args(EsconvStrategy)
# Spellings of the original release -> the eight labels of the paper and the split files.
ALIASES = {
    "Questions": "Question",
    "Other": "Others",
    "Restatement": "Restatement or Paraphrasing",
    "Approval and Reassurance": "Affirmation and Reassurance",
}


class Utterance(BaseModel):
    """One utterance in either ESConv shape; other keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    speaker: str
    text: str | None = None
    content: str | None = None
    strategy: str | None = None
    annotation: dict[str, Any] = Field(default_factory=dict)

    @property
    def words(self) -> str:
        return (self.text if self.text is not None else self.content or "").strip()

    @property
    def label(self) -> str | None:
        raw = self.strategy or self.annotation.get("strategy")
        return ALIASES.get(raw, raw) if isinstance(raw, str) else None


class Dialog(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dialog: list[Utterance] = Field(min_length=1)


class Labelled(BaseModel):
    where: str = Field(description="file[dialog].dialog.utterance")
    text: str
    label: str


def read_labelled(path: Path) -> tuple[list[Labelled], int]:
    """Supporter utterances with one of the eight labels, and how many labels were skipped.

    Labels outside the eight (e.g. "Direct Guidance" in FailedESConv.json) are counted, not
    guessed at; a file with no labelled supporter utterance at all is an error.
    """
    out: list[Labelled] = []
    skipped = 0
    for where, doc in read_documents(path):
        if not isinstance(doc, dict) or "dialog" not in doc:
            got = type(doc).__name__ if not isinstance(doc, dict) else f"keys {sorted(doc)[:6]}"
            raise EmosimError(f"{where}: expected an ESConv dialog with a 'dialog' list, got {got}")
        try:
            dialog = Dialog.model_validate(doc)
        except ValidationError as exc:
            raise EmosimError("\n".join(format_validation_error(exc, where))) from None
        for i, utterance in enumerate(dialog.dialog):
            if utterance.speaker not in SUPPORTER or utterance.label is None:
                continue
            if utterance.label not in LABELS:
                skipped += 1
                continue
            if utterance.words:
                out.append(
                    Labelled(
                        where=f"{where}.dialog.{i}", text=utterance.words, label=utterance.label
                    )
                )
    if not out:
        raise EmosimError(
            f"{path}: no supporter utterance with an ESConv strategy label (expected dialogs "
            "with 'dialog' items whose speaker is sys/supporter/listener and that carry "
            "'strategy' or 'annotation.strategy')"
        )
    return out, skipped
