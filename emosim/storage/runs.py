"""Where a run keeps its checkpoints and turn ledger: its own SQLite file, or PostgreSQL.

A run folder always holds the manifest, the records (conversations.jsonl) and the events: the
commands that read a run read those files, whatever the backend. Only the state a
conversation resumes from moves to Postgres: LangGraph's checkpoints (`PostgresSaver`) and
the turn ledger (emosim_turns, emosim_records), in one schema shared by every run
(`emosim_runs`, or `NAME_runs` when the DSN names a schema NAME: a label store's schema must
hold nothing else). A conversation's thread there is `RUN_KEY/CONVERSATION`, so runs never
mix; the run folder names its key and server in `storage.json` (never the password: the
password comes from $EMOSIM_STORE, or from libpq's PGPASSWORD / ~/.pgpass).

`open_run_storage(location, key)` is the seam for code that plays conversations without the
run folder at hand (workers on other hosts): a SQLite file path or a DSN, and the run's key.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from emosim.errors import EmosimError

from .location import Dsn, StoreLocation, from_env

STORAGE_FILE = "storage.json"
DEFAULT_SCHEMA = "emosim_runs"
SYNCHRONOUS_COMMIT = "off"
"""For the run store's own connections only. A commit returns before the server's WAL flush:
a killed client or worker loses nothing (the server holds every acknowledged write), and a
crash of the server itself loses at most the last fraction of a second of steps, as a suffix
(WAL order), so a turn row is never lost while the checkpoint counting it survives; those
conversations resume a few steps earlier. Waiting for the flush made a step's writes cost
14.7 ms instead of 4.7 ms on the benchmark machine (`python -m benchmarks postgres`)."""
SEPARATOR = "/"  # thread id on Postgres: RUN_KEY/CONVERSATION


class RunStore(Protocol):
    """A run's checkpointer and turn ledger, open."""

    saver: Any  # a LangGraph BaseCheckpointSaver
    ledger: Any  # emosim.graphs.ledger.Ledger
    conn: Any
    where: str  # for messages: a path, or a DSN without its password

    def thread(self, conversation: str) -> str: ...

    def conversations(self) -> list[str]: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


# --- SQLite: the run folder's own file (the default) ----------------------------------------


def connect_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class SqliteRunStore:
    """Checkpoints and ledger in one SQLite file and one connection: a turn row rides in the
    transaction of the checkpoint that follows it (see emosim/graphs/ledger.py)."""

    def __init__(self, path: Path, conn: sqlite3.Connection | None = None):
        from langgraph.checkpoint.sqlite import SqliteSaver

        from emosim.graphs.ledger import Ledger

        self.where = str(path)
        self.conn = conn if conn is not None else connect_sqlite(path)
        self.saver = SqliteSaver(self.conn)
        self.saver.setup()
        self.ledger = Ledger(self.conn, self.saver.lock)

    def thread(self, conversation: str) -> str:
        return conversation

    def conversations(self) -> list[str]:
        with self.saver.lock:
            rows = self.conn.execute(
                "SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id"
            ).fetchall()
        return [r[0] for r in rows]

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def runs_schema(dsn: Dsn) -> str:
    """Where runs live in a database: beside a label store, never in its schema."""
    return f"{dsn.schema}_runs" if dsn.schema else DEFAULT_SCHEMA


def public_url(dsn: Dsn) -> str:
    """The DSN without a password anywhere (what a run folder may keep)."""
    parts = urlsplit(dsn.url)
    netloc = parts.netloc.rpartition("@")
    host = netloc[2]
    user = netloc[0].split(":", 1)[0] if netloc[1] else ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host, query=query))


