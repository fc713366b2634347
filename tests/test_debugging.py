"""Inspect, replay and fork a finished run; draw the graph. Every test runs on both run
stores: the run folder's SQLite file and PostgreSQL (skipped without a server)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from emosim.catalog import Catalog
from emosim.cli import app
from emosim.debugging import RunInspector, draw, fork, replay
from emosim.errors import EmosimError
from emosim.graphs.runner import load_job, run_jobs
from emosim.storage.runcopy import store_digest


@pytest.fixture(autouse=True)
def _on_each_store(runs_on) -> None:
    """Runs are made and read with the module's store setting (SQLite, then Postgres)."""


@pytest.fixture(scope="module")
def finished_run(
    tmp_path_factory: pytest.TempPathFactory, catalog: Catalog, root: Path, run_storage
):
    runs = tmp_path_factory.mktemp("runs")
    jobs = [
        load_job(catalog, root / "simulations" / name, seed)
        for name, seed in (
            ("investing_shame_first_steps.yaml", 3),
            ("student_loan_servicer_frustration.yaml", 5),
            ("divorce_overwhelm_credit_untangling.yaml", 2),
        )
    ]
    with pytest.MonkeyPatch.context() as env:
        if run_storage:
            env.setenv("EMOSIM_STORE", run_storage)
        run, records = run_jobs(catalog, jobs, runs, "scripted", "dbg", "pytest")
    assert run.storage().postgres == bool(run_storage)
    return runs, run, records


def test_replaying_every_conversation_reproduces_it(finished_run, catalog: Catalog) -> None:
    _, run, records = finished_run
    for record in records:
        result = replay(catalog, run, record.id)
        assert result.identical, result.differences[:3]
    # and from a checkpoint in the middle
    middle = replay(catalog, run, records[0].id, "9")
    assert middle.identical, middle.differences[:3]


def test_replay_does_not_touch_the_run(finished_run, catalog: Catalog) -> None:
    _, run, records = finished_run

    def state() -> tuple:
        with run.open_store(create=False) as store:
            digest = store_digest(store)
        return digest, run.records_path.read_bytes(), sorted(p.name for p in run.path.iterdir())

    before = state()
    assert before[0][2] == len(records) and before[0][3] > 10 * len(records)
    replay(catalog, run, records[1].id)
    assert state() == before


def test_history_and_state(finished_run, catalog: Catalog) -> None:
    _, run, records = finished_run
    inspector = RunInspector(catalog, run)
    history = inspector.history(records[0].id)
    assert history[0].node == "input" and history[-1].next == ()
    nodes = [c.node for c in history]
    assert nodes.count("update_arc") == len(records[0].advisor_turns)
    state = inspector.state_at(records[0].id, str(history[-1].step))
    assert len(state["turns"]) == len(records[0].turns)


def test_fork_changes_the_continuation_and_records_lineage(
    tmp_path: Path, catalog: Catalog, root: Path
) -> None:
    job = load_job(catalog, root / "simulations" / "investing_shame_first_steps.yaml", 3)
    run, (parent,) = run_jobs(catalog, [job], tmp_path, "scripted", "fork", "pytest")
    inspector = RunInspector(catalog, run)
    # the checkpoint where exchange 3 is about to start (the client is about to speak)
    cp = next(
        c for c in inspector.history(parent.id) if c.exchange == 3 and c.next == ("client_speaks",)
    )
    child = fork(
        catalog,
        run,
        parent.id,
        cp.checkpoint_id,
        {"hidden.emotion": "anger", "hidden.intensity": 0.9},
    )
    assert child.id != parent.id
    assert child.lineage.parent_id == parent.id and child.lineage.axis == "fork"
    assert child.lineage.fork_checkpoint == cp.checkpoint_id
    assert child.lineage.changed == {"hidden.emotion": "anger", "hidden.intensity": "0.9"}
    # the first two exchanges are the parent's; the third starts from the changed state
    assert [t.text for t in child.turns[:4]] == [t.text for t in parent.turns[:4]]
    assert child.turns[4].ground_truth.emotion == "anger"
    assert child.turns[4].text != parent.turns[4].text
    ids = [json.loads(line)["id"] for line in run.records_path.read_text().splitlines()]
    assert ids == [parent.id, child.id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect", "no-such-run"], "no such run"),
        (["inspect", "{run}", "no-such-conversation"], "no conversation 'no-such-conversation'"),
        (["inspect", "{run}", "{conv}", "--at", "9999"], "no checkpoint '9999'"),
        (["replay", "{run}", "{conv}", "--from", "abc"], "no checkpoint 'abc'"),
        (
            ["fork", "{run}", "{conv}", "--at", "6", "--set", "hidden.mood=sad"],
            "unknown state path 'hidden.mood'",
        ),
        (
            ["fork", "{run}", "{conv}", "--at", "6", "--set", "hidden.emotion=glee"],
            "unknown emotion id 'glee'",
        ),
        (
            ["fork", "{run}", "{conv}", "--at", "6", "--set", "turns.40.text=hi"],
            "turn 40 is not committed",
        ),
        (["fork", "{run}", "{conv}", "--at", "6", "--set", "nonsense"], "expected PATH=VALUE"),
    ],
)
def test_bad_references_give_one_clear_error(
    finished_run, cli, args: list[str], message: str
) -> None:
    runs, run, records = finished_run
    argv = [a.format(run=run.run_id, conv=records[0].id) for a in args] + ["--runs-dir", str(runs)]
    result = cli.invoke(app, argv)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_cli_inspect_and_replay(finished_run, cli) -> None:
    runs, run, records = finished_run
    out = cli.invoke(app, ["inspect", run.run_id, records[0].id, "--json", "--runs-dir", str(runs)])
    assert out.exit_code == 0
    steps = json.loads(out.output)
    assert steps[0]["node"] == "input"
    diff = cli.invoke(
        app,
        [
            "inspect",
            run.run_id,
            records[0].id,
            "--diff",
            "1",
            "2",
            "--json",
            "--runs-dir",
            str(runs),
        ],
    )
    assert any(d["path"] == "values.turn_count" for d in json.loads(diff.output))
    rep = cli.invoke(app, ["replay", run.run_id, records[0].id, "--runs-dir", str(runs)])
    assert rep.exit_code == 0 and "identical" in rep.output


def test_graph_drawing_is_committed_and_offline(root: Path) -> None:
    assert (root / "graphs" / "simulation.mmd").read_text() == draw("mermaid") + "\n"
    assert "client_speaks" in draw("ascii")
    with pytest.raises(EmosimError):
        draw("png")
    studio = json.loads((root / "langgraph.json").read_text())
    module, _, name = studio["graphs"]["simulation"].partition(":")  # what langgraph dev loads
    served = getattr(importlib.import_module(module), name).get_graph().nodes
    assert {"load_scenario", "client_speaks", "critic_reviews", "finalize"} <= set(served)
