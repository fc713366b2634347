"""`emosim eval`: the critic evaluation, the strategy observer on ESConv, the emotion observer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emosim.catalog import Catalog
from emosim.cli import app
from emosim.evals.critic import Case, score
from emosim.evals.esconv import LABELS
from emosim.schemas import CriticScores, CriticVerdict

ESCONV = Path(__file__).resolve().parents[1] / "data" / "esconv_sample" / "train_sample.json"


@pytest.fixture(scope="module")
def critic_json() -> dict:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["eval", "critic", "--json", "--n", "8", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_critic_evaluation_reports_recall_and_false_rejects_per_category(
    critic_json: dict, catalog: Catalog
) -> None:
    rows = {r["category"]: r for r in critic_json["categories"]}
    expected_bad = {f"taxonomy/{a}" for a in catalog.anti_patterns} | {
        "mutation/added_judgment",
        "mutation/guarantee_of_returns",
        "mutation/specific_security",
        "mutation/unexplained_jargon",
        "mutation/dismissal",
        "seed/rejected_drafts",
    }
    expected_good = {"batch/accepted", "seed/accepted", "taxonomy/strategy_examples"}
    assert expected_bad | expected_good <= set(rows)
    for name, row in rows.items():
        assert {"recall", "false_reject_rate", "n", "rejected"} <= set(row)
        assert row["n"] > 0
        if row["kind"] == "bad":
            assert row["recall"] == pytest.approx(row["rejected"] / row["n"], abs=1e-4), name
            assert row["false_reject_rate"] is None
        else:
            assert row["false_reject_rate"] == pytest.approx(row["rejected"] / row["n"], abs=1e-4)
            assert row["recall"] is None
    assert {rows[c]["kind"] for c in expected_bad} == {"bad"}
    assert {rows[c]["kind"] for c in expected_good} == {"good"}
    for kind in ("added_judgment", "dismissal", "specific_security"):
        assert rows[f"mutation/{kind}"]["n"] == 8
    # replies the critic accepted when they were made are accepted again (it is deterministic)
    assert rows["batch/accepted"]["false_reject_rate"] == 0.0
    assert rows["seed/accepted"]["false_reject_rate"] == 0.0
    bad = [r for r in rows.values() if r["kind"] == "bad"]
    overall = critic_json["overall"]
    assert overall["recall"] == pytest.approx(
        sum(r["rejected"] for r in bad) / sum(r["n"] for r in bad), abs=1e-4
    )
    assert overall["meets_target"] == (
        overall["recall"] >= 0.95 and overall["false_reject_rate"] <= 0.05
    )
    # a miss is a bad draft the critic accepted: no major or blocker finding
    for row in bad:
        assert len(row["misses"]) == min(row["n"] - row["rejected"], 20)


def test_mutations_insert_one_sentence_into_an_accepted_reply(catalog: Catalog) -> None:
    import random

    from emosim.evals.critic import (
        MUTATIONS_FILE,
        CriticMutations,
        accepted_replies,
        mutation_cases,
        seed_records,
    )
    from emosim.files import load_yaml_model

    mutations = load_yaml_model(MUTATIONS_FILE, CriticMutations)
    bases = accepted_replies(seed_records(catalog))[:3]
    cases = mutation_cases(catalog, mutations, bases, random.Random(1))
    assert len(cases) == 3 * len(mutations.mutations)
    for case in cases:
        kind = mutations.mutations[case.category.split("/")[1]]
        base = next(b for b in bases if b.source == case.source)
        assert len(case.text) > len(base.turn.text)
        assert case.observed == base.observed
        assert "{" not in case.text
        assert case.kind == ("bad" if kind.expect == "reject" else "good")


class _Fixed:
    def __init__(self, accept: bool):
        self.accept = accept

    def review(self, request) -> CriticVerdict:
        one = CriticScores(voice=1, empathy=1, compliance=1, clarity=1, overall=1)
        return CriticVerdict(accepted=self.accept, scores=one, critic="fixed")


def test_scoring_counts_rejections_per_kind() -> None:
    cases = [Case("x/bad", "bad", "draft", "t"), Case("x/good", "good", "reply", "t")]
    lenient = {r.category: r for r in score(cases, _Fixed(True))}
    strict = {r.category: r for r in score(cases, _Fixed(False))}
    assert lenient["x/bad"].recall == 0.0 and lenient["x/good"].false_reject_rate == 0.0
    assert strict["x/bad"].recall == 1.0 and strict["x/good"].false_reject_rate == 1.0
    assert len(lenient["x/bad"].misses) == 1 and not strict["x/bad"].misses


def test_strategy_observer_on_esconv_sample(cli, catalog: Catalog) -> None:
    result = cli.invoke(app, ["eval", "strategies", "--esconv", str(ESCONV), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    dialogs = json.loads(ESCONV.read_text())
    labelled = [
        u for d in dialogs for u in d["dialog"] if u["speaker"] == "sys" and u.get("strategy")
    ]
    assert data["n"] == len(labelled) > 0
    assert [r["label"] for r in data["per_label"]] == list(LABELS)
    support = {r["label"]: r["support"] for r in data["per_label"]}
    for label in LABELS:
        assert support[label] == sum(u["strategy"] == label for u in labelled)
    matrix = data["confusion"]
    assert sum(map(sum, matrix)) == data["n"]
    assert data["accuracy"] == pytest.approx(
        sum(matrix[i][i] for i in range(len(LABELS))) / data["n"], abs=1e-4
    )
    assert {r["strategy"] for r in data["per_strategy"]} == set(catalog.strategies)
    assert sum(r["predicted"] for r in data["per_strategy"]) == data["n"]
    assert "CC BY-NC 4.0" in data["attribution"]

    human = cli.invoke(app, ["eval", "strategies", "--esconv", str(ESCONV)])
    assert human.exit_code == 0 and "Per ESConv strategy" in human.output


def test_esconv_original_format_and_jsonl(tmp_path: Path, cli) -> None:
    original = {
        "dialog": [
            {"speaker": "seeker", "annotation": {}, "content": "I lost my job.\n"},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Questions"},
                "content": "How are you feeling about it?\n",
            },
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Direct Guidance"},
                "content": "Update your resume tonight.",
            },
        ]
    }
    split = {
        "dialog": [
            {
                "speaker": "sys",
                "strategy": "Self-disclosure",
                "text": "When I was laid off, I felt the same way.",
            }
        ]
    }
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(original) + "\n" + json.dumps(split), encoding="utf-8")
    result = cli.invoke(app, ["eval", "strategies", "--esconv", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["n"] == 2 and data["skipped_labels"] == 1
    support = {r["label"]: r["support"] for r in data["per_label"]}
    assert support["Question"] == 1 and support["Self-disclosure"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"dialog": [', "invalid JSON"),
        ('[{"situation": "x"}]', "expected an ESConv dialog"),
        ('[{"dialog": [{"text": "hi"}]}]', "dialog.0.speaker"),
        ('[{"dialog": [{"speaker": "usr", "text": "hi"}]}]', "no supporter utterance"),
    ],
)
def test_bad_esconv_file_is_one_clear_error(
    tmp_path: Path, cli, content: str, message: str
) -> None:
    path = tmp_path / "esconv.json"
    path.write_text(content, encoding="utf-8")
    result = cli.invoke(app, ["eval", "strategies", "--esconv", str(path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "esconv.json" in lines[0] and message in lines[0], result.output


def test_emotion_observer_eval_matches_record_scores(scripted_run, cli) -> None:
    run, records = scripted_run
    result = cli.invoke(app, ["eval", "observer", str(run.path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    scores = records[0].quality.scores
    assert data["n"] == len(records[0].client_turns)
    assert data["emotion"]["accuracy"] == pytest.approx(
        scores["observer_emotion_accuracy"], abs=1e-3
    )
    assert data["family"]["accuracy"] == pytest.approx(scores["observer_family_accuracy"], abs=1e-3)
    assert data["intensity_mae"] == pytest.approx(scores["observer_intensity_mae"], abs=1e-3)