def _server(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    return (
        parts.username or "",
        parts.hostname or "",
        parts.port or 5432,
        parts.path.strip("/"),
    )


def dsn_for(address: str, given: StoreLocation | None = None) -> Dsn:
    """The DSN to reach a run's server: the given setting ($EMOSIM_STORE by default) when it
    names the same user, host, port and database (it may carry the password), else the
    run's own password-less address (libpq then reads PGPASSWORD or ~/.pgpass)."""
    setting = given if given is not None else from_env()
    if isinstance(setting, Dsn) and _server(setting.url) == _server(address):
        return setting
    return Dsn(address)


class PostgresRunStore:
    """Checkpoints (LangGraph's PostgresSaver) and the ledger on one autocommit connection.

    Consistency without a shared transaction: a turn row is committed by itself when its node
    writes it, which is before the checkpoint that counts it (LangGraph saves a step's
    checkpoint after its nodes return). Rows at or past a checkpoint's `turn_count` are never
    read and are replaced, keyed by (run, conversation, index), when the node runs again on
    resume; so no checkpoint is ever durable without its turns."""

    def __init__(self, dsn: Dsn, key: str, *, schema: str | None = None, create: bool = True):
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        from emosim.graphs.ledger import PostgresLedger

        self.key = key
        self.fresh = False  # True when this open registered the run
        self.schema = schema or runs_schema(dsn)
        self.where = f"{public_url(dsn)} (schema {self.schema}, run {key})"
        try:
            self.conn = psycopg.connect(
                dsn.url, autocommit=True, prepare_threshold=0, row_factory=dict_row
            )
        except psycopg.Error as exc:
            raise EmosimError(
                f"{dsn}: cannot connect for run {key} ({_first_line(exc)}); start the server "
                "(scripts/postgres-dev.sh) or set $EMOSIM_STORE to its address with the password"
            ) from None
        try:
            self._prepare(create)
            self.saver = PostgresSaver(self.conn)  # type: ignore[arg-type]
            self.ledger = PostgresLedger(self.conn, self.saver.lock, key)
        except BaseException:
            self.conn.close()
            raise

    def _prepare(self, create: bool) -> None:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import sql

        from emosim.graphs.ledger import POSTGRES_SCHEMA

        schema = sql.Identifier(self.schema)
        self.conn.execute(f"SET synchronous_commit = {SYNCHRONOUS_COMMIT}")
        if not create:
            found = self.conn.execute(
                "SELECT to_regclass(%s) AS runs", (f'"{self.schema}".emosim_runs',)
            ).fetchone()
            if found is None or found["runs"] is None:
                raise EmosimError(f"{self.where}: no runs stored here")
            self.conn.execute(sql.SQL("SET search_path TO {}").format(schema))
            if not self._registered():
                raise EmosimError(f"{self.where}: no such run stored here")
            return
        # one process at a time makes the tables (workers may open a new run together)
        lock = f"emosim.runs.{self.schema}"
        self.conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
        try:
            self.conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            self.conn.execute(sql.SQL("SET search_path TO {}").format(schema))
            PostgresSaver(self.conn).setup()  # type: ignore[arg-type]
            for statement in POSTGRES_SCHEMA:
                self.conn.execute(statement)
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock,))
        cursor = self.conn.execute(
            "INSERT INTO emosim_runs (run) VALUES (%s) ON CONFLICT DO NOTHING", (self.key,)
        )
        self.fresh = cursor.rowcount == 1

    def _registered(self) -> bool:
        row = self.conn.execute("SELECT 1 FROM emosim_runs WHERE run = %s", (self.key,)).fetchone()
        return row is not None

    def thread(self, conversation: str) -> str:
        return f"{self.key}{SEPARATOR}{conversation}"

    def conversations(self) -> list[str]:
        prefix = f"{self.key}{SEPARATOR}"
        with self.saver.lock:
            rows = self.conn.execute(
                "SELECT DISTINCT thread_id FROM checkpoints WHERE starts_with(thread_id, %s)",
                (prefix,),
            ).fetchall()
        return sorted(r["thread_id"][len(prefix) :] for r in rows)

    def commit(self) -> None:
        """Nothing to do: every write is committed as it is made."""

    def drop(self) -> None:
        """Remove every row of this run (a failed copy; a benchmark's own runs)."""
        for conversation in self.conversations():
            self.saver.delete_thread(self.thread(conversation))
        with self.saver.lock, self.conn.transaction():
            for table in ("emosim_turns", "emosim_records", "emosim_runs"):
                self.conn.execute(f"DELETE FROM {table} WHERE run = %s", (self.key,))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- a run folder's storage -----------------------------------------------------------------


@dataclass(frozen=True)
class RunStorage:
    """What `storage.json` says (absent: SQLite in the folder)."""

    address: str | None = None  # a password-less DSN
    schema: str | None = None
    key: str | None = None

    @property
    def postgres(self) -> bool:
        return self.address is not None

    def describe(self, folder: Path) -> str:
        if not self.postgres:
            return str(folder / "checkpoints.sqlite")
        return f"{self.address} (schema {self.schema}, run {self.key})"


def read_storage(folder: Path) -> RunStorage:
    path = folder / STORAGE_FILE
    if not path.is_file():
        return RunStorage()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        storage = RunStorage(str(data["address"]), str(data["schema"]), str(data["key"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmosimError(
            f"{path}: unreadable run storage ({exc}); expected address, schema and key"
        ) from None
    if not storage.address.lower().startswith(("postgresql://", "postgres://")):  # type: ignore[union-attr]
        raise EmosimError(f"{path}: address: not a postgresql:// address: {storage.address!r}")
    return storage


def write_storage(folder: Path, dsn: Dsn, key: str) -> RunStorage:
    from emosim.files import write_text_atomic

    storage = RunStorage(public_url(dsn), runs_schema(dsn), key)
    write_text_atomic(
        folder / STORAGE_FILE,
        json.dumps(
            {"address": storage.address, "schema": storage.schema, "key": storage.key}, indent=2
        )
        + "\n",
    )
    return storage


def open_run_storage(
    location: StoreLocation, key: str, *, schema: str | None = None, create: bool = True
) -> RunStore:
    """A run's checkpointer and ledger: a SQLite file (made if missing) or a DSN (the run's
    rows under `key`). For code that plays a run's conversations away from its folder."""
    if isinstance(location, Dsn):
        return PostgresRunStore(location, key, schema=schema, create=create)
    return SqliteRunStore(Path(location))


def open_folder_storage(
    folder: Path, run_id: str, *, create: bool = True, given: StoreLocation | None = None
) -> RunStore:
    """The store of a run folder, as its storage.json says (the password from `given`, else
    from the setting)."""
    storage = read_storage(folder)
    if not storage.postgres:
        from emosim.runs import CHECKPOINTS

        return SqliteRunStore(folder / CHECKPOINTS)
    return PostgresRunStore(
        dsn_for(storage.address, given),  # type: ignore[arg-type]
        storage.key or run_id,
        schema=storage.schema,
        create=create,
    )
