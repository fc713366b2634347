"""The turn ledger: finished turns, stored once each, beside the checkpoints.

Checkpoints store the whole state at every step. Keeping finished turns out of the state (and
in this append-only table of the same SQLite file) makes checkpoint storage grow with the
number of steps, not with steps x transcript length. A turn row is written by the node that
finishes the turn, keyed by (conversation, index), so re-running that node on resume replaces
it with the identical row. Rows at or past the state's `turn_count` are not yet committed.

A turn row is not committed on its own: it rides in the same SQLite transaction as the
checkpoint that follows its node (both use one connection), so a turn and the checkpoint that
counts it become durable together. Finished turns are also kept in memory per conversation
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
        payload = turn.model_dump_json()
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO emosim_turns VALUES (?, ?, ?)",
                (conversation_id, index, payload),
            )
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
        with self.lock:
            rows = self.conn.execute(
                "SELECT payload FROM emosim_turns WHERE conversation_id = ? AND idx < ? ORDER BY idx",
                (conversation_id, upto),
            ).fetchall()
        turns = [TURN.validate_json(r[0]) for r in rows]
        self._cache[conversation_id] = list(turns)
        return turns

    def forget(self, conversation_id: str) -> None:
        """Drop a finished conversation from memory (a batch must not grow with its size)."""
        self._cache.pop(conversation_id, None)

    def put_record(self, conversation_id: str, record: Any) -> None:
        """Store the finished record (committed with the final checkpoint, like a turn);
        the in-process caller takes the object itself."""
        self._built[conversation_id] = record
        record_json = record.model_dump_json()
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO emosim_records VALUES (?, ?)",
                (conversation_id, record_json),
            )

    def take_built(self, conversation_id: str) -> Any:
        """The record object built in this process, if any (saves parsing it back)."""
        return self._built.pop(conversation_id, None)

    def record(self, conversation_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT payload FROM emosim_records WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        return row[0] if row else None
