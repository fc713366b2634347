"""The label store reaches every export, report, coverage and show, with no extra step."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.labels.store import LabelStore

from .test_labels import DEBT, dataset, operator_stream, write_jsonl


@pytest.fixture()
def corrected(scripted_run, tmp_path: Path, cli, monkeypatch):
    """Records imported with no --store, then corrected by operators and by a CSV review."""
    monkeypatch.chdir(tmp_path)
    _, records = scripted_run
    recs = dataset(records[0])
    folder = tmp_path / "data"
    folder.mkdir()
    data = write_jsonl(folder / "records.jsonl", [json.loads(r.model_dump_json()) for r in recs])
    result = cli.invoke(app, ["labels", "import", str(data)])
    assert result.exit_code == 0, result.output
    store = folder / "labels.sqlite"
    assert store.is_file() and not (tmp_path / "labels.sqlite").exists()

    ops = write_jsonl(tmp_path / "ops.jsonl", operator_stream(recs, review_others=False))
    result = cli.invoke(app, ["labels", "ingest", str(ops), "--store", str(folder)])
    assert result.exit_code == 0, result.output

    tasks = tmp_path / "tasks.csv"
    result = cli.invoke(
        app, ["review", "export", "--format", "csv", "--out", str(tasks), "--store", str(store),
              "--field", "strategy", "--conversation", recs[2].id],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(tasks.read_text())))
    new = next(s for s in ("normalizing", "reframing") if s != rows[0]["current_label"])
    rows[0]["review_label"] = new
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "reviewed.csv").write_text(buffer.getvalue())
    result = cli.invoke(app, ["review", "import", "reviewed.csv", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return data, store, recs, (recs[2].id, int(rows[0]["turn_index"]), new)


def export(cli, data: Path, out: Path, fmt: str, *extra: str) -> dict:
    result = cli.invoke(
        app, ["export", str(data), "--format", fmt, "--out", str(out), "--split", "1,0,0", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_exports_carry_the_corrections_and_equal_labels_resolve(corrected, cli, tmp_path) -> None:
    data, store, _, (_, _, strategy) = corrected
    result = cli.invoke(
        app, ["labels", "resolve", "--store", str(store), "--out", str(tmp_path / "r.jsonl")]
    )
    assert result.exit_code == 0, result.output
    resolved = {
        (r["target"]["conversation_id"], r["target"]["turn_index"]): r["value"]
        for r in lines(tmp_path / "r.jsonl")
        if r["target"]["field"] == "emotion"
    }
    assert sum(v == "shame" for v in resolved.values()) == 10  # the debt conversations' turns

    manifest = export(cli, data, tmp_path / "ec", "emotion-classification")
    rows = {
        (r["record_id"], r["turn_index"]): r["emotion"] for r in lines(tmp_path / "ec/train.jsonl")
    }
    assert rows == resolved
    applied = manifest["labels"]
    assert applied["chosen_by"] == "beside the records"
    (summary,) = applied["stores"]
    with LabelStore.open(store) as db:
        assert summary["events"] == db.count_events()
    assert summary["path"] == str(store) and re.fullmatch(r"[0-9a-f]{64}", summary["events_sha256"])
    assert applied["changed_by_field"] == {"emotion": 10, "strategy": 1}
    assert applied["labels_changed"] == 11
    card = (tmp_path / "ec/README.md").read_text()
    assert str(store) in card and "11 label(s) differ from the model's" in card
    assert "labels resolved by emosim.labels.resolve" not in card

    # trl-messages: the plan of every reply carries the corrected emotion and strategy
    export(cli, data, tmp_path / "tm", "trl-messages", "--planning")
    text = (tmp_path / "tm/train.jsonl").read_text()
    assert text.count("emotion: shame") > 0 and f"strategy: {strategy}" in text
    debt = [r for r in lines(tmp_path / "tm/train.jsonl") if "emotion: shame" in json.dumps(r)]
    assert debt and all(r["messages"] for r in debt)

    # --labels none: the model's labels, as the records were written
    manifest = export(cli, data, tmp_path / "none", "emotion-classification", "--labels", "none")
    plain = [r["emotion"] for r in lines(tmp_path / "none/train.jsonl")]
    assert "shame" not in plain and manifest["labels"]["stores"] == []
    assert manifest["labels"]["chosen_by"] == "--labels none"
    assert manifest["labels"]["labels_changed"] == 0

    # --labels STORE given explicitly, from a copy of the records in another folder
    other = tmp_path / "elsewhere"
    other.mkdir()
    copy = other / "records.jsonl"
    copy.write_text(data.read_text())
    manifest = export(cli, copy, tmp_path / "given", "emotion-classification")
    assert manifest["labels"]["chosen_by"] == "no store found"
    manifest = export(
        cli, copy, tmp_path / "given2", "emotion-classification", "--labels", str(store.parent)
    )
    assert manifest["labels"]["chosen_by"] == "--labels"
    rows = {
        (r["record_id"], r["turn_index"]): r["emotion"]
        for r in lines(tmp_path / "given2/train.jsonl")
    }
    assert rows == resolved


def test_show_report_and_coverage_read_the_store(corrected, cli, tmp_path) -> None:
    data, store, recs, _ = corrected
    debt = next(r for r in recs if r.scenario.subcategory == DEBT[1])
    shown = cli.invoke(app, ["show", str(data), "--conversation", debt.id])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("observed shame") == 5 and "labels: resolved with" in shown.output
    plain = cli.invoke(app, ["show", str(data), "--conversation", debt.id, "--labels", "none"])
    assert plain.exit_code == 0 and "observed shame" not in plain.output

    cov = tmp_path / "cov.json"
    result = cli.invoke(app, ["coverage", str(data), "--json", str(cov), "--no-diversity"])
    assert result.exit_code == 0, result.output
    report = json.loads(cov.read_text())
    observed = report["counts"]["emotion_observed"]
    assert sum(v for k, v in observed.items() if k.startswith("shame/")) >= 10
    assert report["labels"]["stores"][0]["path"] == str(store)

    result = cli.invoke(app, ["report", str(data), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "rep/figures.json").read_text())
    assert figures["labels"]["labels_changed"] == 11
    page = " ".join((tmp_path / "rep/report.html").read_text().split())
    assert f"Labels applied: labels: resolved with {store} (" in page
    assert "11 label(s) differ from the model&#39;s" in page and "(by field: emotion " in page


def test_store_location_rules_and_errors(corrected, cli, tmp_path) -> None:
    data, store, recs, _ = corrected
    # two folders: the import asks which store
    (tmp_path / "b").mkdir()
    other = write_jsonl(tmp_path / "b/more.jsonl", [json.loads(recs[0].model_dump_json())])
    result = cli.invoke(app, ["labels", "import", str(data), str(other)])
    assert result.exit_code == 1 and "pass --store" in result.output
    # --labels pointing nowhere
    result = cli.invoke(
        app, ["export", str(data), "-f", "emotion-classification", "-o", "x", "--labels", "nope"]
    )
    assert result.exit_code == 1 and "--labels: nope: no label store there" in result.output
    # a store about other words than the records read is refused, not silently applied
    doc = json.loads(data.read_text().splitlines()[0])
    doc["turns"][0]["text"] = "Completely different words."
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps(doc) + "\n")
    result = cli.invoke(
        app, ["export", str(changed), "-f", "emotion-classification", "-o", "y",
              "--labels", str(store)],
    )  # fmt: skip
    assert result.exit_code == 1 and "imported with different text" in result.output


def test_store_path_rule(tmp_path: Path) -> None:
    from emosim.labels.store import store_path_for

    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "conversations.jsonl").write_text("")
    assert store_path_for(None, [run]) == run / "labels.sqlite"
    assert store_path_for(None, [run / "conversations.jsonl"]) == run / "labels.sqlite"
    assert store_path_for(run, []) == run / "labels.sqlite"  # --store FOLDER
    assert store_path_for(None, []) == Path("labels.sqlite")
    with pytest.raises(Exception, match="pass --store"):
        store_path_for(None, [run, tmp_path / "other.jsonl"])
