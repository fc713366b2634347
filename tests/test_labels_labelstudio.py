"""Label Studio round trip on files recorded from the real tool (1.23.2; docs/label-studio.md).

tests/data/labelstudio/ holds one synthetic conversation (records.jsonl), the tasks and
labeling config `emosim review export` wrote for it, and what Label Studio exported after
two annotators (admin@example.org = user 1, reviewer.two@example.org = user 2) labelled
them through its API: JSON and JSON_MIN, each plain (annotators as user ids) and expanded
(annotators as emails), and its user list.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.labels.store import LabelStore

DATA = Path(__file__).parent / "data" / "labelstudio"
EMAILS = {"admin@example.org", "reviewer.two@example.org"}


@pytest.fixture()
def store(tmp_path: Path, cli) -> Path:
    records = shutil.copy(DATA / "records.jsonl", tmp_path / "records.jsonl")
    result = cli.invoke(app, ["labels", "import", str(records)])
    assert result.exit_code == 0, result.output
    return tmp_path / "labels.sqlite"


def review_events(store: Path) -> set[tuple]:
    with LabelStore.open(store) as db:
        return {
            (e.event_id, e.source.name, e.target.turn_index, e.target.field, e.value, e.action)
            for e in db.events()
            if e.source.kind == "human_bulk_review"
        }


def annotated_values() -> int:
    tasks = json.loads((DATA / "export_json.json").read_text())
    return sum(len(a["result"]) for t in tasks for a in t["annotations"])


def test_the_recorded_tasks_are_what_review_export_writes(store, tmp_path, cli) -> None:
    out, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    result = cli.invoke(
        app, ["review", "export", "--store", str(store), "--field", "emotion", "--field",
              "intensity", "--field", "strategy", "--out", str(out), "--config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads((DATA / "tasks.json").read_text())
    assert config.read_text() == (DATA / "config.xml").read_text()


@pytest.mark.parametrize(
    "name, extra",
    [
        ("export_json.json", ["--annotators", str(DATA / "users.json")]),
        ("export_json_min.json", ["--annotators", str(DATA / "users.json")]),
        ("export_json_expanded.json", []),
        ("export_json_min_expanded.json", []),
    ],
)
def test_json_and_json_min_give_the_same_decisions_by_email(store, cli, name, extra) -> None:
    result = cli.invoke(
        app, ["review", "import", str(DATA / name), "--store", str(store), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == ("JSON_MIN" if "min" in name else "JSON")
    assert report["decisions"] == annotated_values() and report["warnings"] == []
    events = review_events(store)
    assert {e[1] for e in events} == EMAILS
    by = {(who, turn, field): value for _, who, turn, field, value, _ in events}
    assert by[("admin@example.org", 0, "emotion")] == "shame"
    assert by[("reviewer.two@example.org", 0, "emotion")] == "worry"
    assert by[("admin@example.org", 0, "intensity")] == 0.9
    assert by[("admin@example.org", 2, "emotion")] == "anger"
    assert by[("reviewer.two@example.org", 1, "strategy")] == "normalizing"

    # every other format of the same project is the same decisions: nothing new is stored
    for other in ("export_json_expanded.json", "export_json_min_expanded.json"):
        again = cli.invoke(
            app, ["review", "import", str(DATA / other), "--store", str(store), "--json"]
        )
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["stored"] == 0
    assert review_events(store) == events


def test_user_ids_without_emails_are_reported_not_hidden(store, cli) -> None:
    result = cli.invoke(
        app, ["review", "import", str(DATA / "export_json_min.json"), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "Label Studio user id (1, 2)" in " ".join(result.output.split())
    assert {e[1] for e in review_events(store)} == {"labelstudio-user-1", "labelstudio-user-2"}


def test_corrections_from_label_studio_reach_the_export(store, tmp_path, cli) -> None:
    imported = cli.invoke(
        app, ["review", "import", str(DATA / "export_json_expanded.json"), "--store", str(store)]
    )
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "ec"
    result = cli.invoke(
        app,
        [
            "export",
            str(store.parent / "records.jsonl"),
            "-f",
            "emotion-classification",
            "-o",
            str(out),
            "--split",
            "1,0,0",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {
        r["turn_index"]: r for r in map(json.loads, (out / "train.jsonl").read_text().splitlines())
    }
    assert rows[2]["emotion"] == "anger" and rows[0]["intensity"] == 0.9


@pytest.mark.parametrize(
    "doc, says",
    [
        ({"tasks": []}, "expected a list of Label Studio tasks, got dict"),
        ([], "got an empty list"),
        ([{"image": "x.png", "label": "cat"}], "neither a 'JSON' task"),
        ([{"data": {"text": "hi"}, "annotations": []}], "data.conversation_id missing"),
    ],
)
def test_other_files_are_refused_saying_what_is_supported(store, tmp_path, cli, doc, says) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    result = cli.invoke(app, ["review", "import", str(path), "--store", str(store)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert says in text and "'JSON' and 'JSON_MIN' exports" in text


def test_a_label_studio_csv_is_refused_with_the_supported_formats(store, tmp_path, cli) -> None:
    path = tmp_path / "project.csv"
    path.write_text("id,emotion,annotator\n1,shame,1\n")
    result = cli.invoke(app, ["review", "import", str(path), "--store", str(store)])
    assert result.exit_code == 1 and "'JSON' or 'JSON_MIN' export" in " ".join(
        result.output.split()
    )


def test_bad_annotators_file_names_the_item(store, tmp_path, cli) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"id": 1}]))
    result = cli.invoke(
        app,
        [
            "review",
            "import",
            str(DATA / "export_json.json"),
            "--store",
            str(store),
            "--annotators",
            str(path),
        ],
    )
    assert result.exit_code == 1 and "--annotators" in result.output and "item 0" in result.output


def test_review_export_warns_on_unknown_conversations(store, tmp_path, cli) -> None:
    known = json.loads((DATA / "records.jsonl").read_text().splitlines()[0])["id"]
    out = tmp_path / "t.json"
    result = cli.invoke(
        app, ["review", "export", "--store", str(store), "--out", str(out),
              "--conversation", known, "--conversation", "no-such-id"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "'no-such-id' not in" in result.output and out.is_file()
    result = cli.invoke(
        app,
        ["review", "export", "--store", str(store), "--out", str(out), "--conversation", "nope"],
    )
    assert result.exit_code == 1 and "no conversation 'nope'" in result.output
