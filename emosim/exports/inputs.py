"""Read the records an export starts from: run folders and .json/.jsonl record files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, ValidationError

from ..errors import DataError, EmosimError
from ..files import format_validation_error, iter_json_documents
from ..runs import RECORDS
from ..schemas import ConversationRecord
from ..schemas.common import StrictModel


class InputFile(StrictModel):
    """One file read, as recorded in the export manifest."""

    path: str = Field(description="Path as given (a run folder resolves to its records file).")
    sha256: str = Field(description="sha256 of the file's bytes.")
    records: int = Field(ge=0, description="Records read from the file.")


@dataclass
class LoadedRecords:
    records: list[ConversationRecord] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)
    duplicates_skipped: int = 0


def _records_file(path: Path) -> Path:
    if path.is_dir():
        candidate = path / RECORDS
        if not candidate.is_file():
            raise EmosimError(
                f"{path}: a folder given as input must be a run folder with {RECORDS}"
            )
        return candidate
    if not path.exists():
        raise EmosimError(f"{path}: file not found")
    if path.suffix not in (".json", ".jsonl"):
        raise EmosimError(
            f"{path}: expected a run folder, a .jsonl or a .json record file (got {path.suffix or 'no suffix'!r})"
        )
    return path


def _validate(where: str, doc: dict) -> ConversationRecord:
    """One error line: the first problem, and how many more there are."""
    if not {"id", "turns"} <= doc.keys():
        keys = ", ".join(sorted(doc)[:5]) or "none"
        raise DataError(
            [f"{where}: not a conversation record (no 'id' and 'turns' fields; keys: {keys})"]
        )
    try:
        return ConversationRecord.model_validate(doc)
    except ValidationError as exc:
        problems = format_validation_error(exc, where)
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise DataError([problems[0] + more]) from None


def load_records(paths: list[Path]) -> LoadedRecords:
    """Validate every record; the same record given twice (same bytes) is read once.

    Two different records with one id are an error: the export could not tell which is current.
    """
    loaded = LoadedRecords()
    seen: dict[str, tuple[str, dict]] = {}
    for given in paths:
        source = _records_file(given)
        data = source.read_bytes()
        count = 0
        for where, doc in iter_json_documents(source):
            if not isinstance(doc, dict):
                raise DataError(
                    [
                        f"{where}: expected a conversation record (a JSON object), got {type(doc).__name__}"
                    ]
                )
            record = _validate(where, doc)
            previous = seen.get(record.id)
            if previous is not None:
                if previous[1] != doc:
                    raise DataError(
                        [
                            f"{where}: id: record {record.id!r} also read from {previous[0]} with different content"
                        ]
                    )
                loaded.duplicates_skipped += 1
                continue
            seen[record.id] = (where, doc)
            loaded.records.append(record)
            count += 1
        loaded.files.append(
            InputFile(path=str(source), sha256=hashlib.sha256(data).hexdigest(), records=count)
        )
    if not loaded.records:
        raise EmosimError(f"no records in {', '.join(str(p) for p in paths)}")
    return loaded
