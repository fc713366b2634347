"""`emosim review export|import --task ranking|authenticity`: the preference review round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.labels.store import LabelStore

from .events import PreferenceImport, store_judgements
from .judgements import read_judgements
from .models import CANDIDATES_DIR, CANDIDATES_FILE, CandidateSet
from .store import load_candidate_sets
from .tasks import TaskKind, export_text


def candidates_file(candidates: Path | None, store: LabelStore) -> Path:
    """`--candidates` (a run folder or a candidates.jsonl), else the store's run folder's."""
    if candidates is None and not isinstance(store.path, Path):
        raise EmosimError(f"{store.path}: a PostgreSQL store has no run folder: pass --candidates")
    path = candidates if candidates is not None else store.path.parent
    return path / CANDIDATES_DIR / CANDIDATES_FILE if path.is_dir() else path


def load_sets(candidates: Path | None, store: LabelStore, required: bool) -> list[CandidateSet]:
    path = candidates_file(candidates, store)
    if required and not path.is_file():
        raise EmosimError(
            f"{path}: no candidate replies here (make them with `emosim candidates RUN`, or "
            "give --candidates: the run folder or its candidates/candidates.jsonl)"
        )
    return load_candidate_sets(path)


def export_preference_review(
    store: LabelStore,
    kind: TaskKind,
    fmt: Literal["labelstudio", "csv"],
    candidates: Path | None = None,
    conversations: set[str] | None = None,
) -> tuple[str, int]:
    """(file text, number of tasks) for ranking (candidate sets) or authenticity tasks."""
    infos = store.conversations()
    sets: list[CandidateSet] = []
    chosen = []
    if kind == "ranking":
        sets = [
            s
            for s in load_sets(candidates, store, required=True)
            if not conversations or s.conversation_id in conversations
        ]
        if not sets:
            raise EmosimError("no candidate sets to rank (check --conversation)")
        missing = sorted({s.conversation_id for s in sets} - infos.keys())
        if missing:
            raise EmosimError(
                f"{store.path}: conversation(s) {', '.join(missing[:5])} of the candidate sets "
                "are not in the label store, so their rankings could not be stored: run "
                "`emosim labels import RUN` first"
            )
    else:
        chosen = [infos[c] for c in sorted(infos) if not conversations or c in conversations]
        if not chosen:
            raise EmosimError(f"{store.path}: no conversations to review")
    return export_text(kind, fmt, sets, chosen)


def import_preference_review(
    store: LabelStore,
    catalog: Catalog,
    path: Path,
    kind: TaskKind,
    reviewer: str = "reviewer",
    candidates: Path | None = None,
    annotators: dict[int, str] | None = None,
) -> PreferenceImport:
    judgements, read_as, unmapped = read_judgements(path, kind, reviewer, annotators)
    sets = load_sets(candidates, store, required=kind == "ranking")
    stored, already = store_judgements(store, catalog, judgements, sets, read_as)
    warnings = []
    if unmapped:
        ids = ", ".join(map(str, sorted(unmapped)))
        warnings.append(
            f"annotator(s) named only by Label Studio user id ({ids}) are stored as "
            "labelstudio-user-ID: pass --annotators with Label Studio's user list"
        )
    if not judgements:
        warnings.append(f"{path}: no filled-in judgements (is the rank/verdict column empty?)")
    return PreferenceImport(
        file=str(path),
        task=kind,
        format=read_as,
        judgements=len(judgements),
        stored=stored,
        already_imported=already,
        reviewers=sorted({j.reviewer for j in judgements}),
        warnings=warnings,
    )
