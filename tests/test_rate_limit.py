"""The rate limiter for model calls: requests and tokens per minute per provider key."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from emosim.agents.llm.ratelimit import Buckets, Gate, LocalLimiter, RateLimitSettings, key_for
from emosim.agents.llm.settings import load_settings
from emosim.agents.llm.wire import ModelRequest, Usage
from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.graphs.runner import Job
from emosim.runs import RunFolder

from .mock_anthropic import MockAnthropic, backend_config
from .test_backends_mock import KEY, _scenario

TEN_A_SECOND = RateLimitSettings(requests_per_minute=600, burst_seconds=1.0)


def test_requests_hold_the_ceiling_after_a_burst_of_one_second() -> None:
    buckets = Buckets()
    starts = [buckets.reserve("k", TEN_A_SECOND, 0, now=0.0) for _ in range(200)]
    assert starts == sorted(starts)
    assert starts[:10] == [0.0] * 10  # one second's worth at once
    assert starts[-1] == pytest.approx(19.0)  # then 10 a second: (200 - 10) / 10
    in_window = sum(2.0 <= s < 12.0 for s in starts)
    assert abs(in_window - 100) <= 1  # 10 a second over 10 s, within 1%


def test_keys_are_limited_apart_and_time_refills_the_bucket() -> None:
    buckets = Buckets()
    for _ in range(30):
        buckets.reserve("a", TEN_A_SECOND, 0, now=0.0)
    assert buckets.reserve("b", TEN_A_SECOND, 0, now=0.0) == 0.0  # another key: not waiting
    assert buckets.reserve("a", TEN_A_SECOND, 0, now=0.0) == pytest.approx(2.1)
    assert buckets.reserve("a", TEN_A_SECOND, 0, now=10.0) == 0.0  # long after: free again


def test_tokens_reserve_an_estimate_and_settle_what_the_answer_used() -> None:
    limits = RateLimitSettings(tokens_per_minute=60_000, burst_seconds=1.0)  # 1,000 a second
    buckets = Buckets()
    assert buckets.reserve("k", limits, 1_000, now=0.0) == 0.0
    assert buckets.reserve("k", limits, 1_000, now=0.0) == pytest.approx(1.0)
    buckets.settle("k", limits, 3_000)  # the second call used 4,000, not 1,000
    assert buckets.reserve("k", limits, 1_000, now=0.0) == pytest.approx(5.0)
    buckets.settle("k", limits, -1_000)  # and that one none: its tokens come back
    assert buckets.reserve("k", limits, 1_000, now=0.0) == pytest.approx(5.0)
    # a call larger than the burst still goes, after the bucket has room for it
    big = buckets.reserve("big", limits, 5_000, now=0.0)
    assert big == 0.0 and buckets.reserve("big", limits, 1, now=0.0) == pytest.approx(4.001)


def test_threads_sharing_a_local_limiter_never_get_the_same_slot() -> None:
    limiter = LocalLimiter(clock=lambda: 0.0)
    delays: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(25):
            delay = limiter.reserve("k", TEN_A_SECOND, 0)
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [0.0] * 10 + [round(0.1 * k, 6) for k in range(1, 191)]
    assert sorted(round(d, 6) for d in delays) == expected


def test_a_gate_sleeps_the_wait_and_settles_tokens() -> None:
    limits = RateLimitSettings(requests_per_minute=60, tokens_per_minute=6_000, burst_seconds=1)
    slept: list[float] = []
    gate = Gate("k", limits, LocalLimiter(clock=lambda: 0.0), sleep=slept.append)
    request = ModelRequest(
        model="m", system=[], messages=[], schema_name="s", output_schema={}, max_tokens=60
    )
    reserved = gate.wait(request)
    assert reserved == 60 and slept == []
    gate.settle(reserved, Usage(input_tokens=200, output_tokens=40))  # 240 used
    gate.wait(request)
    # tokens (240 used, then 60 more, at 100 a second, less a second's burst) outwait requests
    assert slept == [pytest.approx(2.0)]


def test_keys_name_the_provider_and_never_hold_the_secret() -> None:
    key = key_for("anthropic", "sk-ant-secret-value")
    assert key.startswith("anthropic:") and "secret" not in key
    assert key != key_for("anthropic", "sk-ant-other-value")


def test_bad_limits_are_one_error_naming_the_field(catalog: Catalog) -> None:
    with pytest.raises(DataError, match=r"rate_limit\.requests_per_minute"):
        load_settings(catalog.root, {"rate_limit": {"requests_per_minute": -5}}, "spec.yaml")
    assert not load_settings(catalog.root).rate_limit.active  # off by default


def test_a_batch_against_the_mock_keeps_to_the_configured_rate(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.agents.llm import ratelimit
    from emosim.batch import run_batch

    granted: list[float] = []

    class Recording(LocalLimiter):
        def reserve(self, key: str, limits: RateLimitSettings, tokens: int) -> float:
            delay = super().reserve(key, limits, tokens)
            granted.append(time.monotonic() + delay)
            return delay

    monkeypatch.setattr(ratelimit, "_current", Recording())
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic(record=False) as mock:
        spec = Path(backend_config(tmp_path / "mock.yaml", mock.url))
        config = json.loads(spec.read_text())
        # 20 calls a second, no burst beyond one call: calls start 50 ms apart at least
        config["settings"]["rate_limit"] = {"requests_per_minute": 1200, "burst_seconds": 0.05}
        spec.write_text(json.dumps(config))
        run = RunFolder.create(tmp_path, "limited")
        jobs = [Job(_scenario(catalog, exchanges=2), "h", seed) for seed in range(2)]
        began = time.monotonic()
        run_batch(catalog, run, jobs, backend=str(spec), concurrency=2)
        took = time.monotonic() - began
    lines = (run.path / "cassette.jsonl").read_text().splitlines()
    calls = sum(json.loads(line)["type"] == "call" for line in lines)
    assert calls >= 10 and len(granted) == calls  # every call asked the limiter first
    gaps = [b - a for a, b in zip(sorted(granted), sorted(granted)[1:], strict=False)]
    assert min(gaps) >= 0.05 - 1e-3
    assert took >= (calls - 1) * 0.05  # and waited for its slot
