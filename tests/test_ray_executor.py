"""`emosim batch --executor ray`: a worker and the driver killed with kill -9 mid-batch.

Against the mock Messages API on 127.0.0.1, on a two-CPU Ray cluster started once for the
module (ray.cluster_utils.Cluster: its processes are this test's children, stopped by pid).
After the kills and a resume: exactly the planned ids, none twice, and every record the one
an uninterrupted run of the thread executor writes (times and run ids aside; calls a killed
worker made before its last checkpoint count, so calls and tokens may only be higher).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emosim.batch import dump_plan, run_batch, scenario_hash
from emosim.catalog import Catalog
from emosim.debugging import strip_volatile
from emosim.graphs.runner import Job
from emosim.runs import RunFolder
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, backend_config
from .test_backends_mock import KEY, _scenario

# Ray is in the dev extra, so CI runs these; a plain `pip install emosim` has no Ray.
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'emosim[ray]')")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(1, 17)
SCORES = ("model_calls", "tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from ray.cluster_utils import Cluster

    head = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        yield head.address
    finally:
        head.shutdown()


def _worker_pids() -> list[int]:
    """Processes titled as emosim's Ray workers (Ray names an actor's process after it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::ConversationWorker"):
            pids.append(int(entry.name))
    return pids


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait(what: str, check, proc: subprocess.Popen, timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"driver ended ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_worker_and_driver_killed_then_resume_gives_exactly_the_plan(
    cluster: str, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = _scenario(catalog, exchanges=2)
    jobs = [Job(scenario, scenario_hash(scenario), seed) for seed in SEEDS]
    plan = tmp_path / "plan.yaml"
    plan.write_text(dump_plan(jobs), encoding="utf-8")
    runs = tmp_path / "runs"
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY}
    ray_args = ["--executor", "ray", "--address", cluster, "--workers", "2", "--concurrency", "6"]
    with MockAnthropic(latency=0.02, record=False) as mock:
        spec = backend_config(tmp_path / "mock.yaml", mock.url)
        first = [sys.executable, "-m", "emosim", "batch", str(plan), "--backend", spec]
        proc = subprocess.Popen(
            [*first, *ray_args, "--runs-dir", str(runs)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait("the run folder", lambda: list(runs.glob("*/manifest.json")), proc)
            (run_dir,) = runs.iterdir()
            records = run_dir / "conversations.jsonl"
            _wait("3 records", lambda: _lines(records) >= 3, proc)
            (victim, *_) = _worker_pids()
            os.kill(victim, signal.SIGKILL)  # a worker, with conversations in flight
            _wait("8 records", lambda: _lines(records) >= 8, proc)
            proc.send_signal(signal.SIGKILL)  # and the driver
            proc.wait(timeout=30)
            assert _lines(records) < len(SEEDS), "the batch ended before the driver was killed"
            resume = [sys.executable, "-m", "emosim", "batch", "--resume", str(run_dir)]
            proc = subprocess.Popen(
                [*resume, *ray_args, "--runs-dir", str(runs)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            assert proc.wait(timeout=240) == 0, proc.stderr.read().decode()
        finally:
            if proc.poll() is None:
                proc.kill()
        # the same plan, never interrupted, on threads
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        straight = RunFolder.create(tmp_path, "straight")
        run_batch(catalog, straight, jobs, backend=spec, concurrency=6)

    ids = [json.loads(line)["id"] for line in records.read_text().splitlines()]
    assert len(ids) == len(set(ids)), "a conversation was written twice"
    assert set(ids) == {j.conversation_id for j in jobs}
    assert validate_paths([records], catalog).problems == []
    expected = {r["id"]: r for r in map(json.loads, straight.records_path.read_text().splitlines())}
    for line in records.read_text().splitlines():
        got, want = json.loads(line), expected[json.loads(line)["id"]]
        got_scores, want_scores = got["quality"].pop("scores"), want["quality"].pop("scores")
        got.pop("backends", None), want.pop("backends", None)
        assert strip_volatile(got) == strip_volatile(want), got["id"]
        # calls made before a kill count: never fewer calls than an uninterrupted play
        assert got_scores["model_calls"] >= want_scores["model_calls"], got["id"]
        assert {k: v for k, v in got_scores.items() if k not in SCORES + ("cost_usd",)} == {
            k: v for k, v in want_scores.items() if k not in SCORES + ("cost_usd",)
        }


def test_workers_on_two_processes_share_one_limiter(cluster: str) -> None:
    from emosim.agents.llm.ratelimit import RateLimitSettings
    from emosim.executors.ray_executor import NAMESPACE

    @ray.remote(num_cpus=0)
    def reserve(n: int, key: str, limits: dict) -> list[float]:
        import ray as in_worker

        from emosim.executors.ray_executor import RayLimiter

        limiter = RayLimiter(in_worker)
        settings = RateLimitSettings.model_validate(limits)
        return [limiter.reserve(key, settings, 0) for _ in range(n)]

    ten_a_second = {"requests_per_minute": 600, "burst_seconds": 1.0}
    ray.init(address=cluster, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False)
    try:
        key = f"test:{time.time_ns()}"
        first, second = ray.get([reserve.remote(30, key, ten_a_second) for _ in range(2)])
    finally:
        ray.shutdown()
    # one bucket for both: 60 calls, 10 at once then 10 a second, so the last waits about
    # 5 s (less the time the reservations took); a bucket each would make it 2 s
    assert 3.5 <= max(first + second) <= 5.0 + 1e-6


def test_a_worker_killed_on_the_postgres_run_store_loses_nothing(
    cluster: str, catalog: Catalog, postgres_dsn: Any, tmp_path: Path
) -> None:
    """Workers on the shared Postgres store (where workers on other hosts meet): a worker
    killed mid-batch, its conversations resumed elsewhere; the records those of threads on
    SQLite."""
    from emosim.executors.ray_executor import RayExecutor

    jobs = [
        Job(catalog.load_scenario(path), "h", seed)
        for path in sorted((ROOT / "simulations").glob("*.yaml"))[:2]
        for seed in (1, 2, 3)
    ]
    run = RunFolder.create(tmp_path, "ray-pg", store=postgres_dsn)
    assert (run.path / "storage.json").is_file()  # its checkpoints and ledger in Postgres
    executor = RayExecutor(address=cluster, workers=2)
    killed: list[int] = []

    def kill_a_worker(record: Any) -> None:
        if not killed:
            killed.append(executor.pids[0])
            os.kill(executor.pids[0], signal.SIGKILL)

    result = run_batch(
        catalog,
        run,
        jobs,
        backend="scripted",
        concurrency=4,
        on_record=kill_a_worker,
        executor=executor,
    )
    assert killed and result.completed == len(jobs)
    straight = RunFolder.create(tmp_path, "threads")
    run_batch(catalog, straight, jobs, backend="scripted", concurrency=4)

    def records(folder: RunFolder) -> dict[str, Any]:
        lines = folder.records_path.read_text().splitlines()
        return {r["id"]: strip_volatile(r) for r in map(json.loads, lines)}

    assert records(run) == records(straight)
