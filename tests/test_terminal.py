"""Terminal output for people at 80 columns: ids and paths whole, readable help, bounded
`show`, and a Ctrl-C on a batch that says how to resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import click.testing
import pytest
import typer.main

from emosim import cli as cli_module
from emosim.cli import app


@pytest.fixture(scope="module")
def command() -> click.Command:
    return typer.main.get_command(app)


@pytest.fixture()
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(cli_module.console, "width", 80)


def invoke(command: click.Command, args: list[str]) -> click.testing.Result:
    return click.testing.CliRunner().invoke(command, args, prog_name="emosim")


def test_inspect_prints_ids_whole_at_80_columns(scripted_run, command, narrow) -> None:
    run, records = scripted_run
    conversation = records[0].id
    listing = invoke(command, ["inspect", str(run.path)])
    assert listing.exit_code == 0, listing.output
    assert conversation in listing.output and "…" not in listing.output
    history = invoke(command, ["inspect", str(run.path), conversation, "--json"])
    checkpoint = json.loads(history.output)[-1]["checkpoint"]
    result = invoke(command, ["inspect", str(run.path), conversation])
    assert result.exit_code == 0, result.output
    assert checkpoint in result.output and "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_backends_show_prints_models_whole_at_80_columns(command, narrow) -> None:
    result = invoke(command, ["backends", "show", "anthropic"])
    assert result.exit_code == 0, result.output
    models = {r["model"] for r in _roles(command)}
    assert models and all(m in result.output for m in models), result.output
    assert "…" not in result.output


def _roles(command: click.Command) -> list[dict]:
    result = invoke(command, ["backends", "show", "anthropic", "--json"])
    return json.loads(result.output)["roles"]


def test_dry_run_at_80_columns_keeps_models_and_counts_whole(
    command, narrow, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # the offline estimate
    scenario = root / "simulations" / "budget_discouragement_paycheck_gap.yaml"
    args = ["batch", str(scenario), "--seeds", "1-2", "--backend", "anthropic", "--dry-run"]
    result = invoke(command, args)
    assert result.exit_code == 0, result.output
    models = {r["model"] for r in _roles(command)}
    assert all(m in result.output for m in models), result.output
    assert "…" not in result.output and max(map(len, result.output.splitlines())) <= 80
    blocks = [line for line in result.output.splitlines() if line.startswith("  calls ")]
    assert len(blocks) == len(_roles(command))  # one block per role, not a folded table


def test_vary_prints_each_variation_id_whole_at_80_columns(
    command, narrow, root: Path, tmp_path: Path
) -> None:
    seed = root / "seeds" / "seed_retirement_anxiety_to_clarity.json"
    args = ["vary", str(seed), "--axis", "emotion", "--n", "2", "--out", str(tmp_path)]
    result = invoke(command, args)
    assert result.exit_code == 0, result.output
    ids = [p.stem for p in tmp_path.glob("*.yaml")]
    lines = result.output.splitlines()
    assert len(ids) == 2 and all(i in lines for i in ids), result.output  # a line each, whole
    assert "…" not in result.output


def test_label_history_prints_event_ids_whole_at_80_columns(
    tmp_path: Path, scripted_run, command, narrow
) -> None:
    run, records = scripted_run
    store = tmp_path / "labels.sqlite"
    made = invoke(command, ["labels", "import", str(run.records_path), "--store", str(store)])
    assert made.exit_code == 0, made.output
    conversation = records[0].id
    args = ["labels", "history", conversation, "--store", str(store)]
    as_json = json.loads(invoke(command, [*args, "--json"]).output)
    result = invoke(command, args)
    assert result.exit_code == 0, result.output
    ids = [e["event_id"] for e in as_json]
    assert ids and all(f"event id {i}" in result.output for i in ids), result.output
    assert "…" not in result.output


def test_help_at_80_columns_keeps_option_names_whole(command, narrow) -> None:
    result = invoke(command, ["review", "export", "--help"])
    assert result.exit_code == 0
    assert "--only-disagreements" in result.output and "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_show_limits_the_conversations_it_prints(tmp_path: Path, scripted_run, command) -> None:
    run, records = scripted_run
    line = run.records_path.read_text().splitlines()[0]
    doc = json.loads(line)
    lines = []
    for i in range(3):
        doc["id"] = f"{records[0].id}-copy{i}"
        doc["label_events"] = []  # they name the original id
        lines.append(json.dumps(doc))
    path = tmp_path / "three.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = invoke(command, ["show", str(path), "--limit", "2", "--labels", "none"])
    assert result.exit_code == 0, result.output
    assert "copy1" in result.output and "copy2" not in result.output
    assert "showed 2 of 3 conversations" in " ".join(result.output.split())


def test_ctrl_c_on_a_batch_says_how_to_resume(
    tmp_path: Path, root: Path, command, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("emosim.batch.run_batch", interrupted)
    scenario = root / "simulations" / "budget_discouragement_paycheck_gap.yaml"
    result = invoke(command, ["batch", str(scenario), "--runs-dir", str(tmp_path)])
    assert result.exit_code == 130
    (run_dir,) = tmp_path.iterdir()
    assert f"emosim batch --resume {run_dir}" in " ".join(result.output.split())


def _ctrl_c_heard() -> None:
    """A test run started in the background (`nohup make test &`, some CI runners) passes
    SIGINT on as ignored, and Python then keeps ignoring it, as a user's `nohup emosim ...`
    should; the child of a Ctrl-C test hears it like a terminal's foreground program."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _emosim_child(
    args: list[str], root: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`python -m emosim ARGS` in the project, output captured, hearing Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, "-m", "emosim", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_heard,
    )


