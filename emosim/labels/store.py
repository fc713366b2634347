"""The label store: SQLite file with the conversations and their append-only label events.

Every table refuses UPDATE, DELETE and replacing INSERTs (triggers, `ddl`), events and
conversations are hash-chained (`chain`: `emosim labels verify`), and a batch is checked
and stored inside one write transaction, so a concurrent resend of the same events sees
them and stores nothing twice.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from emosim.catalog import Catalog
from emosim.errors import DataError, EmosimError
from emosim.heap import collection_paused
from emosim.schemas import ConversationRecord, LabelEvent
from emosim.storage.location import Dsn, StoreLocation, from_env, parse_location

from .backends import dialect_of
from .chain import ChainReport, conversation_head, event_head, link, verify
from .checks import CLOCK_SKEW, CheckedBatch, Pending, StoredRef, check_events, quick_batch
from .ddl import STORE_VERSION, prepare
from .eventjson import event_json
from .roles import Roles, SourceRef, load_roles
from .targets import ConversationInfo, TargetKey, TurnInfo, TurnShape

__all__ = [
    "DEFAULT_STORE",
    "STORE_VERSION",
    "LabelStore",
    "Pending",
    "StoreBusy",
    "TamperedStore",
    "event_json",
]

DEFAULT_STORE = "labels.sqlite"
DEFAULT_TIMEOUT = 5.0  # seconds a writer waits for another writer before giving up
CACHE_KIB = 32_768  # page cache per connection: the indexes of a large store stay in memory
_EVENT_LIST = TypeAdapter(list[LabelEvent])


class StoreBusy(EmosimError):
    """Another writer held the store for longer than the timeout: try again shortly."""


class _Stored(Exception):
    """An event of the batch is stored already: undo, and check it the careful way."""


class TamperedStore(EmosimError):
    """The store's hash chain or its append-only guards are broken."""


def _json_list(values: Iterable[str]) -> str:
    """One bound parameter for `IN (SELECT value FROM json_each(?))`: any number of ids."""
    return orjson.dumps(list(values)).decode()


