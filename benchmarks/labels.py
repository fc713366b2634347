"""The label store: ingest throughput against raw SQLite, and resolving 1,000,000 events.

Ingest: what `emosim labels ingest FILE` does (read a JSONL file of live-operator events,
check every event: target, value, date, `supersedes` link and who may supersede whom, then
hash-chain and store the batch in one write transaction), file after file, against a raw
`executemany` of the same rows (chain hashes included) into a store of the same schema
(tables, indexes, append-only triggers), in the same run. The writers take turns, round
after round, so a slow spell of this shared machine hits both alike; the median round is
reported, by wall clock and by CPU time. Target: at least 0.5x the raw rate with the chain.
Beside it: `LabelStore.append` of events already parsed (what this benchmark measured
before), and the JSONL ingest with the chain's SHA-256 skipped (what hashing costs).

Resolve: `resolve_store` (conversation by conversation, as `emosim labels resolve` does)
over stores of 100,000 and 1,000,000 events (baseline in the same run: all 100,000 events
read and resolved at once, as before), each in a fresh process that reports its own
peak RSS (VmHWM) and the peak of Python allocations (tracemalloc, in a second pass): memory
must stay flat as the store grows tenfold. The time to verify the store's chain (`emosim
labels verify`, which `labels resolve` does first) is shown beside it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.catalog import get_catalog
from emosim.heap import settle_long_lived
from emosim.labels import store as store_module
from emosim.labels.chain import link
from emosim.labels.operators import read_operator_jsonl
from emosim.labels.store import EVENT_INSERT, LabelStore, event_json, event_rows, utc
from emosim.labels.targets import ConversationInfo
from emosim.schemas import ConversationRecord, LabelEvent

INGEST_EVENTS = 100_000
BATCH = 10_000
ROUNDS = 3
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
    operators accepting or correcting each label in turn. Written with raw SQL and the
    store's own chain hashes (setup only; the store is verified afterwards)."""
    info = ConversationInfo.from_record(base)
    doc = base.model_dump_json()
    targets = info.targets()
    catalog = get_catalog()
    emotions = sorted(catalog.emotions)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    LabelStore.open(path, create=True).close()
    conn = sqlite3.connect(path)
    now = datetime.now(UTC).isoformat()
    shape = [
        [i, t.speaker, t.text, [[s, text] for s, text in enumerate(t.sentences)]]
        for i, t in enumerate(info.turns)
    ]
    total, conv_prev, event_prev = 0, "", ""
    with conn:
        for c in range(conversations):
            cid = f"bench-{c:06d}"
            row = (cid, base.scenario.topic, base.scenario.subcategory, "bench", "bench", now,
                   doc.replace(base.id, cid))  # fmt: skip
            conv_prev = link(conv_prev, [*row, shape])
            conn.execute(
                "INSERT INTO conversations (conversation_id, topic, subcategory, scenario_id, "
                "source, imported_at, record_json, chain_seq, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, c + 1, conv_prev),
            )
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
            rows = []
            for e in events[:per]:
                values = _row(e, cid, now)
                event_prev = link(event_prev, values)
                rows.append((*values, event_prev))
            conn.executemany(_INSERT, rows)
            total += len(rows)
    conn.close()
    with LabelStore.open(path) as db:
        report = db.verify()
        assert report.ok, report.problems
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


def _operator_line(e: LabelEvent) -> str:
    """The event as an operator's tool sends it (a line of `labels ingest`'s JSONL)."""
    t = e.target
    doc = {"event_id": e.event_id, "created_at": e.created_at.isoformat(),
           "conversation_id": t.conversation_id, "turn_index": t.turn_index, "field": t.field,
           "action": e.action, "operator": e.source.name, "supersedes": e.supersedes}  # fmt: skip
    if e.value is not None:
        doc["value"] = e.value
    return json.dumps(doc)


_INSERT = EVENT_INSERT  # the statement the store uses


def _row(e: LabelEvent, cid: str, now: str) -> tuple:
    t = e.target
    return (e.event_id, cid, t.turn_index, t.sentence_index, t.field, e.source.kind,
            e.source.name, e.action, utc(e.created_at).isoformat(), e.supersedes, now,
            event_json(e))  # fmt: skip


# --- ingest ----------------------------------------------------------------------------------


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


class _NoHash:
    """Stands in for `hashlib` in the store: what the chain's hashing costs."""

    @staticmethod
    def sha256(data: bytes) -> type[_NoHash]:
        return _NoHash

    @staticmethod
    def hexdigest() -> str:
        return "-"


