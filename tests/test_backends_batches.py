"""`emosim batch --message-batches`: Claude calls in batch rounds through the mock's
/v1/messages/batches, priced at the batch discount, the same records and cassette (a replay
needs no batch), and kill -9 at any point resumes without sending a request twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from emosim.agents.llm.batches import LEDGER
from emosim.agents.llm.direct_http import Route
from emosim.agents.llm.report import usage_report
from emosim.batch import run_batch
from emosim.catalog import Catalog
from emosim.graphs.runner import Job
from emosim.runs import RunFolder
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, backend_config
from .test_backends_mock import KEY, _scenario, _strip

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "investing_shame_first_steps.yaml"


def _config(tmp_path: Path, url: str) -> str:
    spec = backend_config(tmp_path / "batches.yaml", url)
    config = json.loads(Path(spec).read_text())
    config["settings"]["message_batches"] = {
        "poll_initial_seconds": 0.02,
        "poll_max_seconds": 0.1,
        "linger_seconds": 1.0,
    }
    Path(spec).write_text(json.dumps(config))
    return spec


def _records(run: RunFolder) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, run.records_path.read_text().splitlines())}


def _calls(run: RunFolder) -> list[dict]:
    lines = [json.loads(x) for x in (run.path / "cassette.jsonl").read_text().splitlines()]
    return [x for x in lines if x["type"] == "call"]


def test_batch_rounds_price_half_and_replay_with_zero_calls(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    jobs = [Job(_scenario(catalog, exchanges=2), "h", seed) for seed in range(12)]
    with MockAnthropic(batch_delay=0.05, batch_error_rate=0.05) as mock:
        spec = _config(tmp_path, mock.url)
        run = RunFolder.create(tmp_path, "batches")
        result = run_batch(catalog, run, jobs, backend=spec, concurrency=12, message_batches=True)
        direct, submitted = mock.calls, list(mock.batch_custom_ids)
    assert direct == 0  # every Claude call went through a batch
    assert result.completed == 12 and result.rounds
    assert max(result.rounds) <= 12 and sum(result.rounds) == len(submitted)
    assert len(submitted) == len(set(submitted))  # no request sent twice
    # one agent step per round: far fewer rounds than requests
    assert len(result.rounds) < len(submitted) / 4
    records = _records(run)
    assert all(r["outcome"]["status"] == "completed" for r in records.values())
    assert validate_paths([run.records_path], catalog).problems == []
    calls = _calls(run)
    assert {c["provider"] for c in calls} == {"anthropic-batch"}
    assert any(c["error"] for c in calls)  # per-request errors, retried in later rounds

    report = usage_report(run.path)
    full = usage_report(run.path).total.cost_usd
    assert report.total.cost_usd == full and full is not None and full > 0
    total = sum(r["quality"]["scores"]["cost_usd"] for r in records.values())
    assert total == pytest.approx(full, rel=1e-3)
    priced = _full_price(run)
    assert full == pytest.approx(priced / 2, rel=1e-3)  # batch pricing: half

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", lambda *a, **k: pytest.fail("net"))
    monkeypatch.setattr(Route, "post", lambda *a, **k: pytest.fail("net"))
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    again = RunFolder.create(tmp_path, "replay")
    run_batch(catalog, again, jobs, backend=f"replay:{run.path}", concurrency=4)
    assert {k: _strip(v) for k, v in _records(again).items()} == {
        k: _strip(v) for k, v in records.items()
    }


def _full_price(run: RunFolder) -> float:
    from emosim.agents.llm.build import load_resolved
    from emosim.agents.llm.settings import price_for

    resolved = load_resolved(run.path)
    assert resolved is not None
    cost = 0.0
    for call in _calls(run):
        if not call["reply"]:
            continue
        price = price_for(resolved.pricing, call["request"]["model"])
        usage = call["reply"]["usage"]
        cost += (
            usage["input_tokens"] * price.input
            + usage["output_tokens"] * price.output
            + usage["cache_write_tokens"] * price.cache_write
            + usage["cache_read_tokens"] * price.cache_read
        ) / 1e6
    return cost


def _ledger(run_dir: Path) -> tuple[int, set[str]]:
    """Submitted batches, and those submitted but not yet collected."""
    path = run_dir / LEDGER
    if not path.exists():
        return 0, set()
    submitted, collected = [], set()
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry["type"] == "submitted":
            submitted.append(entry["batch"])
        elif entry["type"] == "collected":
            collected.add(entry["batch"])
    return len(submitted), set(submitted) - collected


def test_kill_9_twice_while_batches_are_in_flight_then_resume(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    runs = tmp_path / "runs"
    emosim = [sys.executable, "-m", "emosim"]
    with MockAnthropic(batch_delay=0.4, record=False) as mock:
        spec = _config(tmp_path, mock.url)
        start = [*emosim, "batch", str(SCENARIO), "--seeds", "1-24", "--backend", spec]
        command = [*start, "--message-batches", "--runs-dir", str(runs)]
        kills = 0
        for round_ in range(3):
            if round_ == 0:
                proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
            else:
                (run_dir,) = runs.iterdir()
                resume = [*emosim, "batch", "--resume", str(run_dir), "--runs-dir", str(runs)]
                proc = subprocess.Popen(resume, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
            if round_ == 2:
                assert proc.wait(timeout=300) == 0
                break
            deadline = time.monotonic() + 120
            seen = None
            while time.monotonic() < deadline and proc.poll() is None:
                dirs = list(runs.iterdir()) if runs.exists() else []
                count, open_ = _ledger(dirs[0]) if dirs else (0, set())
                if seen is None:
                    seen = count
                if open_ and count >= seen + 2:  # a few rounds in, one batch in flight
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                    break
                time.sleep(0.02)
            proc.wait(timeout=60)
        submitted = list(mock.batch_custom_ids)
        direct = mock.calls
        # the same plan, never killed, for comparison
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        straight = RunFolder.create(tmp_path, "straight")
        from emosim.batch import jobs_from

        jobs = jobs_from(catalog, SCENARIO, list(range(1, 25)))
        run_batch(catalog, straight, jobs, backend=spec, concurrency=24, message_batches=True)
    assert kills == 2 and direct == 0
    (run_dir,) = runs.iterdir()
    run = RunFolder(run_dir)
    records = _records(run)
    assert len(records) == 24 and len(run.records_path.read_text().splitlines()) == 24
    assert validate_paths([run.records_path], catalog).problems == []
    duplicates = [cid for cid, n in Counter(submitted).items() if n > 1]
    assert duplicates == []  # no request was submitted twice across the kills

    # the cassette holds exactly the calls of an uninterrupted run: none twice, none lost
    def idents(folder: RunFolder) -> Counter:
        return Counter((c["conversation"], c["key"], c["attempt"]) for c in _calls(folder))

    assert idents(run) == idents(straight)
    other = _records(straight)
    diffs = [d for k in records for d in _diff(_strip(records[k]), _strip(other[k]), k)]
    # calls and tokens too (calls before a kill count once); how the prompt cache split the
    # input tokens (and so the cost) depends on what else the cache held at the time
    cache = (".cache_read_tokens:", ".cache_write_tokens:", ".cost_usd:")
    assert [d for d in diffs if not any(c in d for c in cache)] == []


def _diff(a: object, b: object, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"[:200]]
