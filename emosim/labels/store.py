"""The label store: SQLite file with the conversations and their append-only label events.

The `events` table refuses UPDATE and DELETE (triggers), so history cannot be rewritten even
by a buggy caller; a batch goes in one transaction after `checks.check_events` passed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter

from emosim.catalog import Catalog
from emosim.errors import DataError, EmosimError
from emosim.schemas import ConversationRecord, LabelEvent

from .checks import CheckedBatch, check_events
from .roles import Roles, load_roles
from .targets import ConversationInfo, TurnInfo

DEFAULT_STORE = "labels.sqlite"
_EVENT_LIST = TypeAdapter(list[LabelEvent])
STORE_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
    turn_index INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn_index)
);
CREATE TABLE IF NOT EXISTS sentences (
    conversation_id TEXT NOT NULL,
    turn_index INTEGER NOT NULL,
    sentence_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn_index, sentence_index),
    FOREIGN KEY (conversation_id, turn_index) REFERENCES turns(conversation_id, turn_index)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
    turn_index INTEGER,
    sentence_index INTEGER,
    field TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TEXT NOT NULL,
    supersedes TEXT,
    stored_at TEXT NOT NULL,
    event_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_target
    ON events (conversation_id, turn_index, sentence_index, field);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'label events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'label events are append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS conversations_no_update BEFORE UPDATE ON conversations
BEGIN SELECT RAISE(ABORT, 'imported conversations are immutable: UPDATE refused'); END;
"""


