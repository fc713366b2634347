"""`emosim store copy`: a label store into a new one on either backend, verified row for row.

Rows are copied as stored (keys, times, hashes included), so the copy's hash chains are the
source's: the same heads, the same `labels verify`. Afterwards every table is read back from
both stores in key order and compared (a sha256 over each side's rows), both chains are
recomputed, and the labels are resolved on both sides and compared.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from emosim.errors import EmosimError
from emosim.labels.chain import CONVERSATION_COLUMNS, EVENT_COLUMNS
from emosim.labels.resolve import resolve_store
from emosim.labels.store import DEFAULT_TIMEOUT, LabelStore, TamperedStore

from .location import Dsn, StoreLocation

BATCH = 5_000  # rows read and written at a time: a copy takes the memory of one batch

# table -> (columns, key order); meta first, parents before children
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "meta": (("key", "value"), "key"),
    "conversations": ((*CONVERSATION_COLUMNS, "chain_seq", "hash"), "chain_seq"),
    "turns": (("conversation_id", "turn_index", "speaker", "text"), "conversation_id, turn_index"),
    "sentences": (
        ("conversation_id", "turn_index", "sentence_index", "text"),
        "conversation_id, turn_index, sentence_index",
    ),
    "events": (("seq", *EVENT_COLUMNS, "hash"), "seq"),
}


@dataclass
class TableCheck:
    table: str
    rows: int
    sha256: str


@dataclass
class CopyReport:
    """What was copied and what was compared (every field equal on both sides)."""

    source: str
    target: str
    tables: list[TableCheck] = field(default_factory=list)
    events_head: str = ""
    conversations_head: str = ""
    resolved_labels: int = 0
    resolved_sha256: str = ""
    seconds: float = 0.0


def _select(table: str) -> str:
    columns, order = TABLES[table]
    return f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"


def _batches(conn: Any, table: str) -> Iterable[list[tuple]]:
    cursor = conn.execute(_select(table))
    while rows := cursor.fetchmany(BATCH):
        yield [tuple(r) for r in rows]


def _fill(source: LabelStore) -> Any:
    def fill(conn: Any) -> None:
        for table in TABLES:
            if table == "meta":  # written with the tables
                continue
            columns, _ = TABLES[table]
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for rows in _batches(source.conn, table):
                conn.executemany(insert, rows)

    return fill


def table_digest(store: LabelStore, table: str) -> TableCheck:
    digest, rows = hashlib.sha256(), 0
    for batch in _batches(store.conn, table):
        rows += len(batch)
        for row in batch:
            digest.update(orjson.dumps(row))
            digest.update(b"\n")
    return TableCheck(table, rows, digest.hexdigest())


def resolution_digest(store: LabelStore) -> tuple[int, str]:
    """How many labels resolve, and a sha256 of every resolved row in order."""
    digest, count = hashlib.sha256(), 0
    for row in resolve_store(store):
        digest.update(row.model_dump_json().encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def copy_store(
    source_at: StoreLocation, target_at: StoreLocation, timeout: float = DEFAULT_TIMEOUT
) -> CopyReport:
    """Copy the label store at `source_at` into a new store at `target_at`, then prove the
    two equal (tables, chain heads, resolution); raises when anything differs."""
    if str(source_at) == str(target_at) and type(source_at) is type(target_at):
        raise EmosimError(f"{target_at}: the same store as the source: copy into a new one")
    start = time.perf_counter()
    report = CopyReport(str(source_at), str(target_at))
    with LabelStore.open(source_at, timeout=timeout) as source:
        chains = source.verify()
        if not chains.ok:
            raise TamperedStore(
                f"{source_at}: the label history was altered ({chains.problems[0]}); a copy "
                f"would carry it: `emosim labels verify --store {source_at}` lists every problem"
            )
        meta = [tuple(row) for row in source.conn.execute(_select("meta"))]
        if isinstance(target_at, Dsn):
            from emosim.labels.backends.postgres import create_copy
        else:
            from emosim.labels.backends.sqlite import create_copy
        create_copy(target_at, meta, _fill(source), timeout)  # type: ignore[arg-type]
        with LabelStore.open(target_at, timeout=timeout) as target:
            _compare(source, target, chains.head, chains.conversations_head, report)
    report.seconds = time.perf_counter() - start
    return report


def _compare(
    source: LabelStore, target: LabelStore, head: str, conversations_head: str, report: CopyReport
) -> None:
    differs: list[str] = []
    for table in TABLES:
        theirs, ours = table_digest(source, table), table_digest(target, table)
        report.tables.append(ours)
        if (theirs.rows, theirs.sha256) != (ours.rows, ours.sha256):
            differs.append(f"table {table}: {theirs.rows} row(s) in the source, {ours.rows} here")
    chains = target.verify(head or None)
    differs += [f"verify: {p}" for p in chains.problems]
    if (chains.head, chains.conversations_head) != (head, conversations_head):
        differs.append("chain heads differ from the source's")
    report.events_head, report.conversations_head = chains.head, chains.conversations_head
    resolved = resolution_digest(source)
    report.resolved_labels, report.resolved_sha256 = resolution_digest(target)
    if resolved != (report.resolved_labels, report.resolved_sha256):
        differs.append("resolved labels differ from the source's")
    if differs:
        raise EmosimError(
            f"{target.path}: the copy differs from {source.path} (left for inspection): "
            + "; ".join(differs)
        )
