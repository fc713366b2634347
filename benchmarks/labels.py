"""The label store: ingest throughput against raw SQLite, and resolving 1,000,000 events.

Ingest: live-operator events appended with `LabelStore.append` (every event checked: its
target, value and `supersedes` link, then stored in one transaction per batch) against a
raw `executemany` of the same rows into a table of the same schema, in the same run.
Target: at least 0.5x the raw rate.

Resolve: `resolve_store` (conversation by conversation, as `emosim labels resolve` does)
over stores of 100,000 and 1,000,000 events (baseline in the same run: all 100,000 events
read and resolved at once, as before), each in a fresh process that reports its own
peak RSS (VmHWM) and the peak of Python allocations (tracemalloc, in a second pass): memory
must stay flat as the store grows tenfold.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.catalog import get_catalog
from emosim.labels.store import LabelStore, utc
from emosim.labels.targets import ConversationInfo
from emosim.schemas import ConversationRecord, LabelEvent

INGEST_EVENTS = 100_000
BATCH = 10_000
RESOLVE_SIZES = (100_000, 1_000_000)
EVENTS_PER_CONVERSATION = 200  # the model's events plus rounds of operator review


def _base_record() -> ConversationRecord:
    from emosim.graphs.runner import load_job, run_jobs
    from emosim.paths import data_dir

    catalog = get_catalog()
    job = load_job(catalog, data_dir("simulations") / "investing_shame_first_steps.yaml", 11)
    with tempfile.TemporaryDirectory() as tmp:
        _, records = run_jobs(catalog, [job], Path(tmp), "scripted", label="bench", command="b")
    return records[0]


def _fill(path: Path, base: ConversationRecord, conversations: int, per: int) -> int:
    """A store of `conversations` copies of `base`, each with `per` events: the model's, then
    operators accepting or correcting each label in turn. Written with raw SQL (setup only)."""
    info = ConversationInfo.from_record(base)
    doc = base.model_dump_json()
    targets = info.targets()
    catalog = get_catalog()
    emotions = sorted(catalog.emotions)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    LabelStore.open(path, create=True).close()
    conn = sqlite3.connect(path)
    now = datetime.now(UTC).isoformat()
    total = 0
    with conn:
        for c in range(conversations):
            cid = f"bench-{c:06d}"
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cid, base.scenario.topic, base.scenario.subcategory, "bench", "bench", now,
                 doc.replace(base.id, cid)),
            )  # fmt: skip
            for t, turn in enumerate(info.turns):
                conn.execute(
                    "INSERT INTO turns VALUES (?, ?, ?, ?)", (cid, t, turn.speaker, turn.text)
                )
                conn.executemany(
                    "INSERT INTO sentences VALUES (?, ?, ?, ?)",
                    [(cid, t, s, text) for s, text in enumerate(turn.sentences)],
                )
            events = [_moved(e, base.id, cid) for e in base.label_events]
            model_of = {(e.target.turn_index, e.target.sentence_index, e.target.field): e.event_id
                        for e in events}  # fmt: skip
            rounds = 0
            while len(events) < per:
                key = targets[rounds % len(targets)]
                model = model_of.get((key.turn_index, key.sentence_index, key.field))
                rounds += 1
                if model is None or key.field != "emotion":
                    continue
                events.append(_operator_event(cid, key, model, rounds, start, emotions))
            rows = [_row(e, cid, now) for e in events[:per]]
            conn.executemany(_INSERT, rows)
            total += len(rows)
    conn.close()
    return total


def _moved(e: LabelEvent, old: str, cid: str) -> LabelEvent:
    target = e.target.model_copy(update={"conversation_id": cid})
    return e.model_copy(update={"event_id": e.event_id.replace(old, cid), "target": target})


def _operator_event(cid, key, model, n, start, emotions) -> LabelEvent:
    correct = n % 3 == 0
    return LabelEvent.model_validate(
        {
            "event_id": f"op:{cid}:{n}",
            "created_at": start + timedelta(seconds=n),
            "target": {"conversation_id": cid, "turn_index": key.turn_index, "field": key.field},
            "value": emotions[n % len(emotions)] if correct else None,
            "source": {"kind": "live_operator", "name": f"op_{n % 5}"},
            "action": "correct" if correct else "accept",
            "supersedes": model,
        }
    )


_INSERT = (
    "INSERT INTO events (event_id, conversation_id, turn_index, sentence_index, field, "
    "source_kind, source_name, action, created_at, supersedes, stored_at, event_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(e: LabelEvent, cid: str, now: str) -> tuple:
    t = e.target
    return (e.event_id, cid, t.turn_index, t.sentence_index, t.field, e.source.kind,
            e.source.name, e.action, utc(e.created_at).isoformat(), e.supersedes, now,
            e.model_dump_json())  # fmt: skip


# --- ingest ----------------------------------------------------------------------------------


def ingest(base: ConversationRecord, tmp: Path) -> tuple[float, float]:
    """Events per second: LabelStore.append, raw executemany (same rows, same schema)."""
    conversations = INGEST_EVENTS // 20
    store_path = tmp / "ingest.sqlite"
    _fill(store_path, base, conversations, len(base.label_events))
    catalog = get_catalog()
    info = ConversationInfo.from_record(base)
    emotions = sorted(catalog.emotions)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    clients = [k for k in info.targets() if k.field == "emotion"]
    events = []
    for c in range(conversations):
        cid = f"bench-{c:06d}"
        for n in range(INGEST_EVENTS // conversations):
            key = clients[n % len(clients)]
            model = f"{cid}:t{key.turn_index}:emotion:model"
            events.append(_operator_event(cid, key, model, n + 1, start, emotions))
    now = datetime.now(UTC).isoformat()
    rows = [_row(e, e.target.conversation_id, now) for e in events]

    raw_path = tmp / "raw.sqlite"
    LabelStore.open(raw_path, create=True).close()  # the same schema, triggers and indexes
    raw = sqlite3.connect(raw_path)
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA journal_mode=WAL")
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with raw:
            raw.executemany(_INSERT, rows[i : i + BATCH])
    raw_rate = len(rows) / (time.perf_counter() - started)
    raw.close()

    with LabelStore.open(store_path) as db:
        db.conversations()  # loaded once per store, as a long-running ingest does
        items = [(f"bench:{i}", e) for i, e in enumerate(events)]
        started = time.perf_counter()
        for i in range(0, len(items), BATCH):
            db.append(items[i : i + BATCH], catalog)
        store_rate = len(items) / (time.perf_counter() - started)
        assert db.count_events() == len(events) + conversations * len(base.label_events)
    return store_rate, raw_rate


# --- resolve ---------------------------------------------------------------------------------


_CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
from emosim.labels.resolve import resolve_store, resolved_rows
from emosim.labels.store import LabelStore
path, trace, whole = Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "whole"
if trace:
    tracemalloc.start()
started = time.perf_counter()
targets = events = 0
with LabelStore.open(path) as db:
    for row in resolved_rows(db.events()) if whole else resolve_store(db):
        targets += 1
        events += row.events
elapsed = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1] if trace else 0
status = Path("/proc/self/status")
hwm = [l for l in status.read_text().splitlines() if l.startswith("VmHWM:")] if status.exists() else []
# VmHWM is this process's own peak; ru_maxrss would include the parent's before exec
rss = int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": elapsed, "targets": targets, "events": events,
                  "traced_peak": peak, "rss": rss}))
"""


