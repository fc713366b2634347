"""The label store on PostgreSQL against SQLite, in the same run on the same events.

A SQLite store of CONVERSATIONS scripted conversations (the model's events) is copied into
Postgres with `emosim store copy` (timed both ways); then the same operator JSONL files are
ingested into both (`LabelStore.append` of `read_operator_jsonl`, what `labels ingest`
does), the writers taking turns file by file so a slow spell of the shared machine hits
both; then each store is verified (`labels verify`) and resolved (`resolve_store`, what
`labels resolve` does) and the two resolutions are checked equal. Ratios are Postgres's
time over SQLite's. Needs a server: $EMOSIM_TEST_POSTGRES_DSN (scripts/postgres-dev.sh
prints one); a schema of its own is made and dropped.

Then runs: RUN_CONVERSATIONS scripted conversations played into a run on SQLite and into a
run on Postgres, taking turns conversation by conversation (same scenario and seeds, so the
same steps on both). Timed around the checkpointer's `put` and `put_writes` and the turn
ledger's writes: the per-step cost of making a step durable, and the whole time per step.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.catalog import get_catalog
from emosim.labels.operators import read_operator_jsonl
from emosim.labels.store import LabelStore
from emosim.labels.targets import ConversationInfo
from emosim.storage.copy import copy_store, resolution_digest
from emosim.storage.location import Dsn

from .labels import _base_record, _fill, _operator_event, _operator_line

CONVERSATIONS = 1_000
OPERATOR_EVENTS = 20_000
BATCH = 5_000
WRITERS = 8  # processes ingesting into one Postgres store at once
WRITER_BATCH = 500


def _operator_files(base, tmp: Path) -> list[Path]:
    from datetime import UTC, datetime

    info = ConversationInfo.from_record(base)
    emotions = sorted(get_catalog().emotions)
    clients = [k for k in info.targets() if k.field == "emotion"]
    start = datetime(2026, 2, 1, tzinfo=UTC)
    per = OPERATOR_EVENTS // CONVERSATIONS
    lines = []
    for c in range(CONVERSATIONS):
        cid = f"bench-{c:06d}"
        for n in range(per):
            key = clients[n % len(clients)]
            model = f"{cid}:t{key.turn_index}:emotion:model"
            lines.append(_operator_line(_operator_event(cid, key, model, n + 1, start, emotions)))
    files = []
    for i in range(0, len(lines), BATCH):
        files.append(tmp / f"ops-{i // BATCH}.jsonl")
        files[-1].write_text("".join(line + "\n" for line in lines[i : i + BATCH]))
    return files


def _writer(dsn: Dsn, mine: Path, theirs: Path) -> tuple[int, int]:
    """One of WRITERS processes: its share of the events, then another's share again (a
    resend), in batches; (stored, already stored)."""
    catalog, stored, already = get_catalog(), 0, 0
    with LabelStore.open(dsn, timeout=300) as db:
        for path in (mine, theirs):
            items = read_operator_jsonl(path)
            for i in range(0, len(items), WRITER_BATCH):
                result = db.append(items[i : i + WRITER_BATCH], catalog)
                stored, already = stored + len(result.stored), already + len(result.already_stored)
    return stored, already


def _concurrent(dsn: Dsn, files: list[Path], tmp: Path) -> tuple[float, int, int]:
    """WRITERS processes at once, each its share and then a neighbour's again."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    lines = [line for path in files for line in path.read_text().splitlines()]
    shares = []
    for k in range(WRITERS):
        shares.append(tmp / f"share-{k}.jsonl")
        shares[-1].write_text("".join(line + "\n" for line in lines[k::WRITERS]))
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        done = list(pool.map(_writer, [dsn] * WRITERS, shares, shares[1:] + shares[:1]))
    return time.perf_counter() - start, sum(s for s, _ in done), sum(a for _, a in done)


RUN_CONVERSATIONS = 20
RUN_EXCHANGES = 8