def utc(moment: datetime) -> datetime:
    """Naive timestamps are read as UTC so that every event sorts on one clock."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def store_path_for(store: Path | None, datasets: Iterable[Path] = ()) -> Path:
    """Where the label store is.

    `--store` (a folder means its labels.sqlite); else, for commands given records, the
    labels.sqlite in their folder (a run folder, or the folder of a .jsonl/.json file), the
    same place `export`, `report`, `coverage` and `show` look; else ./labels.sqlite.
    """
    if store is not None:
        return store / DEFAULT_STORE if store.is_dir() else store
    folders = list(dict.fromkeys(d if d.is_dir() else d.parent for d in datasets))
    if len(folders) > 1:
        raise EmosimError(
            f"records in {len(folders)} folders ({', '.join(map(str, folders))}): "
            "pass --store to say which label store they go into"
        )
    return folders[0] / DEFAULT_STORE if folders else Path(DEFAULT_STORE)


@dataclass
class AppendResult:
    stored: list[LabelEvent]
    already_stored: list[LabelEvent]
    conversations_added: int = 0


class LabelStore:
    """One SQLite label store. Use as a context manager; every write is one transaction."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self._infos: dict[str, ConversationInfo] | None = None
        self._roles: Roles | None = None

    @property
    def roles(self) -> Roles:
        """Who may supersede other people's events (label_roles.yaml), read once."""
        if self._roles is None:
            self._roles = load_roles()
        return self._roles

    @roles.setter
    def roles(self, value: Roles) -> None:
        self._roles = value

    @classmethod
    def open(cls, path: Path, create: bool = False) -> LabelStore:
        if not create and not path.is_file():
            raise EmosimError(
                f"{path}: no label store here (run `emosim labels import RUN_OR_FILE` "
                "first, or pass --store: a labels.sqlite, or the run folder holding it)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('store_version', ?)",
                (STORE_VERSION,),
            )
            conn.commit()
        except sqlite3.DatabaseError as exc:
            raise EmosimError(f"{path}: not a label store ({exc})") from None
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------

    def conversations(self) -> dict[str, ConversationInfo]:
        """Every imported conversation with its turns and sentences (cached per store)."""
        if self._infos is None:
            infos: dict[str, ConversationInfo] = {}
            for cid, topic, sub, scenario in self.conn.execute(
                "SELECT conversation_id, topic, subcategory, scenario_id FROM conversations"
            ):
                infos[cid] = ConversationInfo(cid, topic, sub, scenario, [])
            for cid, _turn, speaker, text in self.conn.execute(
                "SELECT conversation_id, turn_index, speaker, text FROM turns "
                "ORDER BY conversation_id, turn_index"
            ):
                infos[cid].turns.append(TurnInfo(speaker, text))
            for cid, turn, _sentence, text in self.conn.execute(
                "SELECT conversation_id, turn_index, sentence_index, text FROM sentences "
                "ORDER BY conversation_id, turn_index, sentence_index"
            ):
                infos[cid].turns[turn].sentences.append(text)
            self._infos = infos
        return self._infos

    def records(self, conversation_ids: Iterable[str] | None = None) -> list[ConversationRecord]:
        """The imported records as they were imported (their embedded events included)."""
        rows = self.conn.execute(
            "SELECT conversation_id, record_json FROM conversations ORDER BY conversation_id"
        )
        wanted = set(conversation_ids) if conversation_ids is not None else None
        return [
            ConversationRecord.model_validate_json(text)
            for cid, text in rows
            if wanted is None or cid in wanted
        ]

    def events(self, conversation_id: str | None = None) -> list[LabelEvent]:
        """Events in the order they were stored."""
        sql = "SELECT event_json FROM events"
        args: tuple[str, ...] = ()
        if conversation_id is not None:
            sql += " WHERE conversation_id = ?"
            args = (conversation_id,)
        rows = [text for (text,) in self.conn.execute(sql + " ORDER BY seq", args)]
        return _EVENT_LIST.validate_json("[" + ",".join(rows) + "]")

    def events_by_conversation(self) -> Iterator[tuple[str, list[LabelEvent]]]:
        """Each conversation's events in stored order, one conversation at a time: memory is
        that of the largest conversation, however many events the store holds."""
        rows = self.conn.execute(
            "SELECT conversation_id, event_json FROM events ORDER BY conversation_id, seq"
        )
        current, texts = "", []
        for cid, text in rows:
            if cid != current and texts:
                yield current, _EVENT_LIST.validate_json("[" + ",".join(texts) + "]")
                texts = []
            current = cid
            texts.append(text)
        if texts:
            yield current, _EVENT_LIST.validate_json("[" + ",".join(texts) + "]")

    def events_by_id(self, ids: Iterable[str]) -> dict[str, LabelEvent]:
        wanted = sorted({i for i in ids if i})
        found: dict[str, LabelEvent] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for (text,) in self.conn.execute(
                f"SELECT event_json FROM events WHERE event_id IN ({marks})", chunk
            ):
                event = LabelEvent.model_validate_json(text)
                found[event.event_id] = event
        return found

    def count_events(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    # --- writing ---------------------------------------------------------------------------

    def check(
        self,
        items: list[tuple[str, LabelEvent]],
        catalog: Catalog,
        extra: dict[str, ConversationInfo] | None = None,
    ) -> CheckedBatch:
        known = self.conversations()
        extra = extra or {}
        ids = [e.event_id for _, e in items] + [e.supersedes or "" for _, e in items]
        return check_events(
            items,
            lambda cid: extra.get(cid) or known.get(cid),
            self.events_by_id(ids),
            catalog,
            self.roles,
        )

    def append(self, items: list[tuple[str, LabelEvent]], catalog: Catalog) -> AppendResult:
        """Check the whole batch, then store its new events in one transaction."""
        batch = self.check(items, catalog)
        with self.conn:
            self._insert_events(batch.new)
        return AppendResult(batch.new, batch.already_stored)

    def import_records(
        self, items: list[tuple[str, ConversationRecord]], catalog: Catalog
    ) -> AppendResult:
        """Add records (conversation, turns, sentences) and their embedded events, atomically."""
        known = self.conversations()
        new: dict[str, tuple[str, ConversationRecord]] = {}
        problems: list[str] = []
        for where, record in items:
            if record.id in known or record.id in new:
                old = known.get(record.id) or ConversationInfo.from_record(new[record.id][1])
                if old.turns != ConversationInfo.from_record(record).turns:
                    problems.append(
                        f"{where}: conversation {record.id!r} is already in {self.path} with "
                        "different text (use another store for a changed dataset)"
                    )
                continue
            new[record.id] = (where, record)
        if problems:
            raise DataError([*problems, "nothing was stored"])
        infos = {cid: ConversationInfo.from_record(r) for cid, (_, r) in new.items()}
        events = [
            (f"{where}: label_events.{j}", event)
            for where, record in items
            for j, event in enumerate(record.label_events)
        ]
        batch = self.check(events, catalog, extra=infos)
        now = datetime.now(UTC).isoformat()
        with self.conn:
            for cid, (where, record) in new.items():
                self.conn.execute(
                    "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        cid,
                        record.scenario.topic,
                        record.scenario.subcategory,
                        record.scenario.scenario_id,
                        where.rsplit(":", 1)[0],
                        now,
                        record.model_dump_json(),
                    ),
                )
                for index, turn in enumerate(infos[cid].turns):
                    self.conn.execute(
                        "INSERT INTO turns VALUES (?, ?, ?, ?)",
                        (cid, index, turn.speaker, turn.text),
                    )
                    self.conn.executemany(
                        "INSERT INTO sentences VALUES (?, ?, ?, ?)",
                        [(cid, index, s, text) for s, text in enumerate(turn.sentences)],
                    )
            self._insert_events(batch.new)
        self._infos = None
        return AppendResult(batch.new, batch.already_stored, len(new))

    def _insert_events(self, events: list[LabelEvent]) -> None:
        now = datetime.now(UTC).isoformat()
        self.conn.executemany(
            "INSERT INTO events (event_id, conversation_id, turn_index, sentence_index, field, "
            "source_kind, source_name, action, created_at, supersedes, stored_at, event_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.event_id,
                    e.target.conversation_id,
                    e.target.turn_index,
                    e.target.sentence_index,
                    e.target.field,
                    e.source.kind,
                    e.source.name,
                    e.action,
                    utc(e.created_at).isoformat(),
                    e.supersedes,
                    now,
                    e.model_dump_json(),
                )
                for e in events
            ],
        )


def iter_dataset(paths: Iterable[Path]) -> Iterator[tuple[str, ConversationRecord]]:
    """Records from run folders (their conversations.jsonl) and .json/.jsonl record files."""
    from pydantic import ValidationError

    from emosim.files import format_validation_error, iter_json_documents
    from emosim.runs import RECORDS

    for path in paths:
        if path.is_dir():
            if not (path / RECORDS).is_file():
                raise EmosimError(f"{path}: a folder but not a run (no {RECORDS})")
            path = path / RECORDS
        for where, doc in iter_json_documents(path):
            try:
                yield where, ConversationRecord.model_validate(doc)
            except ValidationError as exc:
                raise DataError(
                    [*format_validation_error(exc, where), "nothing was stored"]
                ) from None