def _child(path: Path, trace: bool, mode: str = "stream") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), "1" if trace else "0", mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def resolve(base: ConversationRecord, tmp: Path, size: int, mode: str) -> tuple[dict, dict]:
    path = tmp / f"resolve-{size}.sqlite"
    if not path.exists():
        stored = _fill(path, base, size // EVENTS_PER_CONVERSATION, EVENTS_PER_CONVERSATION)
        assert stored == size, stored
    timed, traced = _child(path, False, mode), _child(path, True, mode)
    assert timed["events"] == size
    return timed, traced


def main() -> None:
    console = Console(width=150)
    base = _base_record()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store_rate, raw_rate = ingest(base, tmp)
        table = Table(title=f"labels: ingest {INGEST_EVENTS:,} operator events ({BATCH:,} a batch)")
        for col in ("writer", "events/s", "vs raw executemany"):
            table.add_column(col)
        table.add_row(
            "raw SQLite executemany (same rows, same schema)", f"{raw_rate:,.0f}", "1.00x"
        )
        table.add_row(
            "LabelStore.append (checked)", f"{store_rate:,.0f}", f"{store_rate / raw_rate:.2f}x"
        )
        console.print(table)

        table = Table(title="labels: resolve every target, a fresh process each")
        for col in ("how", "events", "targets", "seconds", "events/s", "peak RSS MB",
                    "peak traced MB", "traced vs whole store"):  # fmt: skip
            table.add_column(col)
        base_traced = None
        for size, mode in ((RESOLVE_SIZES[0], "whole"), *((n, "stream") for n in RESOLVE_SIZES)):
            timed, traced = resolve(base, tmp, size, mode)
            base_traced = base_traced or traced["traced_peak"]
            table.add_row(
                "whole store at once" if mode == "whole" else "resolve_store",
                f"{size:,}",
                f"{timed['targets']:,}",
                f"{timed['seconds']:.1f}",
                f"{size / timed['seconds']:,.0f}",
                f"{timed['rss'] / 2**20:.0f}",
                f"{traced['traced_peak'] / 2**20:.1f}",
                f"{traced['traced_peak'] / base_traced:.3f}x",
            )
        console.print(table)
