"""Faults on the wire, end to end through the SDK and the graph: dropped connections, stops the
API can answer with (max_tokens, refusal), and what the strict mock rejects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import pytest

from emosim.agents.llm.direct_http import Route
from emosim.batch import run_batch
from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.graphs.runner import Job
from emosim.runs import RunFolder
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, backend_config
from .test_backends_mock import KEY, _play, _scenario, _strip

REASON = re.compile(r"^\w+: (client|advisor|critic|\w+_observer) turn \d+: ")


def _calls(run: RunFolder) -> list[dict]:
    lines = [json.loads(x) for x in (run.path / "cassette.jsonl").read_text().splitlines()]
    return [x for x in lines if x["type"] == "call"]


def test_a_batch_survives_dropped_connections_and_replays_with_zero_calls(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10% of connections drop mid-response: every conversation of a 20-conversation batch
    ends completed or failed with its reason, none aborts the batch, and a replay from the
    cassette reproduces every record without a call."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    scenario = _scenario(catalog, exchanges=2, max_redrafts=1)
    jobs = [Job(scenario, "h", seed) for seed in range(20)]
    with MockAnthropic(drop_rate=0.1, drop_seed=11) as mock:
        spec = backend_config(tmp_path / "backends.yaml", mock.url, retries=2)
        run = RunFolder.create(tmp_path, "drops")
        result = run_batch(catalog, run, jobs, backend=spec, concurrency=4)
        calls, dropped = mock.calls, mock.dropped
    assert result.completed == 20 and dropped >= 10  # about 10% of some 250 calls
    records = {r["id"]: r for r in map(json.loads, run.records_path.read_text().splitlines())}
    assert len(records) == 20
    for record in records.values():
        outcome = record["outcome"]
        assert outcome["status"] in {"completed", "failed"}
        if outcome["status"] == "failed":
            assert REASON.match(outcome["failure_reason"]), outcome["failure_reason"]
    assert sum(r["outcome"]["status"] == "completed" for r in records.values()) >= 15
    assert validate_paths([run.records_path], catalog).problems == []
    cassette = _calls(run)
    assert len(cassette) == calls
    connection = [c for c in cassette if c["error"] and c["error"]["kind"] == "connection"]
    assert len(connection) == dropped
    assert all("IncompleteRead" in c["error"]["message"] for c in connection)  # cut mid-answer

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", no_network)
    monkeypatch.setattr(Route, "post", no_network)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    again = RunFolder.create(tmp_path, "replay")
    run_batch(catalog, again, jobs, backend=f"replay:{run.path}", concurrency=4)
    replayed = {r["id"]: r for r in map(json.loads, again.records_path.read_text().splitlines())}
    assert {k: _strip(v) for k, v in replayed.items()} == {k: _strip(v) for k, v in records.items()}
    assert all(c["replayed"] for c in _calls(again))


def test_max_tokens_stop_is_retried_once_with_the_larger_budget(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        mock.enqueue("max_tokens")
        spec = backend_config(tmp_path / "b.yaml", mock.url)
        run, (record,), _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
        first, second = mock.requests[:2]
    assert record.outcome.status == "completed", record.outcome.failure_reason
    assert (first["max_tokens"], second["max_tokens"]) == (1024, 4096)  # client: max_tokens_retry
    assert first["messages"] == second["messages"]
    stops = [c["reply"]["stop_reason"] for c in _calls(run)[:2]]
    assert stops == ["max_tokens", "end_turn"]


def test_a_refusal_ends_the_conversation_as_refused_without_a_repair(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        mock.enqueue("refusal")
        spec = backend_config(tmp_path / "b.yaml", mock.url)
        run, (record,), _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
        calls = mock.calls
    assert record.outcome.status == "failed" and calls == 1
    assert record.outcome.failure_reason == (
        "client_speaks: client turn 0: refused by the model: general_harms; "
        "This request was declined by the mock."
    )
    (call,) = _calls(run)
    assert call["reply"]["stop_reason"] == "refusal"
    assert call["reply"]["stop_details"]["category"] == "general_harms"


def test_thinking_follows_the_role_settings_and_counts_toward_max_tokens(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        spec = backend_config(tmp_path / "b.yaml", mock.url)
        run, (record,), _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 2)])
        bodies = list(mock.requests)
    assert record.outcome.status == "completed"
    by_title: dict[str, dict] = {}
    for body in bodies:
        by_title.setdefault(body["output_config"]["format"]["schema"]["title"], body)
    assert by_title["AdvisorDraft"]["thinking"] == {"type": "adaptive"}
    assert by_title["AdvisorDraft"]["output_config"]["effort"] == "medium"
    assert by_title["AdvisorDraft"]["max_tokens"] == 8192
    assert by_title["CriticReview"]["thinking"] == {"type": "adaptive"}
    for title in ("ClientMessage", "EmotionReading", "StrategyReading", "SentenceLabels"):
        assert by_title[title]["thinking"] == {"type": "disabled"}, title
    advisor = next(c for c in _calls(run) if c["role"] == "advisor")
    assert advisor["reply"]["usage"]["output_tokens"] > 160  # thinking tokens are billed


def test_the_strict_mock_rejects_what_the_api_rejects(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        spec = backend_config(
            tmp_path / "b.yaml",
            mock.url,
            roles={"client": "anthropic:claude-sonnet-9", "*": "scripted"},
        )
        with (
            pytest.warns(UserWarning, match="no price for model 'claude-sonnet-9'"),
            pytest.raises(EmosimError) as info,
        ):
            _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
        assert "404 model: claude-sonnet-9" in str(info.value)
        assert mock.rejected == ["model: claude-sonnet-9"] and mock.calls == 0

        import anthropic

        client = anthropic.Anthropic(api_key=KEY, base_url=mock.url, max_retries=0)
        many = [
            {"type": "text", "text": f"b{i}", "cache_control": {"type": "ephemeral"}}
            for i in range(5)
        ]
        with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks"):
            client.messages.create(
                model="claude-haiku-5-5",
                max_tokens=64,
                system=many,
                messages=[{"role": "user", "content": "hi"}],
            )
        with pytest.raises(anthropic.BadRequestError, match="temperature"):
            client.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=64,
                extra_body={"temperature": 0.2},  # the SDK no longer takes it
                messages=[{"role": "user", "content": "hi"}],
            )
        with pytest.raises(anthropic.BadRequestError, match="always thinks"):
            client.messages.create(
                model="claude-fable-5-2",
                max_tokens=64,
                thinking={"type": "disabled"},
                messages=[{"role": "user", "content": "hi"}],
            )


def test_connection_drops_before_a_response_and_409s_are_retried(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        mock.enqueue("drop_before", "409", "drop")
        spec = backend_config(tmp_path / "b.yaml", mock.url, retries=3)
        run, (record,), _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
    assert record.outcome.status == "completed", record.outcome.failure_reason
    kinds = [c["error"]["kind"] if c["error"] else None for c in _calls(run)[:4]]
    assert kinds == ["connection", "conflict", "connection", None]


def test_x_should_retry_false_ends_the_conversation_at_once(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        mock.enqueue("should_retry_false")
        spec = backend_config(tmp_path / "b.yaml", mock.url, retries=3)
        _, (record,), _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
        assert mock.calls == 1
    assert record.outcome.status == "failed"
    assert "not retried (x-should-retry: false): 500" in record.outcome.failure_reason


def test_a_persistent_outage_fails_each_conversation_with_its_reason_not_the_batch(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    spec = backend_config(tmp_path / "b.yaml", url, retries=1)
    jobs = [Job(_scenario(catalog), "h", seed) for seed in range(3)]
    run = RunFolder.create(tmp_path, "outage")
    result = run_batch(catalog, run, jobs, backend=spec, concurrency=2)
    assert (result.completed, result.failed) == (3, 3)
    for record in map(json.loads, run.records_path.read_text().splitlines()):
        reason = record["outcome"]["failure_reason"]
        assert reason.startswith("client_speaks: client turn 0: model call failed, retries spent: ")
        assert "connection to the Messages API" in reason and "Connection refused" in reason
    errors = [c["error"]["kind"] for c in _calls(run)]
    assert errors == ["connection"] * 6  # each conversation: a call and its one retry


def test_a_resumed_run_counts_the_calls_made_before_the_interruption(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.agents.backends import build_agents

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        spec = backend_config(tmp_path / "b.yaml", mock.url)
        scenario = _scenario(catalog)
        run, (record,), _ = _play(catalog, tmp_path, spec, [Job(scenario, "h", 1)])
        # a new process on the same run (a resume) starts from what the cassette holds
        agents = build_agents(catalog, spec, anti_pattern_rate=scenario.anti_pattern_rate, run=run)
    scores = agents.accounting.scores(record.id)
    for name in ("model_calls", "tokens_in", "tokens_out", "cache_read_tokens", "cost_usd"):
        assert scores[name] == pytest.approx(record.quality.scores[name]), name
