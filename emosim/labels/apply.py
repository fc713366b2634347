"""The label store applied to records read by `export`, `report`, `coverage` and `show`.

Where the store is: `--labels STORE` (a file, or a folder holding labels.sqlite), else the
`labels.sqlite` in the folder of each records file read (a run folder's conversations.jsonl
-> the run folder; `data/x.jsonl` -> `data/labels.sqlite`), if there is one. `--labels none`
reads the records as they are. Records are resolved with the store's events merged into
their embedded history (`emosim.labels.resolve.resolve_record`), so an export row carries
the same label `emosim labels resolve` prints.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord, LabelEvent
from emosim.schemas.common import StrictModel
from emosim.storage.location import StoreLocation, from_env, is_dsn, parse_location

from .policy import ResolutionPolicy
from .resolve import resolve_record
from .store import DEFAULT_STORE, LabelStore
from .targets import ConversationInfo

NONE = "none"
RESOLVER = "emosim.labels.resolve.resolve_record"


class StoreSummary(StrictModel):
    path: str = Field(
        description="The label store read (a SQLite file, or a PostgreSQL DSN without its "
        "password)."
    )
    events: int = Field(ge=0, description="Label events in the store.")
    events_sha256: str = Field(
        description="sha256 of the store's events (their JSON, ordered by event_id): two "
        "stores with the same history have the same hash."
    )


class LabelsApplied(StrictModel):
    """Which label events the records were resolved with, and what that changed."""

    chosen_by: Literal[
        "--labels", "$EMOSIM_STORE", "beside the records", "--labels none", "no store found"
    ] = Field(description="How the stores were chosen.")
    stores: list[StoreSummary] = Field(
        default_factory=list, description="Stores applied (empty: the records' own labels)."
    )
    resolver: str = Field(default=RESOLVER, description="Function that resolved each record.")
    policy: list[str] = Field(description="Source kinds, most trusted first.")
    records: int = Field(ge=0, description="Records resolved.")
    records_with_store_events: int = Field(
        ge=0, description="Records the stores hold events about."
    )
    labels_changed: int = Field(
        ge=0,
        description="Labels (emotion, secondary emotion, intensity, strategy, sentence "
        "function, review status, quality) that differ from the records as read, i.e. from "
        "the model observers' labels written by the run.",
    )
    changed_by_field: dict[str, int] = Field(
        default_factory=dict, description="labels_changed per field."
    )

    def describe(self) -> str:
        """One line for the terminal."""
        if not self.stores:
            why = "--labels none" if self.chosen_by == "--labels none" else "no label store found"
            return f"labels: the records' own ({why})"
        names = ", ".join(f"{s.path} ({s.events} events)" for s in self.stores)
        return (
            f"labels: resolved with {names}; {self.labels_changed} label(s) differ from the "
            f"model's in {self.records} record(s)"
        )


def store_option(value: str | None) -> StoreLocation | None | Literal["none"]:
    """`--labels` -> a store path or Postgres DSN, 'none', or None (look beside the records)."""
    if value is None:
        return None
    if value.strip().lower() == NONE:
        return NONE
    if is_dsn(value):
        return parse_location(value, "--labels")
    path = Path(value)
    if path.is_dir():
        path = path / DEFAULT_STORE
    if not path.is_file():
        raise EmosimError(
            f"--labels: {value}: no label store there (give a labels.sqlite, a folder "
            "holding one, or 'none')"
        )
    return path


def stores_beside(record_files: Iterable[Path]) -> list[Path]:
    """The labels.sqlite in the folder of each records file, once each, where it exists."""
    found: dict[Path, None] = {}
    for file in record_files:
        folder = file if file.is_dir() else file.parent
        candidate = folder / DEFAULT_STORE
        if candidate.is_file():
            found.setdefault(candidate, None)
    return list(found)


def events_sha256(store: LabelStore) -> str:
    digest = hashlib.sha256()
    for (text,) in store.conn.execute("SELECT event_json FROM events ORDER BY event_id"):
        digest.update(text.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def label_values(record: ConversationRecord) -> dict[tuple[int | None, int | None, str], Any]:
    """The labels a record carries, keyed (turn, sentence, field)."""
    out: dict[tuple[int | None, int | None, str], Any] = {
        (None, None, "review_status"): record.quality.review_status,
        (None, None, "quality"): record.quality.scores.get("quality"),
    }
    for turn in record.turns:
        if isinstance(turn, ClientTurn):
            a = turn.annotation
            out[(turn.index, None, "emotion")] = a.primary if a else None
            out[(turn.index, None, "secondary_emotion")] = a.secondary if a else None
            out[(turn.index, None, "intensity")] = a.intensity if a else None
        elif isinstance(turn, AdvisorTurn):
            out[(turn.index, None, "strategy")] = (
                turn.strategies.primary if turn.strategies else None
            )
            for s in turn.sentences:
                out[(turn.index, s.index, "sentence_function")] = s.function
    return out


def _changed(before: ConversationRecord, after: ConversationRecord) -> Counter[str]:
    old, new = label_values(before), label_values(after)
    return Counter(k[2] for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _check_same_text(
    record: ConversationRecord, info: ConversationInfo, store: StoreLocation
) -> None:
    if ConversationInfo.from_record(record).turns != info.turns:
        raise EmosimError(
            f"{store}: conversation {record.id!r} was imported with different text than the "
            "record read now, so its label events are about other words (import the new "
            "records into a new store, or pass --labels none)"
        )


def apply_labels(
    records: list[ConversationRecord],
    record_files: Iterable[Path],
    option: StoreLocation | None | Literal["none"],
    catalog: Catalog,
    policy: ResolutionPolicy | None = None,
) -> tuple[list[ConversationRecord], LabelsApplied]:
    """The records resolved with the chosen stores' events, and what was applied."""
    policy = policy or ResolutionPolicy()
    if option == NONE:
        paths, chosen = [], "--labels none"
    elif option is not None:
        paths, chosen = [option], "--labels"
    elif (shared := from_env()) is not None:
        paths, chosen = [shared], "$EMOSIM_STORE"
    else:
        paths = stores_beside(record_files)
        chosen = "beside the records" if paths else "no store found"
    wanted = {r.id for r in records}
    by_record: dict[str, list[LabelEvent]] = defaultdict(list)
    summaries: list[StoreSummary] = []
    for path in paths:
        with LabelStore.open(path) as db:
            db.require_intact()  # labels from an altered history are not applied
            infos = db.conversations()
            for record in records:
                if record.id in infos:
                    _check_same_text(record, infos[record.id], path)
            for event in db.events():
                if event.target.conversation_id in wanted:
                    by_record[event.target.conversation_id].append(event)
            summaries.append(
                StoreSummary(
                    path=str(path), events=db.count_events(), events_sha256=events_sha256(db)
                )
            )
    changed: Counter[str] = Counter()
    out = []
    for record in records:
        fixed = resolve_record(record, by_record.get(record.id, []), policy=policy, catalog=catalog)
        changed += _changed(record, fixed)
        out.append(fixed)
    applied = LabelsApplied(
        chosen_by=chosen,  # type: ignore[arg-type]
        stores=summaries,
        policy=list(policy.priority),
        records=len(records),
        records_with_store_events=len(by_record),
        labels_changed=sum(changed.values()),
        changed_by_field=dict(sorted(changed.items())),
    )
    return out, applied
