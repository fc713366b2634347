"""Judgements <-> label events: each reviewer's answers stored append-only, read back per reviewer.

Every judgement is one event from its reviewer (`human_bulk_review`, or `live_operator` for
events an operator sent). A reviewer's first answer to a question is a `suggest`; a changed
answer later is a `correct` superseding their own previous one; the same answer again is not
stored twice. Reading back, each reviewer's latest answer that was not retracted counts: all
reviewers' answers are kept side by side (they are aggregated, not resolved to one winner).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.labels.checks import key_of
from emosim.labels.policy import HUMAN_KINDS
from emosim.labels.store import LabelStore, utc
from emosim.labels.targets import TargetKey
from emosim.schemas import LabelEvent, LabelSource, LabelTarget
from emosim.schemas.common import StrictModel

from .aggregate import check_ranking
from .judgements import Judgement
from .models import CandidateSet

PREFERENCE_FIELDS = (
    "candidate_ranking",
    "conversation_verdict",
    "emotional_authenticity",
    "helpfulness",
)


def preference_events(store: LabelStore) -> list[LabelEvent]:
    """The store's preference events only, in stored order: a report or export over a large
    label store reads these few rows, not every observer label."""
    from pydantic import TypeAdapter

    marks = ",".join("?" * len(PREFERENCE_FIELDS))
    rows = store.conn.execute(
        f"SELECT event_json FROM events WHERE field IN ({marks}) ORDER BY seq", PREFERENCE_FIELDS
    )
    return TypeAdapter(list[LabelEvent]).validate_json("[" + ",".join(t for (t,) in rows) + "]")


def latest_judgements(events: Iterable[LabelEvent]) -> dict[TargetKey, dict[str, LabelEvent]]:
    """target -> reviewer -> their latest effective event (people only, preference fields)."""
    mine = [
        (i, e)
        for i, e in enumerate(events)
        if e.target.field in PREFERENCE_FIELDS and e.source.kind in HUMAN_KINDS
    ]
    retracted = {e.supersedes for _, e in mine if e.action == "retract" and e.supersedes}
    out: dict[TargetKey, dict[str, tuple[tuple[datetime, int], LabelEvent]]] = {}
    for order, e in mine:
        if e.action not in ("suggest", "accept", "correct") or e.event_id in retracted:
            continue
        if e.value is None:
            continue
        stamp = (utc(e.created_at), order)
        slot = out.setdefault(key_of(e), {})
        held = slot.get(e.source.name)
        if held is None or stamp >= held[0]:
            slot[e.source.name] = (stamp, e)
    return {k: {r: e for r, (_, e) in v.items()} for k, v in out.items()}


def _key(j: Judgement) -> TargetKey:
    return TargetKey(j.conversation_id, j.turn_index, None, j.field)


def check_rankings(judgements: list[Judgement], sets: dict[tuple[str, int], CandidateSet]) -> None:
    """Every ranking names candidates of its set: one DataError listing every problem."""
    problems = []
    for j in judgements:
        if j.field != "candidate_ranking":
            continue
        item = sets.get((j.conversation_id, j.turn_index or 0))
        if item is None:
            problems.append(
                f"{j.where}: no candidate set for {j.conversation_id} turn {j.turn_index} "
                "(give --candidates: the run folder or candidates.jsonl the tasks came from)"
            )
            continue
        problem = check_ranking([c.candidate_id for c in item.candidates], j.value)
        if problem:
            problems.append(f"{j.where}: rank: {j.reviewer}: {problem}")
    if problems:
        raise DataError([*problems, "nothing was stored"])


def judgement_events(
    judgements: list[Judgement], stored: list[LabelEvent], tool: str
) -> tuple[list[tuple[str, LabelEvent]], int]:
    """(new events, judgements already in the store): one event per reviewer and question."""
    last: dict[tuple[TargetKey, str], Judgement] = {}
    for j in judgements:  # the file's last answer of a reviewer to a question counts
        held = last.get((_key(j), j.reviewer))
        if held is None or (j.created_at or datetime.min.replace(tzinfo=UTC)) >= (
            held.created_at or datetime.min.replace(tzinfo=UTC)
        ):
            last[(_key(j), j.reviewer)] = j
    current = latest_judgements(stored)
    known = {e.event_id for e in stored}
    now = datetime.now(UTC)
    items: list[tuple[str, LabelEvent]] = []
    unchanged = 0
    for (key, reviewer), j in last.items():
        digest = hashlib.sha256(
            json.dumps([j.ref, reviewer, list(key), j.value], default=str).encode()
        ).hexdigest()[:20]
        event_id = f"pref-{digest}"
        previous = current.get(key, {}).get(reviewer)
        if event_id in known or (previous is not None and previous.value == j.value):
            unchanged += 1
            continue
        items.append(
            (
                j.where,
                LabelEvent(
                    event_id=event_id,
                    created_at=j.created_at or now,
                    target=LabelTarget(
                        conversation_id=key.conversation_id,
                        turn_index=key.turn_index,
                        field=key.field,  # type: ignore[arg-type]
                    ),
                    value=j.value,
                    source=LabelSource(kind="human_bulk_review", name=reviewer, version=tool),
                    action="correct" if previous is not None else "suggest",
                    reason=j.comment,
                    supersedes=previous.event_id if previous is not None else None,
                ),
            )
        )
    return items, unchanged


class PreferenceImport(StrictModel):
    file: str = Field(description="The imported file.")
    task: str = Field(description="ranking or authenticity.")
    format: str = Field(description="csv, or the Label Studio export format read.")
    judgements: int = Field(description="Judgements read (one per reviewer and question).")
    stored: int = Field(description="Events stored.")
    already_imported: int = Field(description="Judgements the store already had (skipped).")
    reviewers: list[str] = Field(description="Reviewers whose judgements the file holds.")
    warnings: list[str] = Field(default_factory=list, description="What to check.")


def store_judgements(
    store: LabelStore,
    catalog: Catalog,
    judgements: list[Judgement],
    sets: list[CandidateSet],
    tool: str,
) -> tuple[int, int]:
    """Check and append; (events stored, judgements already stored)."""
    check_rankings(judgements, {s.key: s for s in sets})
    items, unchanged = judgement_events(judgements, preference_events(store), tool)
    result = store.append(items, catalog)
    return len(result.stored), unchanged + len(result.already_stored)


def judgements_by_target(
    events: Iterable[LabelEvent], field: str
) -> dict[TargetKey, dict[str, Any]]:
    """target -> reviewer -> value, for one preference field."""
    return {
        k: {r: e.value for r, e in v.items()}
        for k, v in latest_judgements(events).items()
        if k.field == field
    }
