"""Batches: streamed records, resumable after kill -9, no conversation lost or duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emosim.batch import jobs_from, parse_seeds, repair_records, run_batch, start_batch
from emosim.catalog import Catalog
from emosim.cli import app
from emosim.runs import RunFolder
from emosim.validate import validate_paths


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "EMOSIM_HOME": str(cwd)}
    return subprocess.Popen(
        [sys.executable, "-m", "emosim", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            return
        time.sleep(0.01)


def test_kill_9_at_random_points_then_resume_gives_exactly_the_plan(
    tmp_path: Path, root: Path, catalog: Catalog
) -> None:
    runs = tmp_path / "runs"
    seeds = "1-3"
    planned = {
        j.conversation_id for j in jobs_from(catalog, root / "simulations", parse_seeds(seeds))
    }
    proc = _start(
        ["batch", "simulations", "--seeds", seeds, "--concurrency", "2", "--runs-dir", str(runs)],
        root,
    )
    while not list(runs.glob("*/manifest.json")) and proc.poll() is None:
        time.sleep(0.01)
    run_dir = next(runs.glob("*"))
    records = run_dir / "conversations.jsonl"
    kills = 0
    for target in (3, 11, 25):
        _wait_for_lines(records, target, proc)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        proc = _start(
            ["batch", "--resume", run_dir.name, "--concurrency", "2", "--runs-dir", str(runs)], root
        )
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    assert kills >= 2
    ids = _ids(records)
    assert len(ids) == len(set(ids)), "a conversation was written twice"
    assert set(ids) == planned
    assert validate_paths([records], catalog).problems == []
    # and every record is the one an uninterrupted batch writes
    from emosim.debugging import strip_volatile

    jobs = jobs_from(catalog, root / "simulations", parse_seeds(seeds))
    reference = start_batch(catalog, jobs, tmp_path / "reference", "scripted", "ref", "pytest")
    run_batch(catalog, reference, jobs, backend="scripted", concurrency=2)
    expected = {
        json.loads(line)["id"]: strip_volatile(json.loads(line))
        for line in reference.records_path.read_text().splitlines()
    }
    for line in records.read_text().splitlines():
        got = strip_volatile(json.loads(line))
        assert got == expected[got["id"]], got["id"]


def test_torn_last_line_is_cut_on_resume(tmp_path: Path, root: Path, catalog: Catalog) -> None:
    jobs = jobs_from(
        catalog, root / "simulations" / "emergency_fund_guilt_after_car_repair.yaml", [1, 2, 3]
    )
    run = start_batch(catalog, jobs, tmp_path, "scripted", "torn", "pytest")
    run_batch(catalog, run, jobs[:2], backend="scripted")
    with open(run.records_path, "ab") as handle:
        handle.write(b'{"id": "half-writ')
    assert repair_records(run) == {j.conversation_id for j in jobs[:2]}
    result = run_batch(catalog, run, jobs, backend="scripted")
    assert (result.skipped, result.completed) == (2, 1)
    assert sorted(_ids(run.records_path)) == sorted(j.conversation_id for j in jobs)


def test_plan_file_and_bad_inputs(tmp_path: Path, root: Path, catalog: Catalog, cli) -> None:
    from emosim.batch import dump_plan

    jobs = jobs_from(
        catalog, root / "simulations" / "student_loan_servicer_frustration.yaml", [4, 5]
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(dump_plan(jobs))
    result = cli.invoke(app, ["batch", str(plan), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run = RunFolder(next((tmp_path / "runs").glob("*")))
    planned = sorted(j.conversation_id for j in jobs_from(catalog, plan, None))
    assert sorted(_ids(run.records_path)) == planned and len(planned) == 2

    bad = tmp_path / "bad_plan.yaml"
    bad.write_text(plan.read_text().replace("client_persona: jordan_kim", "client_persona: nobody"))
    result = cli.invoke(app, ["batch", str(bad), "--runs-dir", str(tmp_path / "runs2")])
    assert result.exit_code == 1 and "unknown persona id 'nobody'" in result.output
    for args, message in (
        (["batch", str(plan), "--seeds", "x-y"], "--seeds"),
        (["batch", str(plan), "--concurrency", "0"], "--concurrency"),
        (["batch", "--resume", "nope"], "no such run"),
        (["batch"], "give a plan"),
    ):
        result = cli.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs3")])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
