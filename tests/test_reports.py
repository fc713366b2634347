"""`emosim report`: the files it writes and figures that match a recount from the records."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emosim.catalog import Catalog, get_catalog
from emosim.cli import app
from emosim.diversity import (
    distinct_n,
    jaccard,
    near_duplicate_pairs,
    near_duplicate_rate,
    shingles,
)
from emosim.graphs.runner import load_job, run_jobs
from emosim.reports.models import ReportFigures
from emosim.reports.outcomes import movement
from emosim.reports.page import render_page
from emosim.schemas import ArcStep, ConversationRecord, EmotionalState

SCENARIOS = (
    "investing_shame_first_steps",
    "annuity_fees_anger_seminar_broker",
    "budget_discouragement_paycheck_gap",
)
SEED_FILE = "seeds/seed_retirement_anxiety_to_clarity.json"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.sources.append(dict(attrs)["src"] or "")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog, root: Path):
    """A scripted batch (3 shipped scenarios x 2 seeds) plus one seed, and its report."""
    tmp = tmp_path_factory.mktemp("report")
    jobs = [
        load_job(catalog, root / "simulations" / f"{name}.yaml", seed)
        for name in SCENARIOS
        for seed in (1, 2)
    ]
    run, records = run_jobs(catalog, jobs, tmp / "runs", "scripted", "report", "pytest")
    seed = ConversationRecord.model_validate_json((root / SEED_FILE).read_text(encoding="utf-8"))
    out = tmp / "out"
    result = CliRunner().invoke(
        app, ["report", str(run.path), str(root / SEED_FILE), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out, [*records, seed], result.output


def test_report_writes_html_json_and_every_plot(report) -> None:
    out, _, output = report
    figures = ReportFigures.model_validate_json((out / "figures.json").read_text())
    html = (out / "report.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(html)
    parser.close()
    assert parser.tags[0] == "html" and "script" not in parser.tags
    assert set(figures.plots) >= {
        "trajectories",
        "coverage",
        "strategies",
        "outcomes",
        "next_emotions",
        "rejections",
        "lengths",
        "diversity",
        "compliance",
        "observer_emotion",
        "observer_family",
    }
    # every plot is a PNG file on disk and shown on the page; every image resolves offline
    assert sorted(parser.sources) == sorted(figures.plots.values())
    for src in parser.sources:
        assert src.startswith("data:") or (out / src).is_file(), src
        assert not src.startswith(("http:", "https:", "//"))
    for rel in figures.plots.values():
        assert (out / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(
        Path(p).name for p in figures.plots.values()
    )
    assert "Quality report" in output and "observer emotion accuracy" in output


def test_figures_match_a_recount_from_the_records(report, catalog: Catalog) -> None:
    out, records, _ = report
    f = json.loads((out / "figures.json").read_text())
    advisor = [t for r in records for t in r.advisor_turns]
    assert f["conversations"] == len(records) == 7
    assert f["sources"] == {"simulated": 6, "hand_authored": 1}

    assert f["strategies"]["intended"] == dict(
        Counter(t.intended_strategies.primary for t in advisor if t.intended_strategies)
    )
    assert f["strategies"]["observed"] == dict(
        Counter(t.strategies.primary for t in advisor if t.strategies)
    )

    cells = Counter(
        (t.ground_truth.emotion, t.ground_truth.intensity_level)
        for r in records
        for t in r.client_turns
    )
    assert {
        (c["emotion"], c["level"]): c["count"] for c in f["coverage"]["cells"] if c["count"]
    } == dict(cells)
    assert all(c["target"] == 50 for c in f["coverage"]["cells"])
    assert len(f["coverage"]["cells"]) == 3 * len(catalog.emotions)

    reasons = Counter(
        finding.code for t in advisor for d in t.rejected_drafts for finding in d.verdict.findings
    )
    assert f["rejections"]["reasons"] == dict(reasons)
    assert f["rejections"]["rejected_drafts"] == sum(len(t.rejected_drafts) for t in advisor) > 0

    pairs = [
        (t.ground_truth, t.annotation)
        for r in records
        if r.provenance.source == "simulated"
        for t in r.client_turns
    ]
    obs = f["observer"]
    assert obs["n"] == len(pairs)
    assert obs["emotion"]["accuracy"] == pytest.approx(
        sum(g.emotion == a.primary for g, a in pairs) / len(pairs), abs=1e-4
    )
    assert obs["family"]["accuracy"] == pytest.approx(
        sum(g.family == a.family for g, a in pairs) / len(pairs), abs=1e-4
    )
    assert obs["level_accuracy"] == pytest.approx(
        sum(g.intensity_level == a.intensity_level for g, a in pairs) / len(pairs), abs=1e-4
    )
    assert obs["intensity_mae"] == pytest.approx(
        sum(abs(g.intensity - a.intensity) for g, a in pairs) / len(pairs), abs=1e-4
    )
    matrix = obs["emotion"]["confusion"]
    assert sum(map(sum, matrix)) == len(pairs)
    diagonal = sum(matrix[i][i] for i in range(len(matrix)))
    assert diagonal == sum(g.emotion == a.primary for g, a in pairs)

    assert f["lengths"]["exchanges"] == {
        str(k): v for k, v in sorted(Counter(len(r.advisor_turns) for r in records).items())
    }
    outcome_turns = sum(row["n"] for row in f["outcomes"]["rows"])
    assert outcome_turns == sum(len(r.advisor_turns) - 1 for r in records)
    assert f["cost"]["cost_usd"] == 0 and f["cost"]["unpriced_conversations"] == 0
    assert f["diversity"]["client"]["texts"] == sum(len(r.client_turns) for r in records)


def test_embedded_page_needs_no_other_file(report) -> None:
    out, _, _ = report
    figures = ReportFigures.model_validate_json((out / "figures.json").read_text())
    plots = {name: (out / rel).read_bytes() for name, rel in figures.plots.items()}
    parser = _Images()
    parser.feed(render_page(figures, [("x", "<b>y</b>")], plots, embed=True))
    assert len(parser.sources) == len(plots)
    assert all(src.startswith("data:image/png;base64,") for src in parser.sources)
    assert "<b>y</b>" not in render_page(figures, [("x", "<b>y</b>")], plots, embed=True)


def test_targets_file_sets_the_targets(report, tmp_path: Path, root: Path, cli) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        "emotion_turns: {emotions: [anger], levels: [high], min: 1}\nlength_classes: {short: 2}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("emotion_turns: {emotions: [angst]}\n", encoding="utf-8")
    result = cli.invoke(
        app, ["report", str(root / SEED_FILE), "--out", str(tmp_path / "o"), "--targets", str(bad)]
    )
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "'angst'" in result.output
    assert not (tmp_path / "o").exists()

    from emosim.reports.coverage import coverage, load_targets

    _, records, _ = report
    catalog = get_catalog(root)
    model, path = load_targets(targets, catalog)
    cov = coverage(records, catalog, model, path)
    cells = {(c.emotion, c.level): c for c in cov.cells}
    assert cells[("anger", "high")].target == 1 and cells[("anger", "medium")].target == 0
    assert cells[("anger", "high")].met == (cells[("anger", "high")].count >= 1)
    assert cov.length_targets == {"short": 2, "medium": 30, "long": 10}
    assert cov.targets_file == str(targets)


def test_bad_record_is_one_clear_error_and_nothing_written(
    tmp_path: Path, record_dict: dict, cli
) -> None:
    record_dict["turns"][0]["ground_truth"]["intensity"] = 7
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record_dict) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["report", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output and "turns.0.ground_truth.intensity" in result.output
    assert not (tmp_path / "o").exists()
    missing = cli.invoke(
        app, ["report", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]
    )
    assert missing.exit_code == 1 and "nope.jsonl" in missing.output
    clash = cli.invoke(app, ["report", str(path), "--out", str(path)])
    assert clash.exit_code == 1 and "not a folder" in clash.output


def _state(emotion: str, intensity: float, catalog: Catalog) -> EmotionalState:
    from emosim.agents.arc import ArcController

    return ArcController(
        catalog, [ArcStep(emotion=emotion, intensity=intensity)] * 2, 2
    ).make_state(emotion, intensity)


def test_movement_rule(catalog: Catalog) -> None:
    valence = {e.id: e.valence for e in catalog.emotions_file.emotions}
    arc = [
        ArcStep(emotion="anger", intensity=0.85),
        ArcStep(emotion="anger", intensity=0.55),
        ArcStep(emotion="calm", intensity=0.4),
    ]

    def move(a: tuple[str, float], b: tuple[str, float]) -> str:
        return movement(_state(*a, catalog), _state(*b, catalog), arc, valence)

    assert move(("anger", 0.86), ("anger", 0.56)) == "advanced"  # next arc step
    assert move(("anger", 0.56), ("anger", 0.71)) == "regressed"  # back towards step 0
    assert move(("anger", 0.56), ("calm", 0.42)) == "advanced"
    assert move(("calm", 0.40), ("calm", 0.43)) == "stalled"
    assert move(("calm", 0.40), ("calm", 0.55)) == "regressed"  # away from the step's 0.4
    assert move(("calm", 0.40), ("worry", 0.50)) == "regressed"  # off the arc, lower valence
    assert move(("worry", 0.70), ("worry", 0.50)) == "advanced"  # off the arc, calmer


def test_distinct_n_and_near_duplicates() -> None:
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n([], 2) == 0.0
    texts = [
        "Let's take this one step at a time, and start with what you spend.",
        "Let's take this one step at a time and start with what you spend!",
        "Where you are today is a starting point, not a verdict.",
    ]
    assert near_duplicate_pairs(texts) == [(0, 1, 1.0)]
    assert near_duplicate_rate(texts) == pytest.approx(2 / 3)

    rng = random.Random(5)
    vocab = ["we", "you", "plan", "save", "debt", "fund", "time", "step"]
    docs = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 9))) for _ in range(40)]
    docs += [d + " plan" for d in docs[:10]]
    for n, threshold in ((1, 0.5), (2, 0.8), (3, 0.8)):
        sets = [shingles(d, n) for d in docs]
        brute = [
            (i, j)
            for i, j in itertools.combinations(range(len(docs)), 2)
            if jaccard(sets[i], sets[j]) >= threshold
        ]
        assert [(i, j) for i, j, _ in near_duplicate_pairs(docs, threshold, n)] == brute


def test_cost_sums_reported_usage_and_flags_unpriced_paid_runs(report) -> None:
    from emosim.reports.figures import cost
    from emosim.schemas import BackendInfo

    _, records, _ = report
    priced, unpriced, free = (r.model_copy(deep=True) for r in records[:3])
    for r in (priced, unpriced):
        r.provenance.backends["advisor"] = BackendInfo(backend="anthropic", model="claude-x")
    priced.quality.scores.update(
        tokens_in=1200, tokens_out=300, cache_read_tokens=800, cost_usd=0.0125
    )
    unpriced.quality.scores.update(tokens_in=100)
    result = cost([priced, unpriced, free])
    assert result.cost_usd == pytest.approx(0.0125)
    assert result.unpriced_conversations == 1
    assert result.tokens == {"cache_read_tokens": 800, "tokens_in": 1300, "tokens_out": 300}
    paid = [row for row in result.rows if not row.free]
    assert [(row.role, row.backend, row.conversations) for row in paid] == [
        ("advisor", "anthropic", 2)
    ]
