"""The turn ledger: finished turns, stored once each, beside the checkpoints.

Checkpoints store the whole state at every step. Keeping finished turns out of the state (and
in this append-only table of the same SQLite file) makes checkpoint storage grow with the
number of steps, not with steps x transcript length. A turn row is written by the node that
finishes the turn, keyed by (conversation, index), so re-running that node on resume replaces
it with the identical row. Rows at or past the state's `turn_count` are not yet committed.

On SQLite a turn row is not committed on its own: it rides in the transaction that saves its
node's writes, ahead of the checkpoint that counts it (one connection for both). On PostgreSQL (`PostgresLedger`) each row is committed as
it is written, which is before the checkpoint that counts it: a checkpoint is never durable
without its turns, and a row no checkpoint counts yet is ignored and replaced. Finished turns are also kept in memory per conversation
(as the validated models the nodes built), so nodes read the transcript without touching the
database or validating a turn twice.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from pydantic import TypeAdapter

from emosim.schemas import AdvisorTurn, ClientTurn
from emosim.schemas.record import Turn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS emosim_turns (
    conversation_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (conversation_id, idx)
);
CREATE TABLE IF NOT EXISTS emosim_records (
    conversation_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
"""


POSTGRES_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS emosim_runs (
        run TEXT PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS emosim_turns (
        run TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (run, conversation_id, idx)
    )""",
    """CREATE TABLE IF NOT EXISTS emosim_records (
        run TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (run, conversation_id)
    )""",
)
"""The ledger's tables on PostgreSQL: one set for every run, keyed by the run."""


TURN: TypeAdapter[Turn] = TypeAdapter(Turn)  # a turn of either speaker, by its `speaker`


class Ledger:
    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock | None = None):
        self.conn = conn
        self.lock: AbstractContextManager[Any] = lock or nullcontext()
        self._cache: dict[str, list[ClientTurn | AdvisorTurn]] = {}
        self._built: dict[str, Any] = {}
        with self.lock:
            conn.executescript(_SCHEMA)
            conn.commit()

    def put_turn(self, conversation_id: str, index: int, turn: ClientTurn | AdvisorTurn) -> None:
        self._write_turn(conversation_id, index, turn.model_dump_json())
        cached = self._cache.get(conversation_id)
        if cached is not None and len(cached) >= index:
            del cached[index:]
            cached.append(turn)
        else:
            self._cache.pop(conversation_id, None)

    def turns(self, conversation_id: str, upto: int) -> list[ClientTurn | AdvisorTurn]:
        """Committed turns 0..upto-1, in order (shared objects: read-only)."""
        cached = self._cache.get(conversation_id)
        if cached is not None and len(cached) >= upto:
            return cached[:upto]
        turns = [TURN.validate_json(p) for p in self._read_turns(conversation_id, upto)]
        self._cache[conversation_id] = list(turns)
        return turns

    def forget(self, conversation_id: str) -> None:
        """Drop a finished conversation from memory (a batch must not grow with its size)."""
        self._cache.pop(conversation_id, None)

    def put_record(self, conversation_id: str, record: Any) -> None:
        """Store the finished record (committed with the final checkpoint, like a turn);
        the in-process caller takes the object itself."""
        self._built[conversation_id] = record
        self._write_record(conversation_id, record.model_dump_json())

    def take_built(self, conversation_id: str) -> Any:
        """The record object built in this process, if any (saves parsing it back)."""
        return self._built.pop(conversation_id, None)

    def record(self, conversation_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT payload FROM emosim_records WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        return row[0] if row else None

    # --- storage (SQLite here; PostgresLedger overrides) ----------------------------------

    def _write_turn(self, conversation_id: str, index: int, payload: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO emosim_turns VALUES (?, ?, ?)",
                (conversation_id, index, payload),
            )

    def _read_turns(self, conversation_id: str, upto: int) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT payload FROM emosim_turns WHERE conversation_id = ? AND idx < ? ORDER BY idx",
                (conversation_id, upto),
            ).fetchall()
        return [r[0] for r in rows]

    def _write_record(self, conversation_id: str, payload: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO emosim_records VALUES (?, ?)",
                (conversation_id, payload),
            )

    # --- whole-run reads and writes, for `emosim store copy` --------------------------------

    def turn_rows(self, only: str | None = None) -> list[tuple[str, int, str]]:
        """Every turn row (conversation, index, payload), in key order (`only`: of one
        conversation)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT conversation_id, idx, payload FROM emosim_turns "
                "WHERE ? IS NULL OR conversation_id = ? ORDER BY conversation_id, idx",
                (only, only),
            ).fetchall()
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def record_rows(self, only: str | None = None) -> list[tuple[str, str]]:
        """Every stored record (conversation, payload), in key order."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT conversation_id, payload FROM emosim_records "
                "WHERE ? IS NULL OR conversation_id = ? ORDER BY conversation_id",
                (only, only),
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def add_rows(self, turns: list[tuple[str, int, str]], records: list[tuple[str, str]]) -> None:
        with self.lock:
            self.conn.executemany("INSERT INTO emosim_turns VALUES (?, ?, ?)", turns)
            self.conn.executemany("INSERT INTO emosim_records VALUES (?, ?)", records)
            self.conn.commit()


