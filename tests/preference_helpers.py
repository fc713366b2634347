"""Test helpers for the preference loop: a run copy with a label store and candidate sets."""

from __future__ import annotations

import shutil
from pathlib import Path

from emosim.catalog import Catalog
from emosim.labels.store import LabelStore, iter_dataset
from emosim.preferences.models import (
    Candidate,
    CandidateOrigin,
    CandidateSet,
    ContextTurn,
    candidate_id,
)
from emosim.preferences.store import save_candidate_sets
from emosim.runs import RunFolder
from emosim.schemas import AdvisorTurn, ConversationRecord

ALTERNATIVES = (
    "That sounds like a lot to carry. What matters most to you about this money right now?",
    "Plenty of people start investing later than they planned; you are not behind for good.",
    "Here is one concrete step: open a low-cost index fund and set a small monthly transfer.",
)


def candidate_sets(record: ConversationRecord, turns: int = 2) -> list[CandidateSet]:
    """Hand-made sets for the first `turns` advisor turns: the sent reply and three others."""
    sets = []
    for turn in [t for t in record.turns if isinstance(t, AdvisorTurn)][:turns]:
        texts = [turn.text, *ALTERNATIVES]
        candidates = [
            Candidate(
                candidate_id=candidate_id(record.id, turn.index, text),
                conversation_id=record.id,
                turn_index=turn.index,
                text=text,
                origin=CandidateOrigin(
                    backend="scripted",
                    seed=k,
                    plan_source="original" if k == 0 else "emotion_fit",
                    checkpoint_id="test",
                ),
                is_original=k == 0,
            )
            for k, text in enumerate(texts)
        ]
        sets.append(
            CandidateSet(
                conversation_id=record.id,
                turn_index=turn.index,
                run_id="test",
                checkpoint_id="test",
                seed=0,
                context=[
                    ContextTurn(index=t.index, speaker=t.speaker, text=t.text)
                    for t in record.turns[: turn.index]
                ],
                candidates=candidates,
            )
        )
    return sets


def run_with_candidates(
    run: RunFolder, tmp: Path, catalog: Catalog
) -> tuple[Path, list[CandidateSet]]:
    """A copy of the run with labels.sqlite (its records imported) and candidate sets."""
    folder = tmp / "run"
    shutil.copytree(run.path, folder)
    items = list(iter_dataset([folder]))
    with LabelStore.open(folder / "labels.sqlite", create=True) as store:
        store.import_records(items, catalog)
    sets = candidate_sets(items[0][1])
    save_candidate_sets(RunFolder(folder), sets)
    return folder, sets
