"""The Ray executor and the shared rate limiter, against the mock Messages API at 200 ms.

`python -m benchmarks scale`. On a local two-CPU Ray cluster (ray.cluster_utils.Cluster,
its processes this benchmark's children) and the mock in its own process (answers 200 ms
after a request arrives), batches of 200 conversations (`run_batch` with the Ray executor):
- the thread executor, 64 in flight in this process: the baseline;
- 1 worker, 32 in flight, vs 2 workers, 16 in flight each: the same total concurrency;
- 2 workers, 32 in flight each (64): target >= 85% of the latency-bound limit 64 / 0.2 s;
  each in model calls per second while every slot is busy (from the first call + 1 s to the
  moment the last conversation was handed out), next to its latency-bound limit;
- 2 workers, 64 in flight, under a rate limit of 100 calls/s (6,000 a minute): the rate held
  over the same window, target within 5% of the ceiling;
- kill -9: 200 conversations by `emosim batch --executor ray` (a process) with a worker and
  then the driver killed, resumed: exactly the planned set, none twice, records equal to an
  uninterrupted run's (times, run ids and call counts aside);
- with $EMOSIM_TEST_POSTGRES_DSN set, 2 workers x 32 on the Postgres run store (schema
  bench_scale_runs, dropped after). Per-step checkpoint cost, SQLite vs Postgres, is
  `python -m benchmarks postgres`.
Emosim's CPU per call is the Ray workers' (this process's with threads), the mock's its own.
Each line carries the load average: the machine's other work takes the CPU these need.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from emosim.batch import dump_plan, run_batch, scenario_hash
from emosim.catalog import get_catalog
from emosim.debugging import strip_volatile
from emosim.graphs.runner import Job
from emosim.runs import RunFolder

from .llm import (
    BENCH_KEY,
    EXCHANGES,
    LATENCY,
    ROOT,
    _config,
    _mock_cpu,
    _scenario,
    _start_mock,
)

CONVERSATIONS = 200
CEILING = 100.0  # calls per second under the rate limit
RUNS: list[tuple[str, int, int, float | None]] = [
    # label, Ray workers (0: the thread executor, in this process), in flight, calls/s limit
    ("threads, 1 process x 64", 0, 64, None),
    ("1 worker x 32", 1, 32, None),
    ("2 workers x 16", 2, 32, None),
    ("2 workers x 32", 2, 64, None),
    ("2 workers x 32, limit 100/s", 2, 64, CEILING),
]
POSTGRES_ENV = "EMOSIM_TEST_POSTGRES_DSN"
"""When set (a server answers there), one more run: 2 workers x 32 on the Postgres run store."""


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _call_times(run: RunFolder) -> list[float]:
    out = []
    for line in (run.path / "cassette.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("type") == "call":
            out.append(datetime.fromisoformat(entry["at"]).timestamp())
    return sorted(out)


def _spec_with_limit(spec: str, folder: Path, per_second: float | None) -> str:
    if per_second is None:
        return spec
    config = json.loads(Path(spec).read_text(encoding="utf-8"))
    config["settings"]["rate_limit"] = {"requests_per_minute": per_second * 60}
    path = folder / f"limited-{per_second:g}.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def one_run(
    catalog: Any,
    folder: Path,
    spec: str,
    jobs: list[Job],
    workers: int,
    in_flight: int,
    url: str,
    store: str | None = None,
) -> dict[str, Any]:
    from emosim.executors.ray_executor import RayExecutor
    from emosim.executors.threads import ThreadExecutor

    run = RunFolder.create(folder, f"w{workers}c{in_flight}", store=store)
    executor: Any = RayExecutor(workers=workers) if workers else ThreadExecutor()
    pids = (lambda: executor.pids) if workers else (lambda: [os.getpid()])
    handed_out: list[float] = []
    done = [0]
    cpu: list[tuple[float, float, float]] = []  # (time, workers' CPU, mock's CPU)

    def on_record(_: Any) -> None:
        done[0] += 1
        if done[0] in (1, len(jobs) - in_flight):
            cpu.append((time.time(), _cpu(pids()), _mock_cpu(url)))
        if done[0] == len(jobs) - in_flight:  # the last conversation is handed out now
            handed_out.append(time.time())

    started = time.perf_counter()
    result = run_batch(
        catalog,
        run,
        jobs,
        backend=spec,
        concurrency=in_flight,
        on_record=on_record,
        executor=executor,
    )
    wall = time.perf_counter() - started
    times = _call_times(run)
    begin = times[0] + 1.0
    end = handed_out[0] if handed_out else times[-1]
    steady = sum(begin <= t <= end for t in times) / max(end - begin, 1e-9)
    (t0, w0, m0), (t1, w1, m1) = cpu[0], cpu[-1]
    sampled = max(1, sum(t0 <= t <= t1 for t in times))
    return {
        "worker_ms": (w1 - w0) / sampled * 1000,
        "mock_ms": (m1 - m0) / sampled * 1000,
        "run": run,
        "rate": steady,
        "window": end - begin,
        "calls": len(times),
        "wall": wall,
        "failed": result.failed,
        "load": _load(),
    }


def _records(run: RunFolder) -> dict[str, dict[str, Any]]:
    out = {}
    for line in run.records_path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["quality"].pop("scores", None)
        record.pop("backends", None)
        out[record["id"]] = strip_volatile(record)
    return out


def _worker_pids() -> list[int]:
    """Processes titled as emosim's Ray workers (Ray names an actor's process after it)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "cmdline").read_bytes().startswith(b"ray::ConversationWorker"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kill_run(address: str, folder: Path, spec: str, jobs: list[Job]) -> dict[str, Any]:
    """200 conversations by `emosim batch --executor ray`, a worker and the driver killed."""
    plan = folder / "plan.yaml"
    plan.write_text(dump_plan(jobs), encoding="utf-8")
    runs = folder / "killed"
    env = {**os.environ, "ANTHROPIC_API_KEY": BENCH_KEY}
    ray_args = ["--executor", "ray", "--address", address, "--workers", "2"]
    ray_args += ["--concurrency", "64", "--runs-dir", str(runs)]
    emosim = [sys.executable, "-m", "emosim", "batch"]
    quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    started = time.perf_counter()
    proc = subprocess.Popen([*emosim, str(plan), "--backend", spec, *ray_args], **quiet)
    kills = []
    try:
        while not list(runs.glob("*/manifest.json")):
            time.sleep(0.05)
        (run_dir,) = runs.iterdir()
        records = run_dir / "conversations.jsonl"
        for target, what in ((40, "worker"), (100, "driver")):
            while _lines(records) < target and proc.poll() is None:
                time.sleep(0.05)
            if proc.poll() is not None:
                break
            if what == "worker":
                os.kill(_worker_pids()[0], signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            kills.append((what, _lines(records)))
        proc = subprocess.Popen([*emosim, "--resume", str(run_dir), *ray_args], **quiet)
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    ids = [json.loads(line)["id"] for line in records.read_text().splitlines()]
    return {
        "run": RunFolder(run_dir),
        "kills": kills,
        "exit": code,
        "error": proc.stderr.read().decode()[-500:] if code and proc.stderr else "",
        "planned": set(ids) == {j.conversation_id for j in jobs},
        "duplicates": len(ids) - len(set(ids)),
        "wall": time.perf_counter() - started,
        "load": _load(),
    }


BENCH_SCHEMA = "bench_scale"


def _bench_dsn() -> str:
    server = os.environ[POSTGRES_ENV]
    glue = "&" if "?" in server else "?"
    return f"{server}{glue}options=-csearch_path%3D{BENCH_SCHEMA}"


def _drop_bench_schema() -> None:
    import psycopg

    with psycopg.connect(os.environ[POSTGRES_ENV], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA}_runs CASCADE")


def main() -> None:
    import ray
    from ray.cluster_utils import Cluster

    console = Console(width=160)
    catalog = get_catalog(ROOT)
    scenario = _scenario(catalog, EXCHANGES)
    jobs = [Job(scenario, scenario_hash(scenario), seed) for seed in range(CONVERSATIONS)]
    mock, url = _start_mock(LATENCY)
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False}
    )
    os.environ["ANTHROPIC_API_KEY"] = BENCH_KEY
    rows: list[dict[str, Any]] = []
    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            spec = _config(folder, url)
            runs = [(*r, None) for r in RUNS]
            if os.environ.get(POSTGRES_ENV):
                runs.append(("2 workers x 32, Postgres store", 2, 64, None, _bench_dsn()))
            for label, workers, in_flight, ceiling, store in runs:
                limited = _spec_with_limit(spec, folder, ceiling)
                figures = one_run(catalog, folder, limited, jobs, workers, in_flight, url, store)
                rows.append({"label": label, "in_flight": in_flight, "ceiling": ceiling, **figures})
            ray.shutdown()
            killed = kill_run(cluster.address, folder, spec, jobs)
            straight = rows[0]["run"]  # threads, 64 in flight, uninterrupted
            same = _records(killed["run"]) == _records(straight)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
        if os.environ.get(POSTGRES_ENV):
            _drop_bench_schema()
        mock.terminate()
        mock.wait()
    _report(console, rows, killed, same)