class PostgresLedger(Ledger):
    """The ledger in PostgreSQL, on the checkpointer's autocommit connection (dict rows):
    every row is committed as it is written, keyed by (run, conversation, index)."""

    def __init__(self, conn: Any, lock: threading.Lock, run: str):
        self.conn = conn
        self.lock = lock
        self.run = run
        self._cache = {}
        self._built = {}

    def _write_turn(self, conversation_id: str, index: int, payload: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO emosim_turns VALUES (%s, %s, %s, %s) ON CONFLICT "
                "(run, conversation_id, idx) DO UPDATE SET payload = EXCLUDED.payload",
                (self.run, conversation_id, index, payload),
            )

    def _read_turns(self, conversation_id: str, upto: int) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT payload FROM emosim_turns WHERE run = %s AND conversation_id = %s "
                "AND idx < %s ORDER BY idx",
                (self.run, conversation_id, upto),
            ).fetchall()
        return [r["payload"] for r in rows]

    def _write_record(self, conversation_id: str, payload: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO emosim_records VALUES (%s, %s, %s) ON CONFLICT "
                "(run, conversation_id) DO UPDATE SET payload = EXCLUDED.payload",
                (self.run, conversation_id, payload),
            )

    def record(self, conversation_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT payload FROM emosim_records WHERE run = %s AND conversation_id = %s",
                (self.run, conversation_id),
            ).fetchone()
        return row["payload"] if row else None

    def turn_rows(self, only: str | None = None) -> list[tuple[str, int, str]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT conversation_id, idx, payload FROM emosim_turns WHERE run = %s "
                "AND (%s::text IS NULL OR conversation_id = %s) "
                'ORDER BY conversation_id COLLATE "C", idx',
                (self.run, only, only),
            ).fetchall()
        return [(r["conversation_id"], int(r["idx"]), r["payload"]) for r in rows]

    def record_rows(self, only: str | None = None) -> list[tuple[str, str]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT conversation_id, payload FROM emosim_records WHERE run = %s "
                "AND (%s::text IS NULL OR conversation_id = %s) "
                'ORDER BY conversation_id COLLATE "C"',
                (self.run, only, only),
            ).fetchall()
        return [(r["conversation_id"], r["payload"]) for r in rows]

    def add_rows(self, turns: list[tuple[str, int, str]], records: list[tuple[str, str]]) -> None:
        with self.lock, self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO emosim_turns VALUES (%s, %s, %s, %s)",
                [(self.run, *row) for row in turns],
            )
            cur.executemany(
                "INSERT INTO emosim_records VALUES (%s, %s, %s)",
                [(self.run, *row) for row in records],
            )