def utc(moment: datetime) -> datetime:
    """Naive timestamps are read as UTC so that every event sorts on one clock."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def store_path_for(
    store: str | StoreLocation | None, datasets: Iterable[Path] = ()
) -> StoreLocation:
    """Where the label store is.

    `--store` (a folder means its labels.sqlite; postgresql://... a Postgres store), else
    $EMOSIM_STORE; else, for commands given records, the labels.sqlite in their folder (a
    run folder, or the folder of a .jsonl/.json file), the same place `export`, `report`,
    `coverage` and `show` look; else ./labels.sqlite.
    """
    chosen = parse_location(store) if store is not None else from_env()
    if isinstance(chosen, Dsn):
        return chosen
    if chosen is not None:
        return chosen / DEFAULT_STORE if chosen.is_dir() else chosen
    folders = list(dict.fromkeys(d if d.is_dir() else d.parent for d in datasets))
    if len(folders) > 1:
        raise EmosimError(
            f"records in {len(folders)} folders ({', '.join(map(str, folders))}): "
            "pass --store to say which label store they go into"
        )
    return folders[0] / DEFAULT_STORE if folders else Path(DEFAULT_STORE)


@dataclass
class AppendResult:
    stored: list[Pending]
    already_stored: list[Pending]
    conversations_added: int = 0


# a Pending's fields by position, read column by column (in C) over a batch
_ID, _KEY, _SUPERSEDES, _CID = itemgetter(1), itemgetter(2), itemgetter(5), itemgetter(0)

EVENT_INSERT = (
    "INSERT INTO events (event_id, conversation_id, turn_index, sentence_index, field, "
    "source_kind, source_name, action, created_at, supersedes, stored_at, event_json, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class LabelStore:
    """One label store (a SQLite file, or PostgreSQL: `backends`). Use as a context manager;
    every write is one transaction."""

    def __init__(self, path: StoreLocation, conn: Any, timeout: float = DEFAULT_TIMEOUT):
        self.path = path
        self.conn = conn
        self.dialect = dialect_of(conn)
        self.timeout = timeout
        self.clock_skew: timedelta = CLOCK_SKEW
        self.upgraded: int | None = None  # events chained when a version 1 store was opened
        self._known: dict[str, ConversationInfo] = {}
        self._shapes: dict[str, list[TurnShape]] = {}
        self._all_loaded = False
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
    def open(
        cls, path: StoreLocation, create: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> LabelStore:
        """Open (or, with `create`, make) a store; a version 1 store is upgraded to the hash
        chain on the spot (its existing events are chained from then on)."""
        if isinstance(path, Dsn):
            from .backends.postgres import connect

            return cls(path, connect(path, create, timeout), timeout)
        if not create and not path.is_file():
            raise EmosimError(
                f"{path}: no label store here (run `emosim labels import RUN_OR_FILE` "
                "first, or pass --store: a labels.sqlite, or the run folder holding it)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = None
        try:
            conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            upgraded = prepare(conn, str(path))
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
        except (EmosimError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, EmosimError):
                raise
            if _is_busy(exc):
                raise _busy(path, timeout) from None
            if "readonly" in str(exc).replace(" ", ""):
                raise EmosimError(f"{path}: cannot write the label store ({exc})") from None
            raise EmosimError(f"{path}: not a label store ({exc})") from None
        store = cls(path, conn, timeout)
        store.upgraded = upgraded
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, taken before anything is read: checks see every event a
        concurrent writer stored, and nobody writes between the check and the insert."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            if self.dialect.is_busy(exc):
                raise _busy(self.path, self.timeout) from None
            raise
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self.conn.execute("ROLLBACK")
            if self.dialect.is_refused(exc):
                why = str(exc).strip().splitlines()[0]
                raise EmosimError(
                    f"{self.path}: the store refused the write ({why}); nothing was stored"
                ) from None
            if self.dialect.is_busy(exc):
                raise _busy(self.path, self.timeout) from None
            raise

    # --- integrity ---------------------------------------------------------------------------

    def verify(self, expect_head: str | None = None) -> ChainReport:
        """Recompute the hash chains and check the guards (see `chain.verify`)."""
        return verify(self.conn, expect_head)

    def require_intact(self) -> None:
        """Refuse to go on with a store whose history was altered."""
        report = self.verify()
        if not report.ok:
            more = f" (and {report.unlisted} more)" if report.unlisted else ""
            raise TamperedStore(
                f"{self.path}: the label history was altered, so its labels cannot be trusted: "
                f"{report.problems[0]}{more}; `emosim labels verify --store {self.path}` "
                "lists every problem"
            )

    # --- reading ---------------------------------------------------------------------------

    def conversations(self) -> dict[str, ConversationInfo]:
        """Every imported conversation with its turns and sentences (cached per store)."""
        if not self._all_loaded:
            self._load(None)
            self._all_loaded = True
        return self._known

    def infos(self, ids: Iterable[str]) -> dict[str, ConversationInfo]:
        """The named conversations that are in the store; each read once."""
        missing = {i for i in ids if i not in self._known}
        if missing:  # unknown ids are asked again: a concurrent import may have added them
            self._load(missing)
        return self._known

    def shapes(self, ids: Iterable[str]) -> dict[str, list[TurnShape]]:
        """The turns' shape (speaker, sentence count) of the named conversations that are in
        the store: what target checks need, without their text."""
        missing = {i for i in ids if i not in self._shapes}
        for cid in [i for i in missing if i in self._known]:
            self._shapes[cid] = self._known[cid].shape()
            missing.discard(cid)
        if missing:
            arg = (_json_list(sorted(missing)),)
            new = tuple.__new__  # NamedTuples from tuples, without their Python-level __new__
            fresh: dict[str, list[TurnShape]] = {
                cid: []
                for (cid,) in self.conn.execute(
                    "SELECT conversation_id FROM conversations "
                    "WHERE conversation_id IN (SELECT value FROM json_each(?))",
                    arg,
                )
            }
            for cid, speaker, sentences in self.conn.execute(
                "SELECT t.conversation_id, t.speaker, (SELECT COUNT(*) FROM sentences s "
                "WHERE s.conversation_id = t.conversation_id AND s.turn_index = t.turn_index) "
                "FROM (SELECT value FROM json_each(?)) j JOIN turns t ON t.conversation_id = j.value "
                "ORDER BY t.conversation_id, t.turn_index",
                arg,
            ):
                fresh[cid].append(new(TurnShape, (speaker, sentences)))
            self._shapes.update(fresh)
        return self._shapes

    def _load(self, ids: set[str] | None) -> None:
        where, args = "", ()
        if ids is not None:
            where = " WHERE conversation_id IN (SELECT value FROM json_each(?))"
            args = (_json_list(ids),)
        infos = self._known
        fresh: dict[str, ConversationInfo] = {}
        for cid, topic, sub, scenario in self.conn.execute(
            "SELECT conversation_id, topic, subcategory, scenario_id FROM conversations" + where,
            args,
        ):
            if cid not in infos:
                fresh[cid] = ConversationInfo(cid, topic, sub, scenario, [])
        if not fresh:
            return
        for cid, _turn, speaker, text in self.conn.execute(
            "SELECT conversation_id, turn_index, speaker, text FROM turns"
            + where
            + " ORDER BY conversation_id, turn_index",
            args,
        ):
            if cid in fresh:
                fresh[cid].turns.append(TurnInfo(speaker, text))
        for cid, turn, _sentence, text in self.conn.execute(
            "SELECT conversation_id, turn_index, sentence_index, text FROM sentences"
            + where
            + " ORDER BY conversation_id, turn_index, sentence_index",
            args,
        ):
            if cid in fresh:
                fresh[cid].turns[turn].sentences.append(text)
        infos.update(fresh)

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
        refs = self.refs_by_id(ids)
        texts = [ref.event_json for ref in refs.values()]
        return {e.event_id: e for e in _EVENT_LIST.validate_json("[" + ",".join(texts) + "]")}

    def refs_by_id(self, ids: Iterable[str]) -> dict[str, StoredRef]:
        """The stored events among `ids`, as checks need them (no event is parsed)."""
        wanted = set(ids) - {None, ""}
        if not wanted:
            return {}
        rows = self.conn.execute(  # ids in index order: each lookup lands near the last
            "SELECT e.event_id, e.conversation_id, e.turn_index, e.sentence_index, e.field, "
            "e.source_kind, e.source_name, e.event_json "
            "FROM (SELECT value FROM json_each(?)) j JOIN events e ON e.event_id = j.value",
            (_json_list(sorted(wanted)),),
        )
        new = tuple.__new__  # NamedTuples from tuples, without their Python-level __new__
        return {
            r[0]: new(StoredRef, (r[0], new(TargetKey, r[1:5]), new(SourceRef, r[5:7]), r[7]))
            for r in rows
        }

    def count_events(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    # --- writing ---------------------------------------------------------------------------

    def check(
        self,
        items: list[Pending],
        catalog: Catalog,
        extra: dict[str, ConversationInfo] | None = None,
    ) -> CheckedBatch:
        """Check a batch against the store (call inside `_write` to hold what it read)."""
        shapes = {cid: info.shape() for cid, info in (extra or {}).items()}
        keys = set(map(_KEY, items))
        shapes.update(self.shapes(set(map(_CID, keys)) - shapes.keys()))
        ids = set(map(_ID, items))  # its own ids (a resend?) and the events it supersedes
        ids.update(map(_SUPERSEDES, items))
        args = (items, shapes.get, self.refs_by_id(ids), catalog, self.roles)
        # the batch as a whole; on any doubt, event by event (which names every problem)
        return quick_batch(*args, clock_skew=self.clock_skew) or check_events(
            *args, clock_skew=self.clock_skew
        )

    def append(
        self, items: Sequence[Pending | tuple[str, LabelEvent]], catalog: Catalog
    ) -> AppendResult:
        """Check the whole batch, then store its new events, in one write transaction.

        Items are (where, LabelEvent) pairs, or `Pending` events a stream built directly."""
        with collection_paused():
            pending = [i if isinstance(i, Pending) else Pending.of(*i) for i in items]
            batch = self._append_new(pending, catalog) if self.dialect.name == "sqlite" else None
            if batch is None:
                with self._write():
                    batch = self.check(pending, catalog)
                    self._insert_events(batch.new)
        return AppendResult(batch.new, batch.already_stored)

    def _append_new(self, items: list[Pending], catalog: Catalog) -> CheckedBatch | None:
        """Store a batch of new events, checked as a whole, without looking its own ids up
        first (SQLite): an id already stored (a resend) makes the insert fail (the insert
        guard, the UNIQUE event_id), the transaction is rolled back and None says to check
        the batch the careful way, in a new one. None too when the batch check declines."""
        try:
            with self._write():
                shapes = self.shapes(set(map(_CID, set(map(_KEY, items)))))
                refs = self.refs_by_id(map(_SUPERSEDES, items))
                args = (items, shapes.get, refs, catalog, self.roles)
                batch = quick_batch(*args, clock_skew=self.clock_skew)
                if batch is not None:
                    try:
                        self._insert_events(batch.new)
                    except sqlite3.IntegrityError:
                        raise _Stored from None
        except _Stored:
            return None
        return batch

    def import_records(
        self, items: list[tuple[str, ConversationRecord]], catalog: Catalog
    ) -> AppendResult:
        """Add records (conversation, turns, sentences) and their embedded events, atomically."""
        with self._write():
            known = self.infos({record.id for _, record in items})
            new: dict[str, tuple[str, ConversationRecord]] = {}
            problems: list[str] = []
            for where, record in items:
                if record.id in known or record.id in new:
                    old = known.get(record.id) or ConversationInfo.from_record(new[record.id][1])
                    if old.turns != ConversationInfo.from_record(record).turns:
                        problems.append(
                            f"{where}: conversation {record.id!r} is already in {self.path} "
                            "with different text (use another store for a changed dataset)"
                        )
                    continue
                new[record.id] = (where, record)
            if problems:
                raise DataError([*problems, "nothing was stored"])
            infos = {cid: ConversationInfo.from_record(r) for cid, (_, r) in new.items()}
            events = [
                Pending.of(f"{where}: label_events.{j}", event)
                for where, record in items
                for j, event in enumerate(record.label_events)
            ]
            batch = self.check(events, catalog, extra=infos)
            self._insert_conversations(new, infos)
            self._insert_events(batch.new)
        self._known.update(infos)
        return AppendResult(batch.new, batch.already_stored, len(new))

    def _insert_conversations(
        self, new: dict[str, tuple[str, ConversationRecord]], infos: dict[str, ConversationInfo]
    ) -> None:
        now = datetime.now(UTC).isoformat()
        seq, prev = conversation_head(self.conn)
        for cid, (where, record) in new.items():
            row = (
                cid,
                record.scenario.topic,
                record.scenario.subcategory,
                record.scenario.scenario_id,
                where.rsplit(":", 1)[0],
                now,
                record.model_dump_json(),
            )
            turns = infos[cid].turns
            shape = [
                [i, t.speaker, t.text, [[s, text] for s, text in enumerate(t.sentences)]]
                for i, t in enumerate(turns)
            ]
            seq, prev = seq + 1, link(prev, [*row, shape])
            self.conn.execute(
                "INSERT INTO conversations (conversation_id, topic, subcategory, scenario_id, "
                "source, imported_at, record_json, chain_seq, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, seq, prev),
            )
            self.conn.executemany(
                "INSERT INTO turns (conversation_id, turn_index, speaker, text) "
                "VALUES (?, ?, ?, ?)",
                [(cid, i, t.speaker, t.text) for i, t in enumerate(turns)],
            )
            self.conn.executemany(
                "INSERT INTO sentences (conversation_id, turn_index, sentence_index, text) "
                "VALUES (?, ?, ?, ?)",
                [
                    (cid, i, s, text)
                    for i, t in enumerate(turns)
                    for s, text in enumerate(t.sentences)
                ],
            )

    def _insert_events(self, events: list[Pending]) -> None:
        """Rows in order, each hashed with the one before it (inside the write transaction:
        the head cannot move underneath)."""
        if events:
            now = datetime.now(UTC).isoformat()
            self.conn.executemany(EVENT_INSERT, event_rows(events, event_head(self.conn), now))


def event_rows(events: Iterable[Pending], prev: str, stored_at: str) -> list[tuple]:
    """The `events` rows of a batch (in `EVENT_INSERT`'s column order), chained after
    `prev`, the hash of the store's last event: each row's hash is `chain.link(prev, row)`.

    Built column by column (this runs for every event stored): the loop left is the hash."""
    events = events if isinstance(events, list) else list(events)
    if not events:
        return []
    _, ids, keys, actions, _, supersedes, moments, sources, texts = zip(*events, strict=True)
    cids, turns, sentences, fields = zip(*keys, strict=True)
    kinds, names = zip(*sources, strict=True)
    created = _utc_texts(moments)
    columns = (ids, cids, turns, sentences, fields, kinds, names, actions, created, supersedes,
               [stored_at] * len(ids), texts)  # fmt: skip
    hashes = _chain(list(zip(*columns, strict=True)), prev)
    return list(zip(*columns, hashes, strict=True))


_ZERO = timedelta(0)


def _utc_texts(moments: Sequence[datetime]) -> list[str]:
    """Each moment in UTC as `isoformat` writes it (naive read as UTC), as orjson writes a
    list of datetimes in one call (a datetime holds no quote: the list splits at `","`)."""
    if set(map(datetime.utcoffset, moments)) != {_ZERO}:
        moments = [utc(m) for m in moments]
    texts = orjson.dumps(moments)[2:-2].decode().split('","')
    assert len(texts) == len(moments)
    return texts


def _chain(body: list[tuple], prev: str) -> list[str]:
    """The chain hash of each row, `chain.link(prev, row)`, written out with its names bound
    once (the one loop left that runs for every event stored)."""
    out = []
    dumps, sha256, add = orjson.dumps, hashlib.sha256, out.append
    for row in body:
        prev = sha256(dumps((prev, *row))).hexdigest()
        add(prev)
    return out


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _busy(path: StoreLocation, timeout: float) -> StoreBusy:
    return StoreBusy(
        f"{path}: the label store is busy (another writer held it for more than "
        f"{timeout:g} s); nothing was stored, try again"
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
