"""Candidate replies for preference ranking: made from the turn's checkpoint, the original
among them, distinct in approach, deterministic, stored and replayable (scripted and the
Anthropic path through the mock Messages API)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from emosim.agents.llm.direct_http import Route
from emosim.catalog import Catalog
from emosim.cli import app
from emosim.errors import DataError
from emosim.graphs.runner import Job, run_jobs
from emosim.preferences.candidates import CandidateMaker, Target, generate
from emosim.preferences.distinct import distinct_primary_share, summarize
from emosim.preferences.store import candidates_path, load_candidate_sets, load_run_candidates
from emosim.runs import RunFolder
from emosim.schemas import AdvisorTurn, Scenario
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, backend_config

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-ant-test-NEVER-IN-ANY-FILE-0123456789"


def _scenario(catalog: Catalog, name: str, exchanges: int) -> Scenario:
    base = catalog.load_scenario(ROOT / "simulations" / name)
    data = base.model_dump(mode="json") | {
        "length_class": "short" if exchanges <= 3 else "medium",
        "exchanges": exchanges,
    }
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> RunFolder:
    """Two scripted conversations of four exchanges (three replies each before the goodbye)."""
    jobs = [
        Job(_scenario(catalog, "investing_shame_first_steps.yaml", 4), "h1", 3),
        Job(_scenario(catalog, "divorce_overwhelm_credit_untangling.yaml", 4), "h2", 5),
    ]
    folder, records = run_jobs(
        catalog, jobs, tmp_path_factory.mktemp("runs"), "scripted", "cand", "pytest"
    )
    assert all(r.outcome.status == "completed" for r in records)
    return folder


@pytest.fixture(scope="module")
def made(run: RunFolder, catalog: Catalog):  # noqa: ANN201
    return generate(catalog, run, n=4, seed=0)


def test_each_candidate_is_made_from_the_turns_checkpoint(run: RunFolder, catalog: Catalog) -> None:
    """Played from the checkpoint with the original's own seed and plan, the draft loop gives
    back the sent turn exactly: the state it starts from is the original turn's."""
    checked = 0
    with CandidateMaker(catalog, run) as maker:
        for conversation in maker.inspector.jobs:
            for target in maker.targets(conversation, None):
                if not isinstance(target, Target):
                    continue
                turn, failure, _ = maker.draft_at(
                    target,
                    lead=None,
                    seed=target.job.seed,
                    spec="scripted",
                    anti_pattern_rate=target.job.scenario.anti_pattern_rate,
                )
                assert failure is None
                assert turn.model_dump() == target.turn.model_dump()
                assert target.checkpoint.turn_count == target.turn.index
                checked += 1
    assert checked == 6


def test_sets_hold_the_conversation_so_far_the_original_and_distinct_plans(
    run: RunFolder, catalog: Catalog, made
) -> None:
    records = {r.id: r for r in map(_record, run.records_path.read_text().splitlines())}
    assert len(made.sets) == 6 and made.generated == 18
    # the goodbye turn has one approach: it is skipped, with the reason
    assert {s.turn_index for s in made.skipped} == {7}
    assert all("signs off" in s.reason for s in made.skipped)
    for s in made.sets:
        record = records[s.conversation_id]
        assert [(t.speaker, t.text) for t in s.context] == [
            (t.speaker, t.text) for t in record.turns[: s.turn_index]
        ]
        original = record.turns[s.turn_index]
        assert isinstance(original, AdvisorTurn)
        assert len(s.candidates) == 4 and s.candidates[0].is_original
        assert s.original.text == original.text
        assert s.original.planned == original.intended_strategies
        others = [c for c in s.candidates if not c.is_original]
        leads = [c.origin.lead_strategy for c in others]
        assert len(set(leads)) == 3 and original.intended_strategies.primary not in leads
        emotion = catalog.emotions[s.client_state.primary]
        assert not set(leads) & set(emotion.harmful_strategies)
        assert len({c.text for c in s.candidates}) == 4
        for c in others:  # critic-reviewed and observer-labelled like a sent reply
            assert c.critic is not None and c.observed is not None and c.sentences
            assert c.emotion_fit is not None and c.emotion_fit.emotion == emotion.id
            assert c.origin.checkpoint_id == s.checkpoint_id
    share = distinct_primary_share(made.sets)
    assert share.pairs == 6 * 6 and share.share >= 0.75
    assert summarize(made.sets).candidates == 24


def test_same_seed_same_candidates_other_seed_other_words(
    run: RunFolder, catalog: Catalog, made
) -> None:
    conversation = made.sets[0].conversation_id
    first = [s for s in made.sets if s.conversation_id == conversation and s.turn_index == 1]
    again = generate(catalog, run, [conversation], n=4, turns=[1], seed=0)
    assert [s.model_dump() for s in again.sets] == [s.model_dump() for s in first]
    other = generate(catalog, run, [conversation], n=4, turns=[1], seed=1)
    texts = {c.text for c in other.sets[0].candidates if not c.is_original}
    assert texts != {c.text for c in first[0].candidates if not c.is_original}


