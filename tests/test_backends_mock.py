"""Model backends end to end: whole conversations through the graph on a mock Messages API
(127.0.0.1), injected faults, replay from the cassette, and keeping the key out of every file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from emosim.agents.llm.direct_http import Route
from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.graphs.runner import Job, Simulator
from emosim.runs import RunFolder
from emosim.schemas import ConversationRecord, Scenario
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, backend_config

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-ant-test-NEVER-IN-ANY-FILE-0123456789"
FAILED_REASON = re.compile(r"^\w+: (client|advisor|critic|\w+_observer) turn \d+: ")


@pytest.fixture()
def mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockAnthropic]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as server:
        yield server


def _scenario(catalog: Catalog, exchanges: int = 2, **extra: object) -> Scenario:
    base = catalog.load_scenario(ROOT / "simulations" / "investing_shame_first_steps.yaml")
    data = base.model_dump(mode="json") | {
        "length_class": "short" if exchanges <= 3 else "medium",
        "exchanges": exchanges,
        **extra,
    }
    return Scenario.model_validate(data)


def _play(
    catalog: Catalog, runs: Path, backend: str, jobs: list[Job], label: str = "t"
) -> tuple[RunFolder, list[ConversationRecord], Simulator]:
    run = RunFolder.create(runs, label)
    records = []
    with Simulator(catalog, run, backend) as sim, run.events() as log:
        for job in jobs:
            record = sim.play(job, log)
            run.append_records([record.model_dump_json()])
            records.append(record)
    return run, records, sim


def _strip(obj: object) -> object:
    """What differs between a run and its replay: timestamps, run ids, backend names."""
    if isinstance(obj, dict):
        return {
            k: _strip(v) for k, v in obj.items() if k not in {"created_at", "run_id", "backends"}
        }
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _files_mention(folder: Path, secret: str) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_full_conversation_every_role_on_claude(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", mock.url)  # the SDK's own variable
    scenario = _scenario(catalog, exchanges=3, anti_pattern_rate=0.5)
    run, (record,), sim = _play(catalog, tmp_path, "anthropic", [Job(scenario, "h", 5)])

    assert record.outcome.status == "completed", record.outcome.failure_reason
    assert len(record.advisor_turns) == 3
    assert validate_paths([run.records_path], catalog).problems == []
    assert {r: b.backend for r, b in record.provenance.backends.items()} == {
        "client": "anthropic",
        "advisor": "anthropic",
        "emotion_observer": "anthropic",
        "strategy_observer": "anthropic",
        "sentence_observer": "anthropic",
        "critic": "anthropic",
        "arc_controller": "rules",
    }
    assert record.provenance.backends["advisor"].model == "claude-sonnet-5-5"
    assert record.provenance.backends["critic"].model == "claude-haiku-5-5"
    assert set(record.provenance.prompt_hashes) == set(record.provenance.backends) - {
        "arc_controller"
    }
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in record.provenance.prompt_hashes.values())
    assert record.client_turns[0].annotation.observer == "anthropic-emotion/claude-haiku-5-5"
    # a deliberate anti-pattern draft was rejected by the critic and kept as a negative
    rejected = [d for t in record.advisor_turns for d in t.rejected_drafts]
    assert rejected and all(d.anti_pattern and not d.verdict.accepted for d in rejected)

    cassette = [json.loads(line) for line in (run.path / "cassette.jsonl").read_text().splitlines()]
    calls = [c for c in cassette if c["type"] == "call"]
    assert len(calls) == mock.calls
    assert {c["conversation"] for c in calls} == {record.id}
    assert all(c["reply"]["usage"]["output_tokens"] > 0 and c["latency_ms"] > 0 for c in calls)

    scores = sim.agents_for(scenario).accounting.scores(record.id)
    assert scores["model_calls"] == mock.calls
    assert scores["tokens_in"] > scores["cache_read_tokens"] > 0.5 * scores["tokens_in"]
    assert 0 < scores["cost_usd"] < 1


def test_only_the_client_prompt_holds_the_hidden_state(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path
) -> None:
    spec = backend_config(tmp_path / "backends.yaml", mock.url)
    scenario = _scenario(catalog, exchanges=2)
    _play(catalog, tmp_path, spec, [Job(scenario, "h", 2)])
    persona = catalog.clients[scenario.client_persona]
    concern = persona.unspoken_concern.strip()
    by_role: dict[str, list[str]] = {}
    for body in mock.requests:  # the request bodies as the API received them
        title = body["output_config"]["format"]["schema"]["title"]
        by_role.setdefault(title, []).append(json.dumps(body, ensure_ascii=False))
    assert set(by_role) == {
        "ClientMessage",
        "EmotionReading",
        "AdvisorDraft",
        "CriticReview",
        "StrategyReading",
        "SentenceLabels",
    }
    for body in by_role["ClientMessage"]:
        assert json.dumps(concern)[1:-1] in body and "Your hidden state right now" in body
    for title, bodies in by_role.items():
        if title == "ClientMessage":
            continue
        for body in bodies:
            assert json.dumps(concern)[1:-1] not in body, title
            assert "hidden state" not in body.lower(), title
            assert persona.money_script not in body, title
            assert "unspoken" not in body.lower(), title


def test_faults_end_turns_cleanly_and_replay_reproduces_the_run(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    jobs = [Job(_scenario(catalog, exchanges=2, max_redrafts=1), "h", seed) for seed in range(5)]
    with MockAnthropic(fault_rate=0.1, seed=3, timeout_delay=0.6) as mock:
        # the first conversation's first call meets three overloads: more than its 2 retries
        mock.enqueue("529", "529", "529")
        spec = backend_config(tmp_path / "backends.yaml", mock.url, timeout=0.25, retries=2)
        run, records, _ = _play(catalog, tmp_path, spec, jobs, "faults")
        calls = mock.calls
        injected = list(mock.injected)

    assert {"529", "timeout"} <= set(injected) and len(injected) >= 6
    statuses = [r.outcome.status for r in records]
    assert set(statuses) <= {"completed", "failed"} and "completed" in statuses
    assert records[0].outcome.status == "failed"
    assert records[0].outcome.failure_reason.startswith(
        "client_speaks: client turn 0: model call failed, retries spent: 529"
    )
    for r in records:
        if r.outcome.status == "failed":
            assert FAILED_REASON.match(r.outcome.failure_reason), r.outcome.failure_reason
    assert validate_paths([run.records_path], catalog).problems == []
    lines = [json.loads(x) for x in (run.path / "cassette.jsonl").read_text().splitlines()]
    errors = [x["error"]["kind"] for x in lines if x["type"] == "call" and x["error"]]
    assert {"overloaded", "timeout"} <= set(errors)
    assert sum(x["type"] == "call" for x in lines) == calls

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", no_network)
    monkeypatch.setattr(Route, "post", no_network)
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # replay needs no key
    replay_run, replayed, _ = _play(catalog, tmp_path, f"replay:{run.path}", jobs, "replay")
    assert [_strip(r.model_dump(mode="json")) for r in replayed] == [
        _strip(r.model_dump(mode="json")) for r in records
    ]
    assert replayed[0].provenance.backends["client"].backend == "replay"
    assert replayed[0].provenance.backends["client"].model == "claude-sonnet-5-5"
    for folder in (run.path, replay_run.path):
        assert _files_mention(folder, KEY) == []


def test_replay_of_a_request_not_in_the_cassette_names_agent_turn_and_hash(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path
) -> None:
    spec = backend_config(tmp_path / "backends.yaml", mock.url)
    run, _, _ = _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
    with pytest.raises(EmosimError) as info:
        _play(catalog, tmp_path, f"replay:{run.path}", [Job(_scenario(catalog), "h", 2)])
    message = str(info.value)
    assert message.startswith("replay: no recorded answer for client turn 0 of conversation ")
    assert re.search(r"\(request [0-9a-f]{16}\)", message) and "cassette.jsonl" in message


def test_bad_key_stops_the_run_without_leaking_it(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic(api_key="the-right-key") as mock:  # answers 401 and echoes the key
        spec = backend_config(tmp_path / "backends.yaml", mock.url)
        with pytest.raises(EmosimError) as info:
            _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)], "auth")
        assert mock.calls == 0 and len(mock.requests) == 1  # no retry of a 401
    message = str(info.value)
    assert "client (claude-sonnet-5-5): 401" in message and "ANTHROPIC_API_KEY" in message
    assert KEY not in message and "[redacted]" in message
    assert _files_mention(tmp_path, KEY) == []


def test_unknown_model_is_a_bad_request_not_a_failed_turn(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path
) -> None:
    mock.enqueue("404")
    spec = backend_config(tmp_path / "backends.yaml", mock.url)
    with pytest.raises(EmosimError) as info:
        _play(catalog, tmp_path, spec, [Job(_scenario(catalog), "h", 1)])
    assert "404" in str(info.value) and "is the model id right?" in str(info.value)
    assert mock.calls == 1


def test_per_role_backends_mix_claude_and_scripted(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path
) -> None:
    spec = backend_config(
        tmp_path / "backends.yaml", mock.url, roles={"client": "anthropic", "*": "scripted"}
    )
    run, (record,), sim = _play(catalog, tmp_path, spec, [Job(_scenario(catalog, 3), "h", 4)])
    assert record.outcome.status == "completed"
    titles = {b["output_config"]["format"]["schema"]["title"] for b in mock.requests}
    assert titles == {"ClientMessage"}
    assert mock.calls == 3
    backends = record.provenance.backends
    assert backends["client"].backend == "anthropic" and backends["advisor"].backend == "scripted"
    assert set(record.provenance.prompt_hashes) == {"client", "advisor", "observers"}
    resolved = json.loads((run.path / "backends.json").read_text())
    assert resolved["roles"]["client"]["kind"] == "anthropic"
    assert resolved["roles"]["critic"] == {"kind": "scripted", "settings": None, "langchain": None}


def test_cli_run_usage_show_and_prompt(
    catalog: Catalog, mock: MockAnthropic, tmp_path: Path, cli: object
) -> None:
    from emosim.cli import app

    spec = backend_config(tmp_path / "backends.yaml", mock.url)
    scenario = ROOT / "simulations" / "investing_shame_first_steps.yaml"
    result = cli.invoke(
        app, ["run", str(scenario), "--backend", spec, "--runs-dir", str(tmp_path / "runs")]
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs").iterdir()

    result = cli.invoke(app, ["backends", "usage", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["conversations"] == 1 and report["total"]["calls"] == mock.calls
    assert {r["role"] for r in report["roles"]} == {
        "client",
        "advisor",
        "emotion_observer",
        "strategy_observer",
        "sentence_observer",
        "critic",
    }
    assert report["total"]["cache_read_share"] > 0.5 and report["total"]["cost_usd"] > 0
    assert cli.invoke(app, ["backends", "usage", str(run_dir)]).exit_code == 0

    result = cli.invoke(app, ["backends", "show", spec, "--json"])
    shown = json.loads(result.stdout)
    assert shown["spec"] == "anthropic" and shown["roles"][0]["timeout"] == 5.0
    result = cli.invoke(app, ["backends", "show", f"replay:{run_dir}", "--json"])
    assert {r["backend"] for r in json.loads(result.stdout)["roles"]} == {"replay"}
    result = cli.invoke(app, ["backends", "show", "clinet=anthropic"])
    assert result.exit_code == 1 and "unknown role 'clinet'" in result.output

    result = cli.invoke(app, ["backends", "prompt", "client", "--scenario", str(scenario)])
    persona = catalog.clients[catalog.load_scenario(scenario).client_persona]
    assert result.exit_code == 0 and persona.name in result.output and "tokens" in result.output


def test_a_model_advisor_gets_the_clients_figures_and_its_figures_are_traced(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scripted client states figures; the model advisor's prompt carries the fact
    observer's reading, the numbers block and the vetted facts; every sent reply is traced
    into the record; a replay from the cassette reproduces it with zero calls."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    scenario = _scenario(
        catalog,
        exchanges=3,
        anti_pattern_rate=0.0,
        situation="Marcus has about $9,400 sitting in checking and spends about $2,100 a "
        "month on rent, bills and groceries.",
    )
    jobs = [Job(scenario, "h", 3)]
    with MockAnthropic() as mock:
        spec = backend_config(
            tmp_path / "backends.yaml", mock.url, roles={"advisor": "anthropic", "*": "scripted"}
        )
        run, (record,), _ = _play(catalog, tmp_path, spec, jobs, "grounded")
        prompts = [
            json.dumps(body["messages"]) + json.dumps(body["system"]) for body in mock.requests
        ]
    assert record.outcome.status == "completed", record.outcome.failure_reason
    stated = [f for t in record.client_turns if t.facts for f in t.facts.facts]
    assert {("savings", 9400.0), ("cost", 2100.0)} <= {(f.kind, f.value) for f in stated}
    later = prompts[1:]  # the first reply comes before any calculation is possible
    assert any("$9,400" in p and "Calculations from the client" in p for p in later)
    assert all("Vetted facts you may state" in p for p in prompts)
    for turn in record.advisor_turns:
        assert turn.grounding is not None and turn.reading is not None
        assert {f.origin for f in turn.grounding.figures} <= {
            "client_fact",
            "calculation",
            "fact_base",
        }
    assert validate_paths([run.records_path], catalog).problems == []

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", no_network)
    monkeypatch.setattr(Route, "post", no_network)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    _, (replayed,), _ = _play(catalog, tmp_path, f"replay:{run.path}", jobs, "replay")
    assert _strip(replayed.model_dump(mode="json")) == _strip(record.model_dump(mode="json"))
