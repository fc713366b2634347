"""Label streams: the live-operator HTTP endpoint and bulk review (Label Studio, CSV)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emosim.cli import app
from emosim.labels.server import create_app
from emosim.labels.store import LabelStore
from tests.test_labels import DEBT, build_store

TOKEN = "test-token-not-a-secret"


@pytest.fixture(scope="session")
def built_store(tmp_path_factory, scripted_run):
    _, records = scripted_run
    return build_store(tmp_path_factory.mktemp("labels"), records[0])


@pytest.fixture()
def store(built_store, tmp_path: Path):
    path, recs = built_store
    return shutil.copy(path, tmp_path / "labels.sqlite"), recs


def count(path: Path) -> int:
    with LabelStore.open(path) as db:
        return db.count_events()


# --- live operators over HTTP ---------------------------------------------------------------


@pytest.fixture()
def client(store, catalog):
    path, recs = store
    return TestClient(create_app(path, TOKEN, catalog)), path, recs


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_operator_events_are_stored_and_resolved(client) -> None:
    http, path, recs = client
    cid = recs[0].id
    before = count(path)
    body = {
        "events": [
            {"conversation_id": cid, "turn_index": 0, "field": "emotion", "value": "shame",
             "operator": "op_ana", "event_id": "op-http-1", "reason": "names the shame"},
            {"conversation_id": cid, "turn_index": 1, "sentence_index": 0,
             "field": "sentence_function", "value": "normalize", "operator": "op_ana"},
        ]
    }  # fmt: skip
    response = http.post("/v1/events", json=body, headers=auth())
    assert response.status_code == 201, response.text
    assert response.json()["stored"][0] == "op-http-1"
    assert count(path) == before + 2
    # resending the same event (a retry) stores nothing new
    again = http.post("/v1/events", json=body["events"][0], headers=auth())
    assert again.status_code == 201 and again.json()["already_stored"] == ["op-http-1"]
    assert count(path) == before + 2

    labels = http.get(f"/v1/conversations/{cid}/labels", headers=auth()).json()
    emotion = next(
        r for r in labels if r["target"]["turn_index"] == 0 and r["target"]["field"] == "emotion"
    )
    assert emotion["value"] == "shame" and emotion["source"]["kind"] == "live_operator"
    assert emotion["disagreement"] is True
    assert http.get("/v1/conversations/nope/labels", headers=auth()).status_code == 404
    assert http.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, b'{"events": []}'),
        (auth("wrong-token"), b'{"events": []}'),
        ({"Authorization": f"Basic {TOKEN}"}, b"{}"),
        (auth("wrong-token"), b"{not json"),  # the token is checked before the body is read
    ],
)
def test_bad_token_is_refused_and_nothing_stored(client, headers, body) -> None:
    http, path, _ = client
    before = count(path)
    response = http.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 401
    assert "bad token" in response.json()["detail"]["error"]
    assert http.get("/v1/conversations/x/labels", headers=headers).status_code == 401
    assert count(path) == before


def test_malformed_json_and_bad_events_are_refused_whole(client) -> None:
    http, path, recs = client
    before = count(path)
    response = http.post("/v1/events", content=b'{"events": [', headers=auth())
    assert response.status_code == 400
    assert response.json()["detail"]["error"].startswith("malformed JSON")

    good = {"conversation_id": recs[0].id, "turn_index": 0, "field": "emotion",
            "value": "shame", "operator": "op_ana"}  # fmt: skip
    cases = {
        "unknown conversation 'ghost'": {**good, "conversation_id": "ghost"},
        "unknown emotion id 'glee'": {**good, "value": "glee"},
        "unknown turn 40": {**good, "turn_index": 40},
    }
    for message, bad in cases.items():
        response = http.post("/v1/events", json={"events": [good, bad]}, headers=auth())
        assert response.status_code == 422, response.text
        problems = response.json()["detail"]["problems"]
        assert any(p.startswith("events[1]") and message in p for p in problems), problems
    response = http.post("/v1/events", json={"events": [{**good, "field": "mood"}]}, headers=auth())
    assert response.status_code == 422
    assert "body.events.0.field" in response.json()["detail"]["problems"][0]
    assert count(path) == before


def test_serve_needs_a_token(store, cli, monkeypatch) -> None:
    path, _ = store
    monkeypatch.delenv("EMOSIM_LABELS_TOKEN", raising=False)
    result = cli.invoke(app, ["labels", "serve", "--port", "8799", "--store", str(path)])
    assert result.exit_code == 1 and "EMOSIM_LABELS_TOKEN" in result.output


# --- bulk review ----------------------------------------------------------------------------


def test_labelstudio_round_trip(store, tmp_path, cli) -> None:
    path, recs = store
    tasks_file = tmp_path / "tasks.json"
    config = tmp_path / "config.xml"
    result = cli.invoke(
        app,
        ["review", "export", "--format", "labelstudio", "--out", str(tasks_file),
         "--store", str(path), "--field", "emotion", "--config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tasks = json.loads(tasks_file.read_text())
    assert len(tasks) == 30  # 6 conversations x 5 client turns
    first = tasks[0]
    assert set(first["data"]) >= {"conversation_id", "turn_index", "text", "topic", "subcategory"}
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "model:scripted-emotion"
    assert prediction["result"][0]["value"] == {"choices": ["anxiety"]}
    assert '<Choices name="emotion"' in config.read_text()

    # reviewers: keep anxiety except in credit-card debt, where it is shame
    for n, task in enumerate(tasks):
        choice = "shame" if task["data"]["subcategory"] == DEBT[1] else "anxiety"
        task["annotations"] = [
            {
                "id": 1000 + n,
                "completed_by": {"id": 7, "email": "rev@example.org"},
                "was_cancelled": False,
                "updated_at": "2026-04-01T10:00:00Z",
                "result": [
                    {"from_name": "emotion", "to_name": "text", "type": "choices",
                     "value": {"choices": [choice]}}
                ],
            }
        ]  # fmt: skip
    done = tmp_path / "export.json"
    done.write_text(json.dumps(tasks))
    before = count(path)
    result = cli.invoke(app, ["review", "import", str(done), "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["stored"] == 30 and count(path) == before + 30
    changed = [c for c in report["changes"] if c["changed"]]
    assert len(changed) == 10
    assert {(c["before"], c["after"], c["after_source"]) for c in changed} == {
        ("anxiety", "shame", "human_bulk_review")
    }
    assert {c["action"] for c in report["changes"]} == {"accept", "correct"}
    # importing the same file again stores nothing
    result = cli.invoke(app, ["review", "import", str(done), "--store", str(path), "--json"])
    assert json.loads(result.output)["already_imported"] == 30 and count(path) == before + 30

    analytics = json.loads(
        cli.invoke(app, ["labels", "analytics", "--store", str(path), "--json"]).output
    )
    # reviewers corrected every debt turn: no phrase rule, and no whole-sub-category rule
    assert analytics["proposed_rules"] == []
    (why,) = analytics["not_proposed"]
    assert why["corrections"] == 10 and f"{DEBT[1]} (10/10)" in why["reason"]


def test_csv_round_trip_with_reject_and_bad_rows(store, tmp_path, cli) -> None:
    path, recs = store
    out = tmp_path / "tasks.csv"
    result = cli.invoke(
        app, ["review", "export", "--format", "csv", "--out", str(out), "--store", str(path),
              "--field", "strategy", "--conversation", recs[0].id],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 5 and {r["field"] for r in rows} == {"strategy"}
    assert all(r["current_source"].startswith("model:") for r in rows)
    rows[0]["review_label"], rows[0]["reviewer"] = "normalizing", "rev_kim"
    rows[1]["review_label"] = "REJECT"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text(buffer.getvalue())
    result = cli.invoke(
        app, ["review", "import", str(reviewed), "--store", str(path), "--reviewer", "rev_lee"]
    )
    assert result.exit_code == 0, result.output
    with LabelStore.open(path) as db:
        mine = [e for e in db.events(recs[0].id) if e.source.kind == "human_bulk_review"]
    assert {(e.action, e.source.name, e.value) for e in mine} == {
        ("correct", "rev_kim", "normalizing"),
        ("reject", "rev_lee", None),
    }

    before = count(path)
    rows[2]["review_label"] = "not_a_strategy"
    writer = csv.DictWriter(buffer := io.StringIO(), fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    reviewed.write_text(buffer.getvalue())
    result = cli.invoke(app, ["review", "import", str(reviewed), "--store", str(path)])
    assert result.exit_code == 1
    assert (
        f"{reviewed}:4" in result.output and "unknown strategy id 'not_a_strategy'" in result.output
    )
    assert count(path) == before

    bad = cli.invoke(app, ["review", "export", "--format", "xml", "--store", str(path)])
    assert bad.exit_code == 1 and "labelstudio, csv" in bad.output