def test_cli_stores_idempotently_replays_and_reports_the_share(
    run: RunFolder, cli, tmp_path: Path
) -> None:
    result = cli.invoke(app, ["candidates", str(run.path), "--n", "3", "--turns", "1,3"])
    assert result.exit_code == 0, result.output
    assert "pairs with different primary strategies" in result.output
    assert "target >= 75%" in result.output
    path = candidates_path(run)
    stored = load_run_candidates(run)
    assert len(stored) == 4 and {s.turn_index for s in stored} == {1, 3}
    text = path.read_text()
    result = cli.invoke(app, ["candidates", str(run.path), "--n", "3", "--turns", "1,3"])
    assert result.exit_code == 0 and path.read_text() == text  # same seed: same file
    result = cli.invoke(app, ["candidates", str(run.path), "--replay"])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output and "4 candidate set(s)" in result.output
    result = cli.invoke(app, ["validate", str(run.path)])  # records and candidates
    assert result.exit_code == 0 and "ok: 6 " in result.output, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope-run"], "no such run"),
        (["RUN", "nobody-s1-0"], "no conversation 'nobody-s1-0'"),
        (["RUN", "--turns", "2"], "is a client turn"),
        (["RUN", "CONV", "--turns", "41"], "turn 41 is not one of them"),
        (["RUN", "--turns", "41"], "no candidate set was made (turn 41: the conversation is"),
        (["RUN", "--turns", "one"], "--turns: expected 'all'"),
        (["RUN", "--n", "1"], "--n: a set needs the original"),
    ],
)
def test_bad_input_is_one_clear_error(
    run: RunFolder, cli, args: list[str], message: str, tmp_path: Path
) -> None:
    first = json.loads((run.path / "manifest.json").read_text())["jobs"][0]["conversation_id"]
    args = [{"RUN": str(run.path), "CONV": first}.get(a, a) for a in args]
    result = cli.invoke(app, ["candidates", *args, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output


def test_a_run_another_command_writes_is_refused(run: RunFolder, cli) -> None:
    with run.lock("emosim batch --resume"):
        result = cli.invoke(app, ["candidates", str(run.path), "--turns", "1"])
    assert result.exit_code == 1 and "run is locked" in result.output
    assert "emosim batch --resume" in result.output


def test_a_bad_stored_line_names_file_line_and_field(
    made, tmp_path: Path, catalog: Catalog
) -> None:
    good = made.sets[0].model_dump(mode="json")
    bad = json.loads(json.dumps(good))
    bad["candidates"][0]["turn_index"] = 2
    path = tmp_path / "candidates.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError) as info:
        load_candidate_sets(path)
    assert str(info.value).startswith(f"{path}:2: candidates.0: ")
    assert "client turn" in str(info.value)
    unknown = json.loads(json.dumps(good))
    unknown["candidates"][1]["origin"]["lead_strategy"] = "mind_reading"
    path.write_text(json.dumps(unknown) + "\n")
    (problem,) = validate_paths([path], catalog).problems
    assert "unknown strategy id 'mind_reading'" in problem and str(path) in problem


def test_anthropic_candidates_through_the_mock_replay_with_zero_calls(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    job = Job(_scenario(catalog, "investing_shame_first_steps.yaml", 2), "h", 7)
    with MockAnthropic() as mock:
        spec = backend_config(tmp_path / "backends.yaml", mock.url)
        folder, (record,) = run_jobs(catalog, [job], tmp_path / "runs", spec, "claude", "pytest")
        assert record.outcome.status == "completed", record.outcome.failure_reason
        before = mock.calls
        made = generate(catalog, folder, n=3, turns=[1], seed=0)
        calls = mock.calls - before
    assert calls > 0 and len(made.sets) == 1
    (one,) = made.sets
    assert len(one.candidates) == 3 and one.original.text == record.turns[1].text
    assert {c.origin.model for c in one.candidates} == {"claude-sonnet-5-5"}
    # the model was told which strategy to lead with (the mock, like Claude, follows it)
    others = [c for c in one.candidates if not c.is_original]
    assert all(c.primary == c.origin.lead_strategy for c in others)
    assert len({c.primary for c in others}) == 2
    assert all(c.critic and c.critic.critic.startswith("anthropic") for c in one.candidates)
    cassettes = list((folder.path / "candidates" / "models").glob("*/cassette.jsonl"))
    assert len(cassettes) == 1
    recorded = [json.loads(x) for x in cassettes[0].read_text().splitlines()]
    assert sum(x["type"] == "call" for x in recorded) == calls
    assert KEY not in cassettes[0].read_text()

    from emosim.preferences.store import save_candidate_sets

    save_candidate_sets(folder, made.sets)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", no_network)
    monkeypatch.setattr(Route, "post", no_network)  # the Anthropic transport's own connections
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # a replay needs no key
    result = cli.invoke(app, ["candidates", str(folder.path), "--replay"])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output
    assert (
        sum(x["type"] == "call" for x in map(json.loads, cassettes[0].read_text().splitlines()))
        == calls
    )


def test_alternatives_take_turns_on_the_backends_given_judged_by_the_runs_critic(
    catalog: Catalog, run: RunFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--backend repeated: the alternatives' advisor alternates between the specs, while the
    critic and the observers stay the run's own (scripted), so a set is judged alike."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    conversation = next(iter(json.loads((run.path / "manifest.json").read_text())["jobs"]))
    with MockAnthropic() as mock:
        spec = backend_config(tmp_path / "backends.yaml", mock.url)
        made = generate(
            catalog,
            run,
            [conversation["conversation_id"]],
            n=3,
            turns=[3],
            seed=0,
            backends=[spec, "scripted"],
        )
        assert mock.calls > 0
    others = [c for c in made.sets[0].candidates if not c.is_original]
    assert [c.origin.backend for c in others] == [spec, "scripted"]
    assert others[0].origin.model == "claude-sonnet-5-5"
    assert others[1].origin.model.startswith("scripted")
    assert all(c.critic.critic == made.sets[0].original.critic.critic for c in others)


def _record(line: str):  # noqa: ANN202
    from emosim.schemas import ConversationRecord

    return ConversationRecord.model_validate_json(line)
