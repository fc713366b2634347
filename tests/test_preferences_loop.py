"""The preference loop end to end on the scripted backend, and the human-ranking exports.

run -> candidates -> review export -> filled rankings (a CSV, and the recorded Label Studio
export in tests/data/preferences/) -> review import -> export trl-dpo / trl-reward / trl-kto /
openai-dpo -> datasets.load_dataset("json").
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from emosim.cli import app

DATA = Path(__file__).parent / "data" / "preferences"


def _ok(cli, args: list[str]) -> str:
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def ranked_run(scripted_run, tmp_path_factory):
    """A copy of the run, candidates made, ranked by five reviewers (CSV and Label Studio)."""
    from typer.testing import CliRunner

    cli = CliRunner()
    run, _ = scripted_run
    tmp = tmp_path_factory.mktemp("loop")
    folder = tmp / "run"
    shutil.copytree(run.path, folder)
    _ok(cli, ["labels", "import", str(folder)])
    _ok(cli, ["candidates", str(folder), "--n", "4", "--turns", "1"])
    _ok(cli, ["review", "export", "--task", "ranking", "--store", str(folder), "--format", "csv",
              "--out", str(tmp / "tasks.csv")])  # fmt: skip
    _ok(cli, ["review", "export", "--task", "ranking", "--store", str(folder),
              "--out", str(tmp / "tasks.json")])  # fmt: skip
    # two reviewers in the spreadsheet: the first two rows swapped between them
    rows = list(csv.DictReader((tmp / "tasks.csv").open(encoding="utf-8")))
    filled = []
    for reviewer, ranks in (("dee@example.org", [1, 2, 3, 4]), ("eve@example.org", [2, 1, 3, 4])):
        filled += [{**r, "rank": ranks[i], "reviewer": reviewer} for i, r in enumerate(rows)]
    with (tmp / "filled.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(filled)
    # three more in Label Studio: the recorded export, its replies mapped to today's by title
    recorded = json.loads((DATA / "labelstudio_ranking_export.json").read_text())
    today = json.loads((tmp / "tasks.json").read_text())
    recorded = recorded[: len(today)]
    for task, fresh in zip(recorded, today, strict=True):
        title = {c["id"]: c["title"] for c in task["data"]["candidates"]}
        now = {c["title"]: c["id"] for c in fresh["data"]["candidates"]}
        task["data"] = fresh["data"]
        for ann in task["annotations"]:
            for item in ann["result"]:
                if item["type"] == "ranker":
                    ranked = item["value"]["ranker"]["rank"]
                    item["value"]["ranker"]["rank"] = [now[title[i]] for i in ranked]
    (tmp / "ls_export.json").write_text(json.dumps(recorded))
    out = _ok(cli, ["review", "import", str(tmp / "filled.csv"), "--store", str(folder)])
    assert "2 judgement(s) from 2 reviewer(s); 2 event(s) stored" in out
    out = _ok(cli, ["review", "import", str(tmp / "ls_export.json"), "--store", str(folder),
                    "--annotators", str(DATA / "users.json")])  # fmt: skip
    assert "3 judgement(s) from 3 reviewer(s); 3 event(s) stored" in out
    return folder, tmp


def _load(out: Path, split: str = "train"):
    from datasets import load_dataset

    rows = load_dataset("json", data_files=str(out / f"{split}.jsonl"), split="train")
    meta = load_dataset("json", data_files=str(out / "meta" / f"{split}.jsonl"), split="train")
    return rows, meta


def test_trl_dpo_from_human_rankings_loads_with_source_margin_and_agreement(ranked_run, cli):
    folder, tmp = ranked_run
    out = tmp / "dpo"
    _ok(cli, ["export", str(folder), "--format", "trl-dpo", "--out", str(out), "--split", "1,0,0"])
    rows, meta = _load(out)
    assert len(rows) == len(meta) > 0
    assert set(rows.column_names) == {"prompt", "chosen", "rejected"}
    human = [i for i, m in enumerate(meta) if m["pair_source"] == "human_ranking"]
    assert 1 <= len(human) <= 6  # four candidates: at most six pairs
    for i in human:
        m = meta[i]
        assert m["margin"] > 0 and m["reviewers"] == 5
        assert 0.5 < m["confidence"] < 1
        assert m["agreement"] is not None and -1 <= m["agreement"] <= 1
        assert rows[i]["prompt"][-1]["role"] == "user"
        assert rows[i]["chosen"][0]["content"] != rows[i]["rejected"][0]["content"]
    # the best-supported pair first: its chosen reply is every reviewer's top choice or close
    best = max(human, key=lambda i: meta[i]["margin"])
    assert meta[best]["support"] == 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pair_sources"]["human_ranking"] == len(human)
    assert manifest["human_rankings"]["reviewers"] == [
        "ann@example.org", "bob@example.org", "cat@example.org",
        "dee@example.org", "eve@example.org",
    ]  # fmt: skip
    card = (out / "README.md").read_text()
    assert f"| human_ranking | {len(human)} |" in card


def test_filters_on_margin_and_agreement(ranked_run, cli):
    folder, tmp = ranked_run
    _ok(cli, ["export", str(folder), "-f", "trl-dpo", "-o", str(tmp / "all"), "--split", "1,0,0"])
    _, every = _load(tmp / "all")
    margins = sorted(m["margin"] for m in every if m["pair_source"] == "human_ranking")
    cut = margins[len(margins) // 2]
    _ok(cli, ["export", str(folder), "-f", "trl-dpo", "-o", str(tmp / "m"), "--split", "1,0,0",
              "--min-margin", str(cut)])  # fmt: skip
    _, kept = _load(tmp / "m")
    kept_margins = [m["margin"] for m in kept if m["pair_source"] == "human_ranking"]
    assert kept_margins and min(kept_margins) >= cut and len(kept_margins) < len(margins)
    result = cli.invoke(app, ["export", str(folder), "-f", "trl-dpo", "-o", str(tmp / "a"),
                              "--split", "1,0,0", "--min-agreement", "1.0"])  # fmt: skip
    produced = (tmp / "a" / "meta" / "train.jsonl").is_file()
    sources = (
        {json.loads(line)["pair_source"] for line in (tmp / "a/meta/train.jsonl").open()}
        if produced
        else set()
    )
    assert "human_ranking" not in sources  # five reviewers who do not all agree: alpha < 1
    assert result.exit_code == 0 or "no preference pairs" in result.output
    bad = cli.invoke(app, ["export", str(folder), "-f", "trl-dpo", "-o", str(tmp / "b"),
                           "--min-margin", "-1"])  # fmt: skip
    assert bad.exit_code != 0 and "--min-margin" in bad.output


def test_reward_kto_and_openai_formats(ranked_run, cli):
    folder, tmp = ranked_run
    _ok(cli, ["export", str(folder), "-f", "trl-reward", "-o", str(tmp / "rm"), "--split", "1,0,0"])
    rows, meta = _load(tmp / "rm")
    assert set(rows.column_names) == {"prompt", "chosen", "rejected", "margin"}
    for row, m in zip(rows, meta, strict=True):
        expected = m["margin"] if m["pair_source"] == "human_ranking" else 0.0
        assert row["margin"] == pytest.approx(expected)
    recipe = (tmp / "rm" / "lora_recipe.yaml").read_text()
    assert "trl.RewardTrainer" in recipe

    _ok(cli, ["export", str(folder), "-f", "trl-kto", "-o", str(tmp / "kto"), "--split", "1,0,0"])
    rows, meta = _load(tmp / "kto")
    human = [(r, m) for r, m in zip(rows, meta, strict=True) if m["pair_source"] == "human_ranking"]
    labels = {m["negative"]: r["label"] for r, m in human}
    assert True in labels.values() and False in labels.values()
    assert all(r["label"] == (m["margin"] > 0) for r, m in human)

    _ok(cli, ["export", str(folder), "-f", "openai-dpo", "-o", str(tmp / "oa"), "--split", "1,0,0"])
    first = json.loads((tmp / "oa" / "train.jsonl").open().readline())
    assert set(first) == {"input", "preferred_output", "non_preferred_output"}
