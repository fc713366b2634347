"""Preference review round trip: ranking / authenticity tasks out, judgements in as label events."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.labels.store import LabelStore
from emosim.preferences.events import judgements_by_target
from emosim.preferences.judgements import ranker_ids
from emosim.preferences.tasks import safe_cell, unsafe_cell
from tests.preference_helpers import run_with_candidates

DATA = Path(__file__).parent / "data" / "preferences"


@pytest.fixture()
def prepared(scripted_run, tmp_path, catalog):
    run, _ = scripted_run
    return run_with_candidates(run, tmp_path, catalog)


def _export(cli, folder: Path, out: Path, *args: str) -> None:
    result = cli.invoke(app, ["review", "export", "--store", str(folder), "--out", str(out), *args])
    assert result.exit_code == 0, result.output


def _fill_csv(path: Path, out: Path, orders: dict[str, list[int]]) -> Path:
    """Each reviewer ranks every set: orders[reviewer][i] is the rank of the set's i-th row."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    filled = []
    for reviewer, order in orders.items():
        by_task: dict[str, int] = {}
        for row in rows:
            i = by_task.get(row["task_id"], 0)
            by_task[row["task_id"]] = i + 1
            filled.append({**row, "rank": order[i], "reviewer": reviewer})
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(filled)
    return out


def _rankings(folder: Path):
    with LabelStore.open(folder / "labels.sqlite") as store:
        return judgements_by_target(store.events(), "candidate_ranking")


def test_ranking_tasks_hide_the_original_and_show_the_conversation(prepared, cli, tmp_path):
    folder, sets = prepared
    _export(
        cli, folder, tmp_path / "t.json", "--task", "ranking", "--config", str(tmp_path / "c.xml")
    )
    tasks = json.loads((tmp_path / "t.json").read_text())
    assert len(tasks) == len(sets)
    first = tasks[0]["data"]
    assert first["emosim_task"] == "ranking"
    assert first["dialogue"][-1]["author"] == "Client"
    assert len(first["dialogue"]) == sets[0].turn_index
    shown = [c["id"] for c in first["candidates"]]
    assert sorted(shown) == sorted(c.candidate_id for c in sets[0].candidates)
    assert [c["title"] for c in first["candidates"]] == ["Reply A", "Reply B", "Reply C", "Reply D"]
    assert "original" not in json.dumps(tasks)  # nothing says which reply was sent
    config = (tmp_path / "c.xml").read_text()
    assert '<Ranker name="rank" toName="candidates"/>' in config
    assert '<List name="candidates" value="$candidates"' in config


