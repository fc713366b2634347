"""Identity and audit: who may supersede whose events; the history's chains and backdating."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.labels import roles as roles_module
from emosim.labels.roles import load_roles
from emosim.labels.store import LabelStore

from .test_labels import build_store, count, ingest

_T0: list[datetime] = []  # the first event's clock: after the records, never in the future


def op(cid: str, turn: int, operator: str, event_id: str, minutes: int, **extra) -> dict:
    """An operator event dated `minutes` seconds after the module's first event (the store
    refuses events dated more than a few minutes ahead)."""
    if not _T0:
        _T0.append(datetime.now(UTC).replace(microsecond=0))
    return {
        "conversation_id": cid,
        "turn_index": turn,
        "field": "emotion",
        "operator": operator,
        "event_id": event_id,
        "created_at": (_T0[0] + timedelta(seconds=minutes)).isoformat(),
        **extra,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory, scripted_run):
    _, records = scripted_run
    return build_store(tmp_path_factory.mktemp("audit"), records[0])


@pytest.fixture()
def labelled(built, tmp_path: Path):
    """A private copy of the built store."""
    store, recs = built
    return shutil.copy(store, tmp_path / "labels.sqlite"), recs


@pytest.fixture()
def roles_file(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "label_roles.yaml"
    path.write_text(
        "roles:\n  reviewer-lead:\n    supersede_others: true\n  trainee: {}\n"
        "members:\n  - {name: op_lead, role: reviewer-lead, kinds: [live_operator]}\n"
        "  - {name: op_ben, role: trainee}\n"
    )
    monkeypatch.setattr(roles_module, "roles_path", lambda: path)
    return path


def test_only_the_same_person_or_a_lead_may_supersede(labelled, tmp_path, cli, roles_file):
    store, recs = labelled
    cid, turn = recs[0].id, recs[0].client_turns[0].index
    model = f"{cid}:t{turn}:emotion:model"
    first = [op(cid, turn, "op_ana", "ana-1", 0, value="shame", supersedes=model)]
    assert ingest(cli, tmp_path, store, first).exit_code == 0
    before = count(store)

    # another operator (same kind, another name) may not retract, reject or answer it by id
    for action, extra in (("retract", {}), ("reject", {}), ("correct", {"value": "worry"})):
        line = op(cid, turn, "op_ben", f"ben-{action}", 1, action=action, supersedes="ana-1")
        result = ingest(cli, tmp_path, store, [{**line, **extra}])
        assert result.exit_code == 1, result.output
        assert f"live_operator:op_ben cannot {action} live_operator:op_ana's event" in " ".join(
            result.output.split()
        )
        assert "reviewer-lead" in result.output
    # the same name in another stream is another person
    with LabelStore.open(store) as db:
        db.roles = load_roles(roles_file)
        from emosim.catalog import get_catalog
        from emosim.labels.operators import OperatorEvent

        other = OperatorEvent.model_validate(
            op(cid, turn, "op_ana", "x", 2, action="retract", supersedes="ana-1")
        ).to_event()
        other.source.kind = "human_bulk_review"
        with pytest.raises(Exception, match="human_bulk_review:op_ana cannot retract"):
            db.append([("test", other)], get_catalog())
    assert count(store) == before

    # her own retraction is fine; a lead may retract anyone's
    own = [op(cid, turn, "op_ana", "ana-2", 3, action="retract", supersedes="ana-1")]
    assert ingest(cli, tmp_path, store, own).exit_code == 0
    lead = [op(cid, turn, "op_lead", "lead-1", 4, action="retract", supersedes="ana-2")]
    assert ingest(cli, tmp_path, store, lead).exit_code == 0
    # retracting a model event is for its own source or a lead
    bad = [op(cid, turn, "op_ana", "ana-3", 5, action="retract", supersedes=model)]
    result = ingest(cli, tmp_path, store, bad)
    assert result.exit_code == 1 and "cannot retract a model event" in result.output
    assert count(store) == before + 2


def test_a_reviewer_answers_an_operators_label_without_superseding_it(labelled, tmp_path, cli):
    store, recs = labelled
    cid, turn = recs[0].id, recs[0].client_turns[0].index
    model = f"{cid}:t{turn}:emotion:model"
    line = op(cid, turn, "op_ana", "ana-1", 0, value="shame", supersedes=model)
    assert ingest(cli, tmp_path, store, [line]).exit_code == 0
    tasks = tmp_path / "tasks.csv"
    result = cli.invoke(
        app, ["review", "export", "--format", "csv", "--out", str(tasks), "--store", str(store),
              "--field", "emotion", "--conversation", cid],
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(tasks.read_text())))
    assert rows[0]["current_source"] == "live_operator:op_ana"
    rows[0]["review_label"], rows[0]["reviewer"] = "worry", "rev_kim"
    rows[1]["review_label"], rows[1]["reviewer"] = "REJECT", "rev_kim"  # a model label

    def write(rows: list[dict]) -> Path:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        path = tmp_path / "reviewed.csv"
        path.write_text(buffer.getvalue())
        return path

    result = cli.invoke(app, ["review", "import", str(write(rows)), "--store", str(store)])
    assert result.exit_code == 0, result.output
    with LabelStore.open(store) as db:
        mine = {e.action: e for e in db.events(cid) if e.source.name == "rev_kim"}
    assert mine["correct"].supersedes is None and mine["correct"].value == "worry"
    assert mine["reject"].supersedes is not None  # the model's event: anyone may reject it

    # rejecting the operator's label by id is refused, with the reason, and nothing stored
    rows[0]["review_label"], rows[0]["reviewer"] = "REJECT", "rev_lee"
    rows[1]["review_label"] = ""
    before = count(store)
    result = cli.invoke(app, ["review", "import", str(write(rows)), "--store", str(store)])
    assert result.exit_code == 1
    assert "human_bulk_review:rev_lee cannot reject live_operator:op_ana's event" in " ".join(
        result.output.split()
    )
    assert count(store) == before


def test_history_shows_the_chain_and_flags_backdated_events(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    cid, turn = recs[0].id, recs[0].client_turns[0].index
    model = f"{cid}:t{turn}:emotion:model"
    lines = [
        op(cid, turn, "op_ana", "ana-1", 30, value="shame", supersedes=model),
        op(cid, turn, "op_ana", "ana-2", 40, action="retract", supersedes="ana-1"),
        # backdated: made "before" the retraction it withdraws
        op(cid, turn, "op_ana", "ana-3", 10, action="retract", supersedes="ana-2"),
    ]
    assert ingest(cli, tmp_path, store, lines).exit_code == 0
    result = cli.invoke(
        app, ["labels", "history", cid, "--turn", str(turn), "--field", "emotion",
              "--store", str(store), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = {e["event_id"]: e for e in json.loads(result.output)}
    assert events["ana-3"]["supersedes_chain"] == ["ana-2", "ana-1", model]
    assert events["ana-1"]["supersedes_chain"] == [model]
    assert [i for i, e in events.items() if e["backdated"]] == ["ana-3"]

    table = cli.invoke(
        app, ["labels", "history", cid, "--turn", str(turn), "--store", str(store)],
        env={"COLUMNS": "250"},
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "1 event(s) dated before the event they supersede" in table.output
    assert "! dated before ana-2" in table.output
    assert "ana-2 → ana-1 →" in table.output


def test_the_shipped_roles_file_defines_a_reviewer_lead(root) -> None:
    shipped = load_roles(root / "label_roles.yaml")
    assert shipped.roles["reviewer-lead"].supersede_others


def test_a_member_with_an_unknown_role_names_the_line(tmp_path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(
        "roles: {lead: {supersede_others: true}}\nmembers:\n  - {name: a, role: boss}\n"
    )
    with pytest.raises(Exception, match="unknown role 'boss'"):
        load_roles(path)