def test_ctrl_c_on_a_running_batch_keeps_what_finished_and_resumes_exactly(
    tmp_path: Path, root: Path, catalog, command
) -> None:
    from emosim.batch import jobs_from

    scenario = root / "simulations" / "budget_discouragement_paycheck_gap.yaml"
    planned = {j.conversation_id for j in jobs_from(catalog, scenario, list(range(1, 13)))}
    runs = tmp_path / "runs"
    args = ["batch", str(scenario), "--seeds", "1-12", "--runs-dir", str(runs)]
    batch = _emosim_child([*args, "--concurrency", "1"], root)
    try:
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size for p in runs.glob("*/conversations.jsonl")):
            assert batch.poll() is None, batch.communicate()
            assert time.monotonic() < deadline, "no conversation finished in 120 s"
            time.sleep(0.01)
        batch.send_signal(signal.SIGINT)
        out, err = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
    (run,) = runs.iterdir()
    assert batch.returncode == 130, (out, err)
    flat = " ".join(err.split())
    assert "interrupted" in flat and f"emosim batch --resume {run}" in flat, err
    assert "Traceback" not in err
    kept = [
        json.loads(line)["id"] for line in (run / "conversations.jsonl").read_text().splitlines()
    ]
    assert kept and len(kept) < len(planned) and set(kept) <= planned  # every line whole
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    result = click.testing.CliRunner().invoke(command, ["batch", "--resume", str(run)])
    assert result.exit_code == 0, result.output
    ids = [
        json.loads(line)["id"] for line in (run / "conversations.jsonl").read_text().splitlines()
    ]
    assert len(ids) == len(set(ids)) and set(ids) == planned


def test_ctrl_c_stops_the_label_endpoint_without_a_traceback(
    tmp_path: Path, root: Path, scripted_run, command
) -> None:
    import os
    import socket

    run, _ = scripted_run
    store = tmp_path / "labels.sqlite"
    made = invoke(command, ["labels", "import", str(run.records_path), "--store", str(store)])
    assert made.exit_code == 0, made.output

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "EMOSIM_LABELS_TOKEN": "a-test-token"}
    args = ["labels", "serve", "--store", str(store), "--port", str(port)]
    server = _emosim_child(args, root, env)
    try:
        deadline = time.monotonic() + 120
        while True:  # serving once the port answers
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the endpoint did not start in 120 s"
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, (out, err)
    assert "Traceback" not in err and "Shutting down" in err, err


def test_export_takes_a_run_id_like_show(tmp_path: Path, scripted_run, command) -> None:
    run, records = scripted_run
    args = ["export", run.run_id, "--runs-dir", str(run.path.parent), "--format", "openai-chat"]
    result = invoke(command, [*args, "--out", str(tmp_path / "out"), "--labels", "none"])
    assert result.exit_code == 0, result.output
    rows = [
        json.loads(line)
        for split in ("train", "validation", "test")
        if (tmp_path / "out" / f"{split}.jsonl").exists()
        for line in (tmp_path / "out" / f"{split}.jsonl").read_text().splitlines()
    ]
    assert rows


def test_coverage_and_report_give_the_same_targets_and_near_duplicates(
    tmp_path: Path, scripted_run, catalog, command
) -> None:
    from emosim.coverage import default_targets_path, load_targets
    from emosim.reports.figures import build_figures

    run, records = scripted_run
    doc = json.loads(run.records_path.read_text().splitlines()[0])
    lines = [json.dumps(doc)]
    doc["id"] += "-again"  # the same conversation twice: one near-duplicate pair
    doc["label_events"] = []
    lines.append(json.dumps(doc))
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "coverage.json"
    result = invoke(command, ["coverage", str(path), "--json", str(out), "--labels", "none"])
    assert result.exit_code == 0, result.output
    cov = json.loads(out.read_text())
    from emosim.schemas import ConversationRecord

    twins = [ConversationRecord.model_validate_json(line) for line in lines]
    targets = load_targets(catalog, default_targets_path())
    figures = build_figures(twins, catalog, targets, inputs=[str(path)])
    assert figures.coverage.targets_total == len(cov["results"]) > figures.coverage.cells_total
    assert figures.coverage.targets_met == sum(r["met"] for r in cov["results"])
    ours = figures.diversity.conversations
    assert ours.near_duplicate_rate == cov["diversity"]["near_duplicate_rate"] == 0.5
    assert ours.near_duplicate_pairs == cov["diversity"]["near_duplicate_pairs"] == 1


def test_demo_prints_conversation_ids_whole_at_80_columns(command, narrow, tmp_path) -> None:
    result = invoke(command, ["demo", "--count", "1", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    records = next(tmp_path.glob("*/conversations.jsonl")).read_text().splitlines()
    conversation = json.loads(records[0])["id"]
    assert conversation in result.output  # the panel heading wraps whole, never cut
    table = result.output[result.output.index("Run summary") :]
    assert "…" not in table  # the summary folds the id instead of cutting it


def test_a_held_ctrl_c_is_raised_after_the_write_unless_sigint_is_ignored() -> None:
    import os

    from emosim.interrupts import held_interrupt

    before = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with pytest.raises(KeyboardInterrupt), held_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            written = True  # the block ends before the interrupt is raised
        assert written
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # `nohup emosim batch ... &`
        with held_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