def _report(
    console: Console, rows: list[dict[str, Any]], killed: dict[str, Any], same: bool
) -> None:
    table = Table(
        title=f"Ray executor: {CONVERSATIONS} conversations against the mock at "
        f"{LATENCY * 1000:.0f} ms per call (model calls/s while every slot is busy)"
    )
    columns = ("run", "in flight", "calls/s", "of the bound", "target", "window s")
    for column in (*columns, "emosim CPU ms/call", "mock CPU ms/call", "load"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for row in rows:
        bound = row["in_flight"] / LATENCY
        if row["ceiling"]:
            share = row["rate"] / row["ceiling"]
            of, target = f"{share:.1%} of {row['ceiling']:.0f}/s limit", "95-105%"
        else:
            of = f"{row['rate'] / bound:.0%} of {bound:.0f}"
            target = ">= 85%" if row["in_flight"] == 64 and "workers" in row["label"] else ""
        table.add_row(
            row["label"],
            str(row["in_flight"]),
            f"{row['rate']:.1f}",
            of,
            target,
            f"{row['window']:.1f}",
            f"{row['worker_ms']:.1f}",
            f"{row['mock_ms']:.1f}",
            f"{row['load']:.1f}",
        )
    console.print(table)
    rate = {row["label"]: row["rate"] for row in rows}
    console.print(
        f"2 workers vs 1 at the same 32 in flight: "
        f"{rate['2 workers x 16'] / rate['1 worker x 32']:.2f}x; 2 workers x 32 vs threads in "
        f"one process at 64: {rate['2 workers x 32'] / rate['threads, 1 process x 64']:.2f}x"
    )
    console.print(
        f"kill -9 ({', '.join(f'{w} at {n} records' for w, n in killed['kills'])}), then "
        f"--resume: exit {killed['exit']}, exactly the planned set: {killed['planned']}, "
        f"duplicates: {killed['duplicates']}, records equal to the uninterrupted run's "
        f"(times, run ids and call counts aside): {same}; {killed['wall']:.0f} s, "
        f"load {killed['load']:.1f}"
    )
    if killed["error"]:
        console.print(f"resume error: {killed['error']}")
    failed = sum(r["failed"] for r in rows)
    if failed:
        console.print(f"[red]{failed} conversation(s) failed[/]")