def test_csv_ranking_round_trip_one_event_per_reviewer_and_set(prepared, cli, tmp_path):
    folder, sets = prepared
    _export(cli, folder, tmp_path / "t.csv", "--task", "ranking", "--format", "csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert len(rows) == sum(len(s.candidates) for s in sets)  # one row per candidate
    filled = _fill_csv(
        tmp_path / "t.csv",
        tmp_path / "filled.csv",
        {"ann@example.org": [1, 2, 3, 4], "bob@example.org": [2, 1, 3, 4]},
    )
    result = cli.invoke(app, ["review", "import", str(filled), "--store", str(folder)])
    assert result.exit_code == 0, result.output
    assert "4 event(s) stored" in result.output
    got = _rankings(folder)
    key = next(k for k in got if k.turn_index == sets[0].turn_index)
    first_set = [r["candidate_id"] for r in rows if r["task_id"] == "1"]
    assert got[key]["ann@example.org"] == first_set
    assert got[key]["bob@example.org"] == [first_set[1], first_set[0], *first_set[2:]]
    again = cli.invoke(app, ["review", "import", str(filled), "--store", str(folder)])
    assert "0 event(s) stored, 4 already stored" in again.output
    # ann changes her mind: a correct superseding her own event; bob's answer stays
    changed = _fill_csv(
        tmp_path / "t.csv", tmp_path / "changed.csv", {"ann@example.org": [4, 3, 2, 1]}
    )
    cli.invoke(app, ["review", "import", str(changed), "--store", str(folder)])
    now = _rankings(folder)
    assert now[key]["ann@example.org"] == first_set[::-1]
    assert now[key]["bob@example.org"] == got[key]["bob@example.org"]
    with LabelStore.open(folder / "labels.sqlite") as store:
        corrections = [e for e in store.events() if e.action == "correct"]
    assert corrections and all(e.supersedes for e in corrections)


def test_bad_rankings_are_refused_with_file_line_and_nothing_stored(prepared, cli, tmp_path):
    folder, _ = prepared
    _export(cli, folder, tmp_path / "t.csv", "--task", "ranking", "--format", "csv")
    tied = _fill_csv(tmp_path / "t.csv", tmp_path / "tied.csv", {"ann": [1, 1, 2, 3]})
    result = cli.invoke(app, ["review", "import", str(tied), "--store", str(folder)])
    assert result.exit_code != 0
    assert "tied.csv:2: rank: ann gave rank 1 to two replies" in result.output
    text = (tmp_path / "t.csv").read_text().replace("cand-", "cand-x", 1)
    (tmp_path / "odd.csv").write_text(text)
    odd = _fill_csv(tmp_path / "odd.csv", tmp_path / "odd_filled.csv", {"ann": [1, 2, 3, 4]})
    result = cli.invoke(app, ["review", "import", str(odd), "--store", str(folder)])
    assert result.exit_code != 0 and "unknown candidate 'cand-x" in result.output
    assert "nothing was stored" in result.output
    assert _rankings(folder) == {}


def _remap(fixture: Path, tasks_file: Path, out: Path) -> Path:
    """The recorded annotations, applied to today's tasks: reply titles map to today's ids."""
    recorded = json.loads(fixture.read_text())
    today = json.loads(tasks_file.read_text())
    for task, fresh in zip(recorded, today, strict=True):
        old = {c["id"]: c["title"] for c in task["data"]["candidates"]}
        new = {c["title"]: c["id"] for c in fresh["data"]["candidates"]}
        task["data"] = fresh["data"]
        for ann in task["annotations"]:
            for item in ann["result"]:
                if item["type"] == "ranker":
                    ids = item["value"]["ranker"]["rank"]
                    item["value"]["ranker"]["rank"] = [new[old[i]] for i in ids]
    out.write_text(json.dumps(recorded))
    return out


def test_labelstudio_ranking_export_is_read_with_annotators(prepared, cli, tmp_path):
    folder, sets = prepared
    _export(cli, folder, tmp_path / "t.json", "--task", "ranking")
    export = _remap(
        DATA / "labelstudio_ranking_export.json", tmp_path / "t.json", tmp_path / "e.json"
    )
    result = cli.invoke(
        app,
        ["review", "import", str(export), "--store", str(folder), "--annotators",
         str(DATA / "users.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "6 judgement(s) from 3 reviewer(s); 6 event(s) stored" in result.output
    got = _rankings(folder)
    assert {r for v in got.values() for r in v} == {
        "ann@example.org",
        "bob@example.org",
        "cat@example.org",
    }
    with LabelStore.open(folder / "labels.sqlite") as store:
        reasons = {e.reason for e in store.events() if e.source.name == "bob@example.org"}
    assert "B answers the question she actually asked." in reasons


def test_authenticity_round_trip_csv_and_labelstudio_min(prepared, cli, tmp_path):
    folder, _ = prepared
    _export(cli, folder, tmp_path / "a.json", "--task", "authenticity")
    task = json.loads((tmp_path / "a.json").read_text())[0]["data"]
    assert task["emosim_task"] == "authenticity" and task["dialogue"][0]["author"] == "Client"
    recorded = json.loads((DATA / "labelstudio_authenticity_export_min.json").read_text())
    for row in recorded:
        row.update(conversation_id=task["conversation_id"], dialogue=task["dialogue"])
    (tmp_path / "min.json").write_text(json.dumps(recorded))
    result = cli.invoke(
        app, ["review", "import", str(tmp_path / "min.json"), "--store", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert "9 judgement(s) from 3 reviewer(s); 9 event(s) stored" in result.output
    with LabelStore.open(folder / "labels.sqlite") as store:
        events = store.events()
    verdicts = judgements_by_target(events, "conversation_verdict")
    assert sorted(next(iter(verdicts.values())).values()) == ["accept", "accept", "reject"]
    scores = judgements_by_target(events, "emotional_authenticity")
    assert next(iter(scores.values()))["cat@example.org"] == 2

    _export(cli, folder, tmp_path / "a.csv", "--task", "authenticity", "--format", "csv")
    rows = list(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8")))
    rows[0].update(verdict="maybe", reviewer="dan")
    with (tmp_path / "bad.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = cli.invoke(
        app, ["review", "import", str(tmp_path / "bad.csv"), "--store", str(folder)]
    )
    assert result.exit_code != 0
    assert "bad.csv:2: verdict: expected accept or reject, got 'maybe'" in result.output


def test_formula_cells_are_neutralised_and_read_back():
    for text in ("=HYPERLINK(1)", "+1", "-5 dollars", "@SUM", "\tx"):
        assert safe_cell(text) == "'" + text
        assert unsafe_cell(safe_cell(text)) == text
    assert safe_cell("Plain words") == "Plain words"
    assert unsafe_cell("'quoted") == "'quoted"


def test_ranker_results_in_every_saved_shape():
    assert ranker_ids({"ranker": ["b", "a"]}) == ["b", "a"]
    assert ranker_ids({"ranker": {"rank": ["b", "a"]}}) == ["b", "a"]
    assert ranker_ids({"ranker": {"candidates": ["a"], "_": []}}) == ["a"]
    assert ranker_ids({"rank": ["c"]}) == ["c"]
    assert ranker_ids({"ranker": {"best": ["a"], "rest": ["b"]}}) is None


def test_csv_export_neutralises_a_reply_that_looks_like_a_formula(prepared):
    from emosim.preferences.tasks import ranking_csv

    _, sets = prepared
    risky = sets[0].candidates[1].model_copy(update={"text": "=cmd|' /C calc'!A0"})
    item = sets[0].model_copy(update={"candidates": [sets[0].candidates[0], risky]})
    rows = list(csv.DictReader(ranking_csv([item]).splitlines()))
    assert "'=cmd|' /C calc'!A0" in [r["text"] for r in rows]


def test_report_shows_agreement_per_task_and_preference_counts(
    prepared, cli, tmp_path, monkeypatch
):
    """`emosim report` (plots skipped for speed): the section, the headline rows, figures.json."""
    import emosim.reports.write as write

    folder, sets = prepared
    _export(cli, folder, tmp_path / "t.csv", "--task", "ranking", "--format", "csv")
    filled = _fill_csv(
        tmp_path / "t.csv",
        tmp_path / "filled.csv",
        {"ann": [1, 2, 3, 4], "bob": [1, 2, 4, 3], "cat": [2, 1, 3, 4]},
    )
    cli.invoke(app, ["review", "import", str(filled), "--store", str(folder)])
    _export(cli, folder, tmp_path / "a.json", "--task", "authenticity")
    task = json.loads((tmp_path / "a.json").read_text())[0]["data"]
    recorded = json.loads((DATA / "labelstudio_authenticity_export_min.json").read_text())
    for row in recorded:
        row.update(conversation_id=task["conversation_id"])
    (tmp_path / "min.json").write_text(json.dumps(recorded))
    cli.invoke(app, ["review", "import", str(tmp_path / "min.json"), "--store", str(folder)])

    monkeypatch.setattr(write, "render_plots", lambda figures: {})
    result = cli.invoke(app, ["report", str(folder), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "rep" / "figures.json").read_text())["preferences"]
    assert figures["candidate_sets"] == figures["ranked_sets"] == len(sets)
    assert figures["rankings"] == 3 * len(sets)
    assert figures["verdicts"] == {"accept": 2, "reject": 1}
    assert figures["mean_scores"]["emotional_authenticity"] == pytest.approx(3.0)
    ranking = next(a for a in figures["agreement"] if a["task"].startswith("ranking"))
    assert 0 < ranking["alpha"] < 1 and ranking["reviewers"] == 3
    assert "reviewer agreement, ranking (places 1..n) (alpha)" in result.output
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "<h2>Human preference review</h2>" in page
    assert "verdict (accept/reject)" in page
