"""Reading and writing a run's candidate sets (RUN/candidates/candidates.jsonl).

One CandidateSet per line, keyed by (conversation_id, turn_index). Writing merges by key and
replaces the whole file atomically: a re-run replaces a turn's set instead of adding a second
one, and a reader never sees half a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from emosim.errors import DataError
from emosim.files import atomic_writer, format_validation_error, iter_json_documents
from emosim.runs import RunFolder

from .models import CANDIDATES_DIR, CANDIDATES_FILE, CandidateSet


def candidates_path(run: RunFolder | Path) -> Path:
    folder = run.path if isinstance(run, RunFolder) else Path(run)
    return folder / CANDIDATES_DIR / CANDIDATES_FILE


def load_candidate_sets(path: Path) -> list[CandidateSet]:
    """Every set in the file, in file order; bad input is one DataError per problem naming
    file:line, field and value. A missing file is an empty list (no candidates made yet)."""
    if not path.exists():
        return []
    out: list[CandidateSet] = []
    seen: dict[tuple[str, int], str] = {}
    problems: list[str] = []
    for where, document in iter_json_documents(path):
        try:
            item = CandidateSet.model_validate(document)
        except ValidationError as exc:
            problems += format_validation_error(exc, where)
            continue
        if item.key in seen:
            problems.append(
                f"{where}: conversation_id/turn_index: {item.conversation_id} turn "
                f"{item.turn_index} already stored at {seen[item.key]}"
            )
            continue
        seen[item.key] = where
        out.append(item)
    if problems:
        raise DataError(problems)
    return out


def load_run_candidates(run: RunFolder) -> list[CandidateSet]:
    return load_candidate_sets(candidates_path(run))


def save_candidate_sets(run: RunFolder, sets: Iterable[CandidateSet]) -> Path:
    """Merge `sets` into the run's file (same key: the new set replaces the old), atomically.
    Sets are kept sorted by conversation and turn, so the file is diff-friendly."""
    path = candidates_path(run)
    merged = {s.key: s for s in load_candidate_sets(path)}
    for item in sets:
        merged[item.key] = item
    with atomic_writer(path) as handle:
        for key in sorted(merged):
            handle.write(merged[key].model_dump_json() + "\n")
    return path
