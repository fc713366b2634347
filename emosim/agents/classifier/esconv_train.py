"""Supporter utterances of ESConv with the seeker turn before them: the strategy model's examples.

ESConv (Liu et al., 2021, "Towards Emotional Support Dialog Systems", ACL 2021; CC BY-NC 4.0,
non-commercial use, attribution required) is read in both of its shapes (the split files as a
JSON list or JSON Lines, and the original `ESConv.json` / `FailedESConv.json`; see
emosim/esconv.py). A supporter utterance's strategy depends on what the seeker just said and on
the stage of the conversation, so each example keeps the preceding seeker turn (consecutive
seeker utterances joined) and its position among the dialog's supporter utterances.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from emosim.errors import DataError
from emosim.esconv import SEEKER, SUPPORTER, read_documents
from emosim.evals.esconv import LABELS, Dialog
from emosim.files import format_validation_error

TRAIN_FILE = "train.jsonl"
DATA_ENV = "EMOSIM_ESCONV_TRAIN_DIR"


@dataclass(frozen=True)
class StrategyExample:
    """One supporter utterance to learn or read a strategy from.

    `strategy` is one of ESConv's eight strategy names (`LABELS`, e.g. "Question", "Others");
    a taxonomy strategy id is turned into its ESConv name with `esconv_strategy` first.
    `index` / `count` place the utterance among the dialog's supporter utterances (0-based;
    None when unknown, e.g. a reply read on its own); `follows_supporter` says the utterance
    continues the supporter's own turn (no seeker words in between).
    """

    text: str
    context: str = ""
    strategy: str | None = None
    index: int | None = None
    count: int | None = None
    follows_supporter: bool = False
    dialog: str = ""
    where: str = ""


def esconv_strategy(value: str, taxonomy: Mapping[str, str]) -> str:
    """An ESConv strategy name as it is, or a taxonomy strategy id through its `esconv` field.

    `taxonomy` maps strategy id -> ESConv name (`{s.id: s.esconv for s in
    catalog.strategies_file.strategies}`).
    """
    if value in LABELS:
        return value
    if value in taxonomy:
        return taxonomy[value]
    raise DataError(
        [
            f"strategy {value!r} is neither an ESConv strategy ({', '.join(LABELS)}) nor a "
            "taxonomy strategy id (taxonomies/strategies.yaml)"
        ]
    )


@dataclass(frozen=True)
class Said:
    """One non-blank utterance of a checked ESConv dialog: `index` in the file's `dialog`
    list, `words` with whitespace folded, `label` the ESConv strategy (aliases resolved) of
    a supporter utterance, None when it has none or one outside the eight (`off_label`)."""

    index: int
    speaker: str
    words: str
    label: str | None = None
    off_label: bool = False

    @property
    def seeker(self) -> bool:
        return self.speaker in SEEKER


def esconv_dialogs(path: Path) -> Iterator[tuple[str, list[Said]]]:
    """Each dialog of an ESConv file (where, utterances), checked: one located error for a
    document that is not a dialog, a bad field or an unknown speaker. The strategy model and
    the layer's next-strategy model read the file through this one walk."""
    from emosim.evals.esconv import ALIASES

    for where, doc in read_documents(path):
        if not isinstance(doc, dict) or "dialog" not in doc:
            got = type(doc).__name__ if not isinstance(doc, dict) else f"keys {sorted(doc)[:6]}"
            raise DataError([f"{where}: expected an ESConv dialog with a 'dialog' list, got {got}"])
        try:
            dialog = Dialog.model_validate(doc)
        except ValidationError as exc:
            raise DataError(format_validation_error(exc, where)) from None
        said: list[Said] = []
        for i, utterance in enumerate(dialog.dialog):
            if utterance.speaker not in SEEKER | SUPPORTER:
                raise DataError(
                    [
                        f"{where}: dialog.{i}.speaker: unknown speaker {utterance.speaker!r} "
                        f"(expected one of: {', '.join(sorted(SEEKER | SUPPORTER))})"
                    ]
                )
            words = " ".join(utterance.words.split())
            if not words:
                continue
            label: str | None = None
            off_label = False
            if utterance.speaker in SUPPORTER:
                raw = utterance.strategy or utterance.annotation.get("strategy")
                label = ALIASES.get(raw, raw) if isinstance(raw, str) else None
                if label is not None and label not in LABELS:
                    label, off_label = None, True
            said.append(Said(i, utterance.speaker, words, label, off_label))
        yield where, said


def no_labelled_supporter(path: Path) -> DataError:
    return DataError(
        [
            f"{path}: no supporter utterance with an ESConv strategy label (expected dialogs "
            "with 'dialog' items whose speaker is sys/supporter/listener and that carry "
            "'strategy' or 'annotation.strategy')"
        ]
    )


def read_strategy_examples(path: Path) -> tuple[list[StrategyExample], int]:
    """Labelled supporter utterances of an ESConv file, and how many labels were skipped.

    Labels outside the eight (e.g. "Direct Guidance" in FailedESConv.json) are counted, not
    guessed at; they still count as supporter utterances for the position of the others.
    """
    examples: list[StrategyExample] = []
    skipped = 0
    for where, said in esconv_dialogs(path):
        supporter = [u.index for u in said if not u.seeker]
        seeker = ""
        last: str | None = None
        for u in said:
            if u.seeker:
                seeker = f"{seeker} {u.words}" if last in SEEKER else u.words
            elif u.off_label:
                skipped += 1
            elif u.label is not None:
                examples.append(
                    StrategyExample(
                        text=u.words,
                        context=seeker,
                        strategy=u.label,
                        index=supporter.index(u.index),
                        count=len(supporter),
                        follows_supporter=last in SUPPORTER,
                        dialog=where,
                        where=f"{where}.dialog.{u.index}",
                    )
                )
            last = u.speaker
    if not examples:
        raise no_labelled_supporter(path)
    return examples, skipped