def ingest(base: ConversationRecord, tmp: Path) -> dict[str, dict[str, float]]:
    """Events per second (wall, cpu; median of ROUNDS) for each writer."""
    catalog = get_catalog()
    settle_long_lived()  # as `emosim labels ingest` does once its catalog is loaded
    conversations = INGEST_EVENTS // 20
    seed = tmp / "ingest-seed.sqlite"
    _fill(seed, base, conversations, len(base.label_events))
    info = ConversationInfo.from_record(base)
    emotions = sorted(get_catalog().emotions)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    clients = [k for k in info.targets() if k.field == "emotion"]
    events = []
    for c in range(conversations):
        cid = f"bench-{c:06d}"
        for n in range(INGEST_EVENTS // conversations):
            key = clients[n % len(clients)]
            model = f"{cid}:t{key.turn_index}:emotion:model"
            events.append(_operator_event(cid, key, model, n + 1, start, emotions))
    files = []
    for i in range(0, len(events), BATCH):
        files.append(tmp / f"batch-{i // BATCH}.jsonl")
        files[-1].write_text("".join(_operator_line(e) + "\n" for e in events[i : i + BATCH]))
    # the raw rows: what the checked ingest stores (chained after the seed store's head)
    with LabelStore.open(seed) as db:
        prev = db.verify().head
    now = datetime.now(UTC).isoformat()
    raw_rows = event_rows((p for file in files for p in read_operator_jsonl(file)), prev, now)

    def raw(path: Path) -> None:
        for i in range(0, len(raw_rows), BATCH):
            conn = sqlite3.connect(path)
            with conn:
                conn.executemany(_INSERT, raw_rows[i : i + BATCH])
            conn.close()

    def checked(path: Path) -> None:
        for file in files:  # what `emosim labels ingest FILE` does, file after file
            with LabelStore.open(path) as db:
                db.append(read_operator_jsonl(file), catalog)

    parsed = [(f"bench:{i}", e) for i, e in enumerate(events)]

    def append(path: Path) -> None:  # LabelEvents already in memory (the earlier benchmark)
        with LabelStore.open(path) as db:
            for i in range(0, len(parsed), BATCH):
                db.append(parsed[i : i + BATCH], catalog)

    def unchained(path: Path) -> None:  # every row's SHA-256 replaced by a constant
        real = store_module.hashlib
        store_module.hashlib = _NoHash  # type: ignore[assignment]
        try:
            checked(path)
        finally:
            store_module.hashlib = real

    writers = {"raw": raw, "append": append, "checked": checked, "unchained": unchained}
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in writers}
    for r in range(ROUNDS):
        for name, work in writers.items():
            path = tmp / f"ingest-{name}-{r}.sqlite"
            shutil.copy(seed, path)
            wall, cpu = _timed(lambda work=work, path=path: work(path))
            rates[name].append((len(events) / wall, len(events) / cpu))
            with LabelStore.open(path) as db:
                assert db.count_events() == len(events) + conversations * len(base.label_events)
                if name != "unchained":
                    assert db.verify().ok
            path.unlink()
    ratios = {
        name: {
            "wall": statistics.median(rates[name][r][0] for r in range(ROUNDS)),
            "cpu": statistics.median(rates[name][r][1] for r in range(ROUNDS)),
            "wall_ratio": statistics.median(
                rates[name][r][0] / rates["raw"][r][0] for r in range(ROUNDS)
            ),
            "cpu_ratio": statistics.median(
                rates[name][r][1] / rates["raw"][r][1] for r in range(ROUNDS)
            ),
            "rounds": [rates[name][r][0] / rates["raw"][r][0] for r in range(ROUNDS)],
        }
        for name in writers
    }
    return ratios


# --- resolve ---------------------------------------------------------------------------------


_CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
from emosim.labels.resolve import resolve_store, resolved_rows
from emosim.labels.store import LabelStore
path, trace, mode = Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
if trace:
    tracemalloc.start()
started = time.perf_counter()
targets = events = 0
with LabelStore.open(path) as db:
    if mode == "verify":
        report = db.verify()
        assert report.ok, report.problems
        events = report.events
    elif mode == "stream":
        db.require_intact()  # as `emosim labels resolve` does
    for row in () if mode == "verify" else resolved_rows(db.events()) if mode == "whole" else resolve_store(db):
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
        rates = ingest(base, tmp)
        table = Table(
            title=f"labels: ingest {INGEST_EVENTS:,} operator events ({BATCH:,} a file), "
            f"median of {ROUNDS} rounds in turns"
        )
        for col in ("writer", "events/s", "vs raw (wall)", "rounds (wall)", "CPU events/s",
                    "vs raw (CPU)"):  # fmt: skip
            table.add_column(col)
        names = {
            "raw": "raw SQLite executemany (same rows with their hashes, same schema)",
            "append": "LabelStore.append of parsed LabelEvents: checked, chained, stored",
            "checked": "labels ingest: JSONL read, checked, hash-chained, stored",
            "unchained": "labels ingest with the chain's SHA-256 skipped",
        }
        for name, label in names.items():
            r = rates[name]
            table.add_row(
                label,
                f"{r['wall']:,.0f}",
                f"{r['wall_ratio']:.2f}x",
                " ".join(f"{x:.2f}" for x in r["rounds"]),
                f"{r['cpu']:,.0f}",
                f"{r['cpu_ratio']:.2f}x",
            )
        console.print(table)

        table = Table(title="labels: resolve every target, a fresh process each")
        for col in ("how", "events", "targets", "seconds", "events/s", "peak RSS MB",
                    "peak traced MB", "traced vs whole store"):  # fmt: skip
            table.add_column(col)
        base_traced = None
        runs = ((RESOLVE_SIZES[0], "whole"), *((n, m) for n in RESOLVE_SIZES
                for m in ("stream", "verify")))  # fmt: skip
        how = {
            "whole": "whole store at once (no chain check)",
            "stream": "resolve_store (chain checked first)",
            "verify": "of which: verify the chain",
        }
        for size, mode in runs:
            timed, traced = resolve(base, tmp, size, mode)
            base_traced = base_traced or traced["traced_peak"]
            table.add_row(
                how[mode],
                f"{size:,}",
                f"{timed['targets']:,}" if mode != "verify" else "",
                f"{timed['seconds']:.1f}",
                f"{size / timed['seconds']:,.0f}",
                f"{timed['rss'] / 2**20:.0f}",
                f"{traced['traced_peak'] / 2**20:.1f}",
                f"{traced['traced_peak'] / base_traced:.3f}x",
            )
        console.print(table)
