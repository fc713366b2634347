"""Model backends under load, against the mock Messages API (tests/mock_anthropic.py).

- Throughput: 32 conversations in flight (32 lanes: one thread, Simulator and run folder
  each, playing 3 conversations back to back, starts staggered over one latency period)
  against a mock answering 200 ms after each request arrives (its own work included), in
  model calls per second while all 32 are in flight, next to the latency-bound limit
  32 / 0.2 s = 160 calls/s; three passes after a warm-up, each with the machine's load
  average (the figure depends on the CPU left to this process). The mock runs in its own
  process: its CPU is reported apart and not counted as emosim's.
- Memory: peak traced memory (tracemalloc) over the same 32 in-flight conversations, per
  conversation (a second pass: tracing slows Python down, so it is not timed).
- Prompt cache: share of input tokens read from the cache over a 10-exchange conversation.
- Model calls per accepted advisor turn (sent replies), over the throughput pass.
- Message Batches: 200 conversations (`emosim batch --message-batches`, a process) through the
  mock's /v1/messages/batches (0.5 s of processing per batch), killed with kill -9 twice while
  a batch is in flight and resumed: wall time, rounds, requests per round, no request sent
  twice, exactly the planned set, cost at batch price.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from emosim.catalog import Catalog, get_catalog
from emosim.graphs.runner import Job, Simulator
from emosim.runs import RunFolder
from emosim.schemas import ConversationRecord, Scenario

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 32
LATENCY = 0.2
EXCHANGES = 4
PER_LANE = 3  # conversations per lane, back to back: ramp-up and tail are a small share
BENCH_KEY = "local-mock-key-not-a-secret"


def _scenario(catalog: Catalog, exchanges: int) -> Scenario:
    base = catalog.load_scenario(ROOT / "simulations" / "investing_shame_first_steps.yaml")
    length = "short" if exchanges <= 3 else "medium" if exchanges <= 6 else "long"
    data = base.model_dump(mode="json") | {"exchanges": exchanges, "length_class": length}
    return Scenario.model_validate(data)


def _start_mock(latency: float, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.mock_anthropic", "--latency", str(latency), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.terminate()
        raise SystemExit(f"mock server did not start: {line!r}")
    return proc, line.removeprefix("READY ")


def _config(folder: Path, url: str) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.mock_anthropic import backend_config

    return backend_config(folder / "backends.yaml", url, timeout=30, retries=2)


def _play_many(
    catalog: Catalog, runs: Path, spec: str, lanes: list[list[Job]], stagger: float = 0.0
) -> tuple[float, list[ConversationRecord], int]:
    """One thread (with its own Simulator and run folder) per lane; each lane plays its jobs
    back to back, so `len(lanes)` conversations stay in flight. Lane i starts `i * stagger`
    seconds late: real batches start conversations as others finish, not all in the same
    instant, and a lock-stepped start only measures a burst. Wall seconds, records, calls."""
    records: list[ConversationRecord] = []
    calls = [0]
    spans: list[tuple[datetime, datetime]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(lanes) + 1)

    def worker(i: int, lane: list[Job]) -> None:
        run = RunFolder.create(runs, f"bench{i}")
        with Simulator(catalog, run, spec) as sim, run.events() as log:
            for job in lane:
                sim.agents_for(job.scenario)  # build outside the timed part
            barrier.wait()
            time.sleep(i * stagger)
            began_at = datetime.now(UTC)
            for job in lane:
                record = sim.play(job, log)
                totals = sim.agents_for(job.scenario).accounting.conversation(record.id)
                with lock:
                    records.append(record)
                    calls[0] += totals.calls
            with lock:
                spans.append((began_at, datetime.now(UTC)))

    threads = [threading.Thread(target=worker, args=(i, lane)) for i, lane in enumerate(lanes)]
    for t in threads:
        t.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    _play_many.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
    # Steady state: calls completed (cassette timestamps) while every lane was busy, i.e.
    # between the last lane's start and the first lane's end; no ramp-up, no tail.
    first_end = min(end for _, end in spans)
    last_start = max(start for start, _ in spans)
    done = [
        at
        for cassette in runs.glob("*/cassette.jsonl")
        for at in _call_times(cassette)
        if last_start <= at <= first_end
    ]
    window = (first_end - last_start).total_seconds()
    _play_many.in_flight_rate = len(done) / window if window > 0 else 0.0  # type: ignore[attr-defined]
    _play_many.window = window  # type: ignore[attr-defined]
    return time.perf_counter() - started, records, calls[0]


def _call_times(cassette: Path) -> list[datetime]:
    times = []
    for line in cassette.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if "at" in entry:
            times.append(datetime.fromisoformat(entry["at"]))
    return times


def _call_latency(runs: Path) -> float:
    """Mean seconds from sending a request to holding its answer, as emosim measured it."""
    latencies = [
        entry["latency_ms"] / 1000
        for cassette in runs.glob("*/cassette.jsonl")
        for entry in map(json.loads, cassette.read_text(encoding="utf-8").splitlines())
        if entry["type"] == "call"
    ]
    return sum(latencies) / max(1, len(latencies))


def _mock_cpu(url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/mock/stats") as response:  # noqa: S310 - 127.0.0.1
        return float(json.loads(response.read())["cpu_seconds"])


PASSES = 3


def throughput_pass(catalog: Catalog, runs: Path, spec: str, url: str) -> dict[str, Any]:
    """One timed pass of 32 lanes x PER_LANE conversations; its figures."""
    scenario = _scenario(catalog, EXCHANGES)
    lanes = [
        [Job(scenario, "bench", lane * PER_LANE + k) for k in range(PER_LANE)]
        for lane in range(IN_FLIGHT)
    ]
    mock_before = _mock_cpu(url)
    wall, records, calls = _play_many(catalog, runs, spec, lanes, stagger=LATENCY / IN_FLIGHT)
    mock_cpu = _mock_cpu(url) - mock_before
    advisor_turns = sum(len(r.advisor_turns) for r in records)
    return {
        "throughput": _play_many.in_flight_rate,  # type: ignore[attr-defined]
        "whole_run": calls / wall,
        "window": _play_many.window,  # type: ignore[attr-defined]
        "wall": wall,
        "calls": calls,
        "cpu_per_call": _play_many.cpu / calls,  # type: ignore[attr-defined]
        "mock_cpu_per_call": mock_cpu / calls,
        "latency": _call_latency(runs),
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "calls_per_turn": calls / advisor_turns,
        "failed": sum(r.outcome.status == "failed" for r in records),
    }


def _cache_share(catalog: Catalog, runs: Path) -> tuple[float, int]:
    sys.path.insert(0, str(ROOT))
    from tests.mock_anthropic import MockAnthropic, backend_config

    with MockAnthropic(record=False) as mock:
        spec = backend_config(runs / "cache.yaml", mock.url)
        job = Job(_scenario(catalog, 10), "bench-cache", 1)
        run = RunFolder.create(runs, "cache")
        with Simulator(catalog, run, spec) as sim, run.events() as log:
            record = sim.play(job, log)
            totals = sim.agents_for(job.scenario).accounting.conversation(record.id)
    return totals.cache_read_share, len(record.advisor_turns)


BATCH_CONVERSATIONS = 200
BATCH_DELAY = 0.5


def _ledger(run_dir: Path) -> tuple[list[int], set[str]]:
    """Requests per submitted batch, and the batches not yet collected."""
    path = run_dir / "message_batches.jsonl"
    sizes: list[int] = []
    submitted, collected = set(), set()
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry["type"] == "submitted":
                sizes.append(len(entry["custom_ids"]))
                submitted.add(entry["batch"])
            elif entry["type"] == "collected":
                collected.add(entry["batch"])
    return sizes, submitted - collected


def message_batches(tmp: Path) -> dict[str, Any]:
    """200 conversations through batches, kill -9 twice mid-batch, resume; the figures."""
    import urllib.request

    from emosim.agents.llm.report import usage_report

    proc, url = _start_mock(0.0, "--batch-delay", str(BATCH_DELAY))
    env = {**os.environ, "ANTHROPIC_API_KEY": BENCH_KEY}
    runs = tmp / "batch-runs"
    try:
        spec = _config(tmp, url)
        config = json.loads(Path(spec).read_text())
        config["settings"]["message_batches"] = {
            "poll_initial_seconds": 0.1,
            "poll_max_seconds": 0.5,
            "linger_seconds": 2.0,
        }
        Path(spec).write_text(json.dumps(config))
        scenario = ROOT / "simulations" / "investing_shame_first_steps.yaml"
        seeds = f"1-{BATCH_CONVERSATIONS}"
        first = ["batch", str(scenario), "--seeds", seeds, "--backend", spec, "--message-batches"]
        started = time.perf_counter()
        kills = 0
        for attempt in range(3):
            args = first if attempt == 0 else ["batch", "--resume", str(next(runs.iterdir()))]
            command = [sys.executable, "-m", "emosim", *args, "--runs-dir", str(runs)]
            child = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            if attempt == 2:
                _, err = child.communicate()
                if child.returncode != 0:
                    raise SystemExit(f"batch resume failed: {err.decode()[-2000:]}")
                break
            seen: int | None = None
            while child.poll() is None:
                dirs = list(runs.iterdir()) if runs.exists() else []
                sizes, open_ = _ledger(dirs[0]) if dirs else ([], set())
                seen = len(sizes) if seen is None else seen
                if open_ and len(sizes) >= seen + 5:  # some rounds in, a batch in flight
                    os.kill(child.pid, signal.SIGKILL)
                    kills += 1
                    break
                time.sleep(0.02)
            _, err = child.communicate()
            if child.returncode not in (0, -signal.SIGKILL):
                raise SystemExit(f"batch failed: {err.decode()[-2000:]}")
        wall = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/mock/stats") as response:  # noqa: S310 - 127.0.0.1
            stats = json.loads(response.read())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    run_dir = next(runs.iterdir())
    sizes, _ = _ledger(run_dir)
    records = RunFolder(run_dir).records_path.read_text().splitlines()
    ids = [json.loads(x)["id"] for x in records]
    report = usage_report(run_dir)
    return {
        "wall": wall,
        "kills": kills,
        "rounds": len(sizes),
        "per_round_mean": sum(sizes) / max(1, len(sizes)),
        "per_round_max": max(sizes, default=0),
        "requests": stats["batch_requests"],
        "resubmitted": stats["batch_requests"] - stats["batch_unique"],
        "direct_calls": stats["calls"],
        "records": len(ids),
        "unique_records": len(set(ids)),
        "cost": report.total.cost_usd,
        "cassette_calls": report.total.calls,
    }


def main() -> None:
    console = Console()
    catalog = get_catalog()
    os.environ["ANTHROPIC_API_KEY"] = BENCH_KEY
    proc, url = _start_mock(LATENCY)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            spec = _config(tmp, url)
            scenario = _scenario(catalog, EXCHANGES)
            jobs = [Job(scenario, "bench", lane * PER_LANE) for lane in range(IN_FLIGHT)]
            _play_many(catalog, tmp / "warm", spec, [[j] for j in jobs[:2]])  # imports, prompts
            passes = [throughput_pass(catalog, tmp / f"runs{i}", spec, url) for i in range(PASSES)]

            tracemalloc.start()
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            mem_jobs = [Job(j.scenario, "bench-mem", j.seed + 100) for j in jobs]
            _play_many(catalog, tmp / "mem", spec, [[j] for j in mem_jobs])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results["mem_per_conversation"] = (peak - before) / IN_FLIGHT

            results["cache_share"], results["cache_turns"] = _cache_share(catalog, tmp)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with tempfile.TemporaryDirectory() as tmp_name:
        batches = message_batches(Path(tmp_name))

    limit = IN_FLIGHT / LATENCY
    table = Table(
        title=f"model backends on the mock Messages API: {IN_FLIGHT} conversations in flight "
        f"({PER_LANE} back to back per lane, staggered start) x {EXCHANGES} exchanges, "
        f"{LATENCY * 1000:.0f} ms per call; latency-bound limit {limit:.0f} model calls/s"
    )
    for col in ("measure", "value", "reference"):
        table.add_column(col)
    for i, p in enumerate(passes, start=1):
        table.add_row(
            f"pass {i}: model calls/s, all {IN_FLIGHT} in flight",
            f"{p['throughput']:.1f} ({p['throughput'] / limit:.0%})",
            f"load average {p['load']:.1f} ({os.cpu_count()} CPUs); whole run "
            f"{p['whole_run']:.0f}/s, {p['failed']} failed",
        )
        table.add_row(
            f"pass {i}: emosim CPU per call",
            f"{p['cpu_per_call'] * 1000:.2f} ms",
            f"mock's own {p['mock_cpu_per_call'] * 1000:.2f} ms apart; answered in "
            f"{p['latency'] * 1000:.0f} ms",
        )
    rates = sorted(p["throughput"] for p in passes)
    table.add_row(
        f"median of {PASSES} passes, model calls/s",
        f"{rates[len(rates) // 2]:.1f} ({rates[len(rates) // 2] / limit:.0%})",
        f"of the limit {limit:.0f}; range {rates[0] / limit:.0%}-{rates[-1] / limit:.0%}",
    )
    table.add_row(
        "peak traced memory per in-flight conversation",
        f"{results['mem_per_conversation'] / 1e6:.2f} MB",
        "tracemalloc, incl. each thread's simulator and agents",
    )
    table.add_row(
        f"prompt-cache read share of input tokens, {results['cache_turns']} exchanges",
        f"{results['cache_share']:.1%}",
        "mock bills 4 chars/token; cache minimums per model (Sonnet 1,024, Haiku 5.5 2,048)",
    )
    table.add_row(
        "model calls per accepted advisor turn",
        f"{passes[0]['calls_per_turn']:.2f}",
        "6 at best",
    )
    console.print(table)

    b = batches
    table = Table(
        title=f"Message Batches: {BATCH_CONVERSATIONS} conversations through the mock's batches "
        f"endpoint ({BATCH_DELAY * 1000:.0f} ms processing per batch), kill -9 twice, resumed"
    )
    for col in ("measure", "value", "reference"):
        table.add_column(col)
    table.add_row(
        "wall time, kills and restarts included", f"{b['wall']:.1f} s", f"{b['kills']} kill -9"
    )
    table.add_row(
        "batch rounds",
        str(b["rounds"]),
        f"{b['requests']} requests; {b['direct_calls']} direct Messages calls",
    )
    table.add_row(
        "requests per round",
        f"{b['per_round_mean']:.1f} mean, {b['per_round_max']} max",
        "one agent step of every in-flight conversation",
    )
    table.add_row(
        "requests submitted twice",
        str(b["resubmitted"]),
        f"records {b['records']} ({b['unique_records']} distinct) of {BATCH_CONVERSATIONS} planned",
    )
    cost = b["cost"]
    table.add_row(
        "cost at batch price (mock usage)",
        f"${cost:.4f}" if cost is not None else "unknown",
        f"${cost / 0.5:.4f} at direct price; {b['cassette_calls']} cassette calls"
        if cost is not None
        else "",
    )
    console.print(table)


if __name__ == "__main__":
    main()
