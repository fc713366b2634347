"""Coverage targets, the planner, measuring coverage, and diversity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from emosim.agents.arc import ArcController
from emosim.catalog import Catalog
from emosim.cli import app
from emosim.coverage import (
    Plan,
    Targets,
    count,
    coverage_report,
    load_targets,
    make_plan,
    occupancy,
    required,
)
from emosim.diversity import distinct_n, jaccard, near_duplicates, shingles
from emosim.errors import DataError
from emosim.graphs.runner import run_jobs
from emosim.schemas import ArcStep

REDUCED = """\
emotion_turns:
  emotions: [anxiety, hope, shame]
  levels: [low, medium, high]
  min: 3
strategy_turns:
  strategies: [education, affirmation, normalizing]
  min: 2
length_classes: {short: 2, medium: 1, long: 1}
anti_pattern_negatives:
  anti_patterns: [minimizing, toxic_positivity, jargon_dump]
  min: 1
# targets of 3 turns over ten conversations: one stalled arc is a third of a cell, so this
# small plan takes a wider margin than the default, and more negatives (one per type is
# asked for, and the writer picks among 13 types by what fits each moment: a negative is a
# draw, so at 0.3 a type planned 1.6 times is missed about one time in five: planned twice
# at 0.45 it is rarely missed)
planning: {margin: 2.0, anti_pattern_rate: 0.45}
"""


@pytest.fixture(scope="module")
def reduced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("targets") / "targets.yaml"
    path.write_text(REDUCED, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog, reduced: Path):
    """The reduced targets planned with the CLI and played on the scripted backend."""
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("plan") / "plan.yaml"
    result = CliRunner().invoke(app, ["plan", "--targets", str(reduced), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = Plan.load(out, catalog)
    runs = tmp_path_factory.mktemp("runs")
    run, records = run_jobs(catalog, plan.runner_jobs(str(out)), runs, "scripted", "plan", "t")
    return result.output, plan, run, records


def test_a_plan_meets_every_target_when_run(played, catalog: Catalog, reduced: Path) -> None:
    output, plan, _, records = played
    assert f"planned {len(plan.jobs)} conversations" in " ".join(output.split())
    targets = load_targets(catalog, reduced)
    report = coverage_report(catalog, targets, records, ["run"], str(reduced))
    assert report.met, [(r.kind, r.name, r.actual, r.target) for r in report.short]
    assert len(report.results) == 9 + 3 + 3 + 3
    # few conversations: the 27 emotion turns and the rest fit in a handful of conversations
    assert len(plan.jobs) <= 15
    assert len({j.scenario.id for j in plan.jobs}) == len(plan.jobs)
    assert plan.summary is not None and plan.summary.conversations == len(plan.jobs)


def test_coverage_command_prints_and_writes_json(
    played, cli, reduced: Path, tmp_path: Path
) -> None:
    _, _, run, records = played
    out = tmp_path / "coverage.json"
    result = cli.invoke(
        app, ["coverage", str(run.path), "--targets", str(reduced), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "all 18 target(s) met" in result.output
    assert "near-duplicates" in result.output
    report = json.loads(out.read_text())
    assert report["met"] is True
    assert report["counts"]["conversations"] == len(records)
    assert report["diversity"]["conversations"] == len(records)
    assert set(report["counting"]) == {
        "emotion_turns",
        "strategy_turns",
        "length_class",
        "anti_pattern_negatives",
    }


def test_coverage_reports_what_is_short(cli, scripted_run, tmp_path: Path) -> None:
    run, _ = scripted_run
    result = cli.invoke(app, ["coverage", str(run.records_path), "--no-diversity"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "target(s) short" in text
    assert "length_class 3 of 3" in text  # one medium conversation of the 30 wanted


def test_default_targets_are_the_briefs(catalog: Catalog, root: Path) -> None:
    targets = load_targets(catalog, root / "targets.yaml")
    needs = required(targets, catalog)
    assert needs[("emotion_turns", "anxiety/low")] == 50
    assert sum(1 for k in needs if k[0] == "emotion_turns") == 3 * len(catalog.emotions)
    assert needs[("strategy_turns", "referral_boundary")] == 20
    assert [needs[("length_class", c)] for c in ("short", "medium", "long")] == [50, 30, 10]
    assert {k[1] for k in needs if k[0] == "anti_pattern_negatives"} == set(catalog.anti_patterns)


def test_default_plan_expects_every_target_with_few_conversations(catalog: Catalog) -> None:
    plan = make_plan(catalog, Targets(), seed=0)
    assert plan.summary is not None
    needs = required(plan.targets, catalog)
    for (kind, name), minimum in needs.items():
        assert plan.summary.expected[f"{kind}:{name}"] >= minimum, (kind, name)
    # 69 cells x 50 turns need 3,450 client turns, times the planning margin (arcs that stall
    # or end early reach fewer steps): the plan stays within 10% of that
    assert plan.summary.client_turns <= 3450 * plan.targets.planning.margin * 1.1
    assert len(plan.jobs) < 600


def test_occupancy_follows_the_arc_controller(catalog: Catalog) -> None:
    for steps, exchanges in [(2, 3), (3, 5), (4, 7), (5, 10), (3, 10)]:
        occ = occupancy(steps, exchanges, 1.0, 0.0)
        assert sum(occ) == pytest.approx(exchanges)
        arc = [ArcStep(emotion="anxiety", intensity=0.1 * (i + 1)) for i in range(steps)]
        controller = ArcController(catalog, arc, exchanges)
        positions = [0] * steps
        progress = 0.0
        for _ in range(exchanges):
            state = controller.state_at(progress)
            positions[[round(s.intensity, 2) for s in arc].index(state.intensity)] += 1
            progress = min(steps - 1, progress + controller.step)
        assert list(occ) == positions
    stalled = occupancy(3, 5, 0.5, 0.0)
    assert stalled[0] > occupancy(3, 5, 1.0, 0.0)[0]


def test_count_reads_truth_observations_strategies_and_negatives(scripted_run) -> None:
    _, records = scripted_run
    counts = count(records)
    record = records[0]
    assert counts.client_turns == len(record.client_turns)
    assert sum(counts.emotion_truth.values()) == len(record.client_turns)
    first = record.client_turns[0].ground_truth
    assert counts.emotion_truth[f"{first.emotion}/{first.intensity_level}"] >= 1
    assert counts.length_classes == {"medium": 1}
    lead = record.advisor_turns[0].intended_strategies.primary
    assert counts.strategy_intended[lead] >= 1
    negatives = [d.anti_pattern for t in record.advisor_turns for d in t.rejected_drafts]
    assert sum(counts.anti_patterns.values()) == sum(1 for a in negatives if a)


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "emotion_turns:\n  emotions: [anxiety, glee]\n",
            "emotion_turns.emotions.1: unknown emotion id 'glee'",
        ),
        ("strategy_turns:\n  min: -3\n", ":2: strategy_turns.min: Input should be greater"),
        ("length_classes:\n  tiny: 4\n", "length_classes.tiny: Extra inputs are not permitted"),
        ("emotion_turns: [oops\n", "invalid YAML"),
        (
            "planning:\n  advance_rate: 0.9\n  regress_rate: 0.2\n",
            "advance_rate + regress_rate must not exceed 1",
        ),
    ],
)
def test_bad_targets_file_gives_one_clear_error(
    cli, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "plan.yaml"
    result = cli.invoke(app, ["plan", "--targets", str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert str(path) in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_coverage_rejects_missing_inputs(cli, tmp_path: Path) -> None:
    result = cli.invoke(app, ["coverage", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no such file, folder or run" in result.output


def test_plan_load_checks_scenarios_against_the_catalog(
    catalog: Catalog, reduced: Path, tmp_path: Path
) -> None:
    plan = make_plan(catalog, load_targets(catalog, reduced), seed=2)
    data = plan.model_dump(mode="json")
    data["jobs"][1]["scenario"]["client_persona"] = "nobody_here"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(DataError, match=r"jobs\.1\.scenario: client_persona: unknown persona"):
        Plan.load(path, catalog)


# --- diversity -------------------------------------------------------------------------------


def test_distinct_n_counts_unique_ngrams() -> None:
    assert distinct_n(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert distinct_n([], 2) == 0.0


def test_near_duplicates_finds_near_copies_only() -> None:
    base = " ".join(f"word{i}" for i in range(200))
    near = base.replace("word100", "changed")  # one word of 200: 3-gram Jaccard ~ 0.97
    far = " ".join(f"other{i}" for i in range(200))
    result = near_duplicates({"a": base, "b": near, "c": far, "d": base + " tail"})
    pairs = {(p.a, p.b) for p in result.pairs}
    assert pairs == {("a", "b"), ("a", "d"), ("b", "d")}
    assert result.redundant == 2 and result.involved == 3
    assert result.rate == pytest.approx(2 / 4)
    exact = jaccard(shingles(base), shingles(near))
    assert next(p.jaccard for p in result.pairs if (p.a, p.b) == ("a", "b")) == round(exact, 4)


def test_plans_are_deterministic_and_hash_like_the_batch(catalog: Catalog, reduced: Path) -> None:
    from emosim.batch import scenario_hash

    targets = load_targets(catalog, reduced)
    first, again = make_plan(catalog, targets, seed=4), make_plan(catalog, targets, seed=4)
    assert [j.model_dump() for j in first.jobs] == [j.model_dump() for j in again.jobs]
    assert [j.seed for j in first.jobs] == list(range(5, 5 + len(first.jobs)))
    job = first.jobs[0]
    assert job.scenario_hash() == scenario_hash(job.scenario)  # same conversation ids
