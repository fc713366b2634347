"""The label store's hash chains: evidence that no stored row was changed, removed or slipped in.

Each event's hash covers every column it is stored with and the previous event's hash (by
`seq`); each conversation's hash covers its row, its turns and sentences, and the previous
conversation's hash (by `chain_seq`). `verify` recomputes both chains and checks that the
append-only triggers and foreign keys are intact. Anyone who can write the file can rebuild
a chain from scratch, so keep the head `emosim labels verify` prints somewhere else and pass
it back with --head: a history rewritten or cut short below that point is then detected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

EVENT_COLUMNS = (
    "event_id",
    "conversation_id",
    "turn_index",
    "sentence_index",
    "field",
    "source_kind",
    "source_name",
    "action",
    "created_at",
    "supersedes",
    "stored_at",
    "event_json",
)
CONVERSATION_COLUMNS = (
    "conversation_id",
    "topic",
    "subcategory",
    "scenario_id",
    "source",
    "imported_at",
    "record_json",
)
MAX_LISTED = 20  # problems listed one by one; the rest are counted
CHUNK = 256  # conversations whose turns `verify` reads in one query
Connection = Any  # sqlite3.Connection or backends.postgres.PgConnection


def link(prev: str, values: Sequence[Any]) -> str:
    """The hash of one row: its values and the previous row's hash, unambiguously encoded."""
    return hashlib.sha256(orjson.dumps([prev, *values])).hexdigest()


Turns = list[list[Any]]  # [[turn_index, speaker, text, [[sentence_index, text], ...]], ...]


def event_head(conn: Connection) -> str:
    row = conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return row[0] if row and row[0] else ""


def conversation_head(conn: Connection) -> tuple[int, str]:
    """(chain_seq, hash) of the last conversation in the chain; (0, '') for none."""
    row = conn.execute(
        "SELECT chain_seq, hash FROM conversations WHERE chain_seq IS NOT NULL "
        "ORDER BY chain_seq DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else (0, "")


def _stored_turns(conn: Connection, cid: str) -> Turns:
    return _stored_turns_of(conn, [cid])[cid]


def _stored_turns_of(conn: Connection, cids: list[str]) -> dict[str, Turns]:
    """Some conversations' turns and sentences as their hashes cover them (read CHUNK
    conversations at a time: verifying a store of any size takes the memory of a chunk, in
    two queries a chunk, not two a conversation: a round trip each on a server)."""
    arg = (orjson.dumps(cids).decode(),)
    out: dict[str, Turns] = {cid: [] for cid in cids}
    where: dict[tuple[str, int], list[Any]] = {}
    for cid, index, speaker, text in conn.execute(
        "SELECT conversation_id, turn_index, speaker, text FROM turns "
        "WHERE conversation_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY conversation_id, turn_index",
        arg,
    ):
        row = where[(cid, index)] = [index, speaker, text, []]
        out[cid].append(row)
    for cid, index, sentence, text in conn.execute(
        "SELECT conversation_id, turn_index, sentence_index, text FROM sentences "
        "WHERE conversation_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY conversation_id, turn_index, sentence_index",
        arg,
    ):
        parent = where.get((cid, index))
        if parent is not None:  # an orphan sentence is a foreign-key problem, reported there
            parent[3].append([sentence, text])
    return out


def event_chain(conn: Connection) -> Iterator[tuple[int, str]]:
    """(seq, hash) of every event as the chain says it should be, in stored order."""
    prev = ""
    cols = ", ".join(EVENT_COLUMNS)
    for seq, *values in conn.execute(f"SELECT seq, {cols} FROM events ORDER BY seq"):
        prev = link(prev, values)
        yield seq, prev


def conversation_chain(conn: Connection, stored: bool = True) -> Iterator[tuple[int, str, str]]:
    """(chain_seq, conversation_id, hash) of every conversation, in chain order (a store
    being upgraded has no chain_seq yet: import order)."""
    order = "chain_seq" if stored else "imported_at, rowid"
    cols = ", ".join(CONVERSATION_COLUMNS)
    prev = ""
    rows = conn.execute(f"SELECT {cols} FROM conversations ORDER BY {order}")
    for seq, row in enumerate(rows):
        prev = link(prev, [*row, _stored_turns(conn, row[0])])
        yield seq + 1, row[0], prev


@dataclass
class ChainReport:
    """What `verify` found: counts, the heads to keep elsewhere, and every problem."""

    events: int = 0
    conversations: int = 0
    head: str = ""
    conversations_head: str = ""
    chain_since: str = ""
    events_before_chain: int = 0
    problems: list[str] = field(default_factory=list)
    unlisted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.unlisted += 1


def verify(conn: Connection, expect_head: str | None = None) -> ChainReport:
    """Recompute both chains; check the triggers and foreign keys. Never raises on damage."""
    from .backends import dialect_of
    from .ddl import TABLES

    dialect = dialect_of(conn)
    report = ChainReport()
    tables = dialect.table_names(conn)
    gone = [t for t in TABLES if t not in tables]
    if gone:
        report.add(f"table(s) {', '.join(gone)} missing: the store was altered outside emosim")
        return report
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    report.chain_since = meta.get("chain_since", "")
    report.events_before_chain = int(meta.get("events_before_chain", "0") or 0)
    for problem in dialect.guard_problems(conn):
        report.add(problem)
    _verify_events(conn, report, expect_head)
    _verify_conversations(conn, report)
    for problem in dialect.orphans(conn):
        report.add(problem)
    return report


def _verify_events(conn: Connection, report: ChainReport, head: str | None) -> None:
    prev, seen_head = "", head is None
    cols = ", ".join(EVENT_COLUMNS)
    for seq, stored, *values in conn.execute(f"SELECT seq, hash, {cols} FROM events ORDER BY seq"):
        report.events += 1
        expected = link(prev, values)
        if stored is None:
            report.add(f"event seq {seq} ({values[0]!r}): no chain hash (written outside emosim)")
        elif stored != expected:
            report.add(
                f"event seq {seq} ({values[0]!r}): hash does not match its content and the "
                "previous event's hash (this event was changed, or one before it was "
                "removed, changed or inserted)"
            )
        prev = stored or expected
        seen_head = seen_head or prev == head
    report.head = prev
    if not seen_head:
        report.add(
            f"head {head} is not in the event chain: events were removed or the chain was "
            "rebuilt since that head was recorded"
        )


def _verify_conversations(conn: Connection, report: ChainReport) -> None:
    cols = ", ".join(CONVERSATION_COLUMNS)
    prev = ""
    rows = conn.execute(  # rows outside the chain (no chain_seq) first, on both backends
        f"SELECT chain_seq, hash, {cols} FROM conversations ORDER BY chain_seq NULLS FIRST"
    )
    while chunk := rows.fetchmany(CHUNK):
        prev = _verify_chunk(conn, chunk, prev, report)
    report.conversations_head = prev


def _verify_chunk(conn: Connection, chunk: list, prev: str, report: ChainReport) -> str:
    turns = _stored_turns_of(conn, [row[2] for row in chunk])
    for seq, stored, *row in chunk:
        report.conversations += 1
        expected = link(prev, [*row, turns[row[0]]])
        if stored is None or seq is None:
            report.add(f"conversation {row[0]!r}: not in the chain (written outside emosim)")
        elif stored != expected:
            report.add(
                f"conversation {row[0]!r} (chain_seq {seq}): hash does not match its row, "
                "turns and sentences and the previous conversation's hash (it or one before "
                "it was changed, removed or inserted)"
            )
        prev = stored or expected
    return prev