class _WriteClock:
    """Seconds inside a store's durable writes: checkpoints, pending writes, ledger rows."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.seconds, self.steps = 0.0, 0
        store.saver.put = self._timed(store.saver.put, step=True)
        store.saver.put_writes = self._timed(store.saver.put_writes)
        store.ledger._write_turn = self._timed(store.ledger._write_turn)
        store.ledger._write_record = self._timed(store.ledger._write_record)

    def _timed(self, call, step: bool = False):  # noqa: ANN001, ANN202
        def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.steps += step

        return run


def _checkpoint_cost(dsn: Dsn, tmp: Path) -> dict[str, tuple[float, float, int]]:
    """Per backend: (seconds in durable writes, seconds in all, steps), the two backends
    taking turns conversation by conversation."""
    from emosim.graphs.runner import Job, Simulator
    from emosim.runs import RunFolder

    from .engine import bench_scenario

    scenario = bench_scenario(RUN_EXCHANGES)
    catalog = get_catalog()
    players = {}
    for name, store in (("sqlite", tmp / "sqlite"), ("postgres", dsn)):
        run = RunFolder.create(tmp, f"bench-{name}", store=store)
        assert run.storage().postgres == (name == "postgres")
        run.write_manifest({"command": "benchmark", "jobs": []})
        sim = Simulator(catalog, run)
        sim.agents_for(scenario)  # templates load outside the timing
        events = run.events()
        players[name] = (sim, _WriteClock(sim.store), events, events.__enter__())
    spent = dict.fromkeys(players, 0.0)
    for i in range(RUN_CONVERSATIONS):
        for name, (sim, _, _, log) in players.items():
            started = time.perf_counter()
            sim.play(Job(scenario, "bench", i), log)
            spent[name] += time.perf_counter() - started
    out = {}
    for name, (sim, clock, events, _) in players.items():
        events.__exit__(None, None, None)
        if name == "postgres":
            sim.store.drop()
        sim.close()
        out[name] = (clock.seconds, spent[name], clock.steps)
    from emosim.storage.runcopy import copy_run

    source = players["sqlite"][0].run.path
    there, _ = _timed(lambda: copy_run(source, tmp / "copied-postgres", dsn))
    back, report = _timed(
        lambda: copy_run(tmp / "copied-postgres", tmp / "copied-back", None, source_store=dsn)
    )
    RunFolder(tmp / "copied-postgres", dsn).open_store(create=False).drop()
    out["copy"] = (there, back, report.checkpoints)  # type: ignore[union-attr]
    return out


def _timed(work) -> tuple[float, object]:  # noqa: ANN001
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def main() -> None:
    console = Console()
    server = os.environ.get("EMOSIM_TEST_POSTGRES_DSN", "").strip()
    if not server:
        console.print(
            "postgres: skipped (no server: export EMOSIM_TEST_POSTGRES_DSN=$(scripts/"
            "postgres-dev.sh | tail -1))"
        )
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    glue = "&" if "?" in server else "?"
    dsn = Dsn(f"{server}{glue}options=-csearch_path%3D{schema}")
    shared = Dsn(f"{server}{glue}options=-csearch_path%3D{schema}_shared")
    catalog = get_catalog()
    base = _base_record()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            sqlite_at = tmp / "labels.sqlite"
            seeded = _fill(sqlite_at, base, CONVERSATIONS, len(base.label_events))
            copy_there, _ = _timed(lambda: copy_store(sqlite_at, dsn))
            copy_back, _ = _timed(lambda: copy_store(dsn, tmp / "back.sqlite"))
            copy_store(sqlite_at, shared)
            files = _operator_files(base, tmp)
            together, stored, resent = _concurrent(shared, files, tmp)
            ingest = {"sqlite": 0.0, "postgres": 0.0}
            stores = {"sqlite": sqlite_at, "postgres": dsn}
            for path in files:
                for name, at in stores.items():
                    with LabelStore.open(at, timeout=60) as db:
                        seconds, result = _timed(
                            lambda db=db, path=path: db.append(read_operator_jsonl(path), catalog)
                        )
                    assert len(result.stored) == BATCH, (name, len(result.stored))
                    ingest[name] += seconds
            verify, resolve, digests = {}, {}, {}
            for name, at in stores.items():
                with LabelStore.open(at) as db:
                    verify[name], report = _timed(db.verify)
                    assert report.ok, report.problems
                    resolve[name], digests[name] = _timed(lambda db=db: resolution_digest(db))
                    events = db.count_events()
            assert digests["sqlite"] == digests["postgres"], "resolutions differ"
            with LabelStore.open(shared) as db:
                assert db.count_events() == events, "events lost or stored twice"
                report = db.verify()
                assert report.ok, report.problems
                assert resolution_digest(db) == digests["postgres"], "concurrent != serial"
            assert (stored, resent) == (OPERATOR_EVENTS, OPERATOR_EVENTS), (stored, resent)
            runs = _checkpoint_cost(dsn, tmp)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for name in (schema, f"{schema}_shared", f"{schema}_runs"):
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    table = Table(
        title=f"Label store, SQLite vs PostgreSQL ({CONVERSATIONS:,} conversations, "
        f"{seeded:,} model events, {OPERATOR_EVENTS:,} operator events in files of {BATCH:,}; "
        f"load {os.getloadavg()[0]:.1f})",
        title_justify="left",
    )
    for col in ("step", "SQLite", "PostgreSQL", "Postgres / SQLite"):
        table.add_column(col, justify="left" if col == "step" else "right")
    table.add_row(
        "ingest (events/s)",
        f"{OPERATOR_EVENTS / ingest['sqlite']:,.0f}",
        f"{OPERATOR_EVENTS / ingest['postgres']:,.0f}",
        f"{ingest['postgres'] / ingest['sqlite']:.2f}x the time",
    )
    for step, times in (("verify (s)", verify), ("resolve (s)", resolve)):
        table.add_row(
            f"{step}, {events:,} events",
            f"{times['sqlite']:.2f}",
            f"{times['postgres']:.2f}",
            f"{times['postgres'] / times['sqlite']:.2f}x",
        )
    table.add_row(
        f"store copy (s), {seeded:,} events", f"{copy_back:.2f} (in)", f"{copy_there:.2f} (in)", ""
    )
    table.add_row(
        f"{WRITERS} processes at once (events/s)",
        "",
        f"{2 * OPERATOR_EVENTS / together:,.0f}",
        "",
    )
    console.print(table)
    console.print(
        f"resolved labels equal on both: {digests['sqlite'][0]:,} labels. {WRITERS} processes "
        f"sending {OPERATOR_EVENTS:,} events twice each in batches of {WRITER_BATCH} to one "
        f"Postgres store: {stored:,} stored, {resent:,} already stored, none lost or doubled, "
        "the chain intact, the resolution equal to the serial ingest's"
    )
    _print_runs(console, runs)


def _print_runs(console: Console, runs: dict[str, tuple[float, float, int]]) -> None:
    (sq_write, sq_all, steps), (pg_write, pg_all, pg_steps) = runs["sqlite"], runs["postgres"]
    assert steps == pg_steps, (steps, pg_steps)
    table = Table(
        title=f"Runs, SQLite vs PostgreSQL ({RUN_CONVERSATIONS} scripted conversations x "
        f"{RUN_EXCHANGES} exchanges each, {steps:,} steps each, durability sync, taking turns; "
        f"load {os.getloadavg()[0]:.1f})",
        title_justify="left",
    )
    for col in ("per step", "SQLite", "PostgreSQL", "Postgres / SQLite"):
        table.add_column(col, justify="left" if col == "per step" else "right")
    table.add_row(
        "checkpoint + pending writes + ledger rows (ms)",
        f"{sq_write / steps * 1000:.2f}",
        f"{pg_write / steps * 1000:.2f}",
        f"{pg_write / sq_write:.2f}x",
    )
    table.add_row(
        "whole step, scripted agents included (ms)",
        f"{sq_all / steps * 1000:.2f}",
        f"{pg_all / steps * 1000:.2f}",
        f"{pg_all / sq_all:.2f}x",
    )
    there, back, checkpoints = runs["copy"]
    table.add_row(
        f"store copy --run, the SQLite run ({checkpoints:,} checkpoints): s, verified",
        f"{back:.2f} (in)",
        f"{there:.2f} (in)",
        "",
    )
    console.print(table)
