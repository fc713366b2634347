"""Read the records a report or evaluation is about: run folders, run ids or record files."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from emosim.errors import EmosimError
from emosim.files import format_validation_error, iter_json_documents
from emosim.runs import MANIFEST, RunFolder
from emosim.schemas import ConversationRecord


def records_file(source: str, runs_dir: Path) -> Path:
    """A run folder, a run id under runs_dir, or a .json/.jsonl record file -> the record file."""
    path = Path(source)
    if path.is_file():
        if path.suffix not in {".json", ".jsonl"}:
            raise EmosimError(f"{path}: expected a run folder or a .json/.jsonl record file")
        return path
    if path.is_dir() and not (path / MANIFEST).is_file():
        raise EmosimError(f"{path}: not a run folder (no {MANIFEST})")
    if not path.exists() and (path.suffix or len(path.parts) > 1):
        raise EmosimError(f"{path}: no such run folder or record file")
    run = RunFolder.open(runs_dir, source)
    if not run.records_path.is_file():
        raise EmosimError(f"run {run.run_id}: no records yet ({run.records_path} is missing)")
    return run.records_path


def load_records(sources: list[str], runs_dir: Path) -> tuple[list[ConversationRecord], list[str]]:
    """Validated records of every source, in order, and the files they came from.

    A record id seen twice is an error: counting one conversation twice would skew every figure.
    """
    records: list[ConversationRecord] = []
    files: list[str] = []
    seen: dict[str, str] = {}
    for source in sources:
        path = records_file(source, runs_dir)
        files.append(str(path))
        for where, doc in iter_json_documents(path):
            try:
                record = ConversationRecord.model_validate(doc)
            except ValidationError as exc:
                raise EmosimError("\n".join(format_validation_error(exc, where))) from None
            if record.id in seen:
                raise EmosimError(
                    f"{where}: id: record {record.id!r} was already read from {seen[record.id]}"
                )
            seen[record.id] = where
            records.append(record)
    if not records:
        raise EmosimError(f"no records in {', '.join(files)}")
    return records, files
