"""Reading the GoEmotions files with located errors.

GoEmotions (Demszky et al. 2020, Google Research; CC BY 4.0) ships tab-separated rows of
`text, label indices, comment id` with no header; some texts use CSV-style quoting, so rows
are read with a quote-aware reader and located by the reader's line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import RootModel, ValidationError

from emosim.errors import DataError
from emosim.files import format_validation_error
from emosim.paths import shipped_data

DATA_ENV = "EMOSIM_GOEMOTIONS_DIR"
LABELS_FILE = "emotions.txt"
EKMAN_FILE = "ekman_mapping.json"
TRAIN_FILE = "train.tsv"


@dataclass(frozen=True)
class Example:
    """One labelled comment: where it was read, its text and its label indices."""

    line: int
    text: str
    labels: tuple[int, ...]
    comment_id: str


def default_data_dir() -> Path:
    """$EMOSIM_GOEMOTIONS_DIR, else the copy the project ships in data/goemotions."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return shipped_data("goemotions")


def data_dir_or_error(path: Path | None) -> Path:
    folder = path or default_data_dir()
    if not (folder / TRAIN_FILE).is_file():
        raise DataError(
            [
                f"{folder / TRAIN_FILE}: GoEmotions training file not found "
                f"(pass --data DIR or set {DATA_ENV})"
            ]
        )
    return folder


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise DataError([f"{path}: is a folder, expected a file"]) from None
    except UnicodeDecodeError as exc:
        raise DataError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None


def read_label_names(path: Path) -> list[str]:
    """emotions.txt: one label per line; line i (0-based) names label index i."""
    names = [line.strip() for line in _read_text(path).splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise DataError([f"{path}: empty (expected one emotion label per line)"])
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if not name:
            raise DataError([f"{path}:{number}: empty label name"])
        if name in seen:
            raise DataError([f"{path}:{number}: label {name!r} repeats line {seen[name]}"])
        seen[name] = number
    return names


def read_examples(path: Path, n_labels: int) -> list[Example]:
    """Every row of a GoEmotions TSV; the first bad row stops reading with its line number."""
    text = _read_text(path)
    if not text.strip():
        raise DataError([f"{path}: empty file (expected rows of text<TAB>label indices<TAB>id)"])
    examples: list[Example] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    line = 1
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                line = reader.line_num + 1
                continue
            examples.append(_example(path, line, row, n_labels))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataError([f"{path}:{line}: malformed row ({exc})"]) from None
    if not examples:
        raise DataError([f"{path}: no rows (expected text<TAB>label indices<TAB>id)"])
    return examples


def _example(path: Path, line: int, row: list[str], n_labels: int) -> Example:
    where = f"{path}:{line}"
    if len(row) != 3:
        raise DataError(
            [
                f"{where}: expected 3 tab-separated columns (text, label indices, comment id), "
                f"got {len(row)}"
            ]
        )
    text, raw_labels, comment_id = row
    labels: list[int] = []
    for part in raw_labels.split(","):
        part = part.strip()
        if not part.isdigit():
            raise DataError(
                [
                    f"{where}: column 2 (label indices) must be comma-separated integers, "
                    f"got {raw_labels!r}"
                ]
            )
        index = int(part)
        if index >= n_labels:
            raise DataError(
                [
                    f"{where}: column 2 (label indices): unknown label index {index} "
                    f"(expected 0..{n_labels - 1})"
                ]
            )
        if index not in labels:
            labels.append(index)
    return Example(line=line, text=text, labels=tuple(labels), comment_id=comment_id)


class _EkmanFile(RootModel[dict[str, list[str]]]):
    """ekman_mapping.json: Ekman group -> GoEmotions labels (neutral is not in any group)."""


def read_ekman(path: Path, labels: list[str]) -> dict[str, str]:
    """GoEmotions label -> Ekman group, checked against the label list."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(
            [f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"]
        ) from None
    try:
        groups = _EkmanFile.model_validate(data).root
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path))) from None
    out: dict[str, str] = {}
    for group, members in groups.items():
        for member in members:
            if member not in labels:
                raise DataError(
                    [f"{path}: {group}: unknown GoEmotions label {member!r} (not in {LABELS_FILE})"]
                )
            if member in out:
                raise DataError(
                    [f"{path}: {group}: label {member!r} is already in group {out[member]!r}"]
                )
            out[member] = group
    if not out:
        raise DataError([f"{path}: no Ekman groups"])
    return out
