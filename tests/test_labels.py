"""Label store, resolution, streams and analytics (issue 9: self-healing labels)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.errors import DataError
from emosim.graphs.finalize import model_label_events
from emosim.labels.analytics import analyze
from emosim.labels.resolve import resolve_events, resolve_record
from emosim.labels.rules import load_rules
from emosim.labels.store import LabelStore
from emosim.labels.targets import TargetKey
from emosim.schemas import ConversationRecord, LabelEvent

DEBT = ("debt_management", "credit_card_debt")
OTHERS = [("retirement_planning", "late_start_catch_up"), ("investing_basics", "market_downturns")]
TEXTS = {
    "credit_card_debt": [
        "My credit card balance passed {n} thousand and I only pay the minimum payment.",
        "I keep the credit card statements in a drawer so nobody sees the minimum payment.",
        "Every month the credit card interest eats more, I can't look at the balance.",
        "I told no one that the credit card is maxed, the minimum payment is all I manage.",
        "The credit card company called again about the balance, I let it ring.",
    ],
    "late_start_catch_up": [
        "I'm {n} and only started saving for retirement this year, is it too late?",
        "Retirement feels close and my savings are tiny, what if it's not enough.",
        "I lie awake doing retirement math and it never adds up.",
        "Everyone my age has a pension or a 401k and I have nothing set aside.",
        "What if I have to work until I drop because I started late?",
    ],
    "market_downturns": [
        "The market dropped {n} percent this week and I keep refreshing my account.",
        "Should I sell everything before the market drops more?",
        "My portfolio is red everywhere and I can't stop checking it.",
        "The news says recession and my index fund keeps sliding.",
        "I'm scared the market won't come back before I need the money.",
    ],
}
MODEL = "scripted-emotion"


def make_record(base: ConversationRecord, cid: str, topic: str, sub: str, n: int):
    """A copy of a scripted record moved to another context, the model reading anxiety."""
    doc = json.loads(base.model_dump_json())
    doc["id"] = cid
    doc["scenario"]["topic"], doc["scenario"]["subcategory"] = topic, sub
    texts = iter(TEXTS[sub])
    for turn in doc["turns"]:
        if turn["speaker"] == "client":
            turn["text"] = next(texts).format(n=n + 3)
            ann = turn["annotation"]
            ann.update(primary="anxiety", family="fear", secondary=None, cues=[])
    record = ConversationRecord.model_validate({**doc, "label_events": []})
    record.label_events = model_label_events(
        cid, record.turns, record.created_at, "scripted-sentence/lexicon-1"
    )
    return ConversationRecord.model_validate(json.loads(record.model_dump_json()))


def dataset(base: ConversationRecord) -> list[ConversationRecord]:
    out = []
    for topic, sub in [DEBT, *OTHERS]:
        for n in range(2):
            out.append(make_record(base, f"{sub}-{n}", topic, sub, n))
    return out


def write_jsonl(path: Path, docs: list) -> Path:
    path.write_text("".join(json.dumps(d, default=str) + "\n" for d in docs), encoding="utf-8")
    return path


def operator_stream(
    records: list[ConversationRecord], review_others: bool, only: str | None = None
) -> list[dict]:
    """Operators relabel the model's anxiety as shame in credit-card debt only (and there,
    with `only`, only in turns containing those words)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = []
    for r in records:
        in_debt = r.scenario.subcategory == DEBT[1]
        for k, turn in enumerate(r.client_turns):
            if not in_debt and not review_others:
                continue
            debt = in_debt and (only is None or only in turn.text)
            model_event = f"{r.id}:t{turn.index}:emotion:model"
            lines.append(
                {
                    "conversation_id": r.id,
                    "turn_index": turn.index,
                    "field": "emotion",
                    "operator": "op_ana" if k % 2 else "op_ben",
                    "created_at": (start + timedelta(minutes=len(lines))).isoformat(),
                    **(
                        {"action": "correct", "value": "shame", "supersedes": model_event}
                        if debt
                        else {"action": "accept", "supersedes": model_event}
                    ),
                }
            )
    return lines


def build_store(folder: Path, base: ConversationRecord) -> tuple[Path, list]:
    """Six hand-moved conversations imported into a new store through the CLI."""
    from typer.testing import CliRunner

    recs = dataset(base)
    data = write_jsonl(folder / "records.jsonl", [json.loads(r.model_dump_json()) for r in recs])
    store = folder / "labels.sqlite"
    result = CliRunner().invoke(app, ["labels", "import", str(data), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "6 new conversation(s) of 6" in result.output
    return store, recs


@pytest.fixture(scope="session")
def built_store(tmp_path_factory, scripted_run):
    _, records = scripted_run
    return build_store(tmp_path_factory.mktemp("labels"), records[0])


@pytest.fixture()
def labelled(built_store, tmp_path: Path):
    """A private copy of the built store: every test may append to it."""
    store, recs = built_store
    return shutil.copy(store, tmp_path / "labels.sqlite"), recs


def ingest(cli, tmp_path: Path, store: Path, lines: list[dict], name: str = "ops.jsonl"):
    path = write_jsonl(tmp_path / name, lines)
    return cli.invoke(app, ["labels", "ingest", str(path), "--store", str(store)])


def count(store: Path) -> int:
    with LabelStore.open(store) as db:
        return db.count_events()


# --- the synthetic correction stream --------------------------------------------------------


@pytest.mark.parametrize("review_others", [True, False])
def test_debt_only_relabel_is_surfaced_with_a_proposed_rule(
    labelled, tmp_path, cli, review_others
) -> None:
    store, recs = labelled
    result = ingest(cli, tmp_path, store, operator_stream(recs, review_others))
    assert result.exit_code == 0, result.output

    result = cli.invoke(app, ["labels", "analytics", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    human = [c for c in report["corrections"] if c["by"] in ("live_operator", "human_bulk_review")]
    assert [
        (c["kind"], c["field"], c["topic"], c["subcategory"], c["from_label"], c["to_label"])
        for c in human
    ] == [("model", "emotion", *DEBT, "anxiety", "shame")]
    assert human[0]["count"] == 10 and human[0]["rate"] == 1.0

    model = next(s for s in report["sources"] if s["kind"] == "model")
    assert model["corrected"] == 10
    assert model["reviewed"] == (30 if review_others else 10)

    # every reviewed debt turn was corrected: no phrase can be told from the sub-category's
    # wording, and a rule for the whole sub-category is never proposed
    assert report["proposed_rules"] == []
    (why,) = report["not_proposed"]
    assert (why["from_label"], why["to_label"], why["corrections"]) == ("anxiety", "shame", 10)
    assert "every reviewed turn was corrected in credit_card_debt (10/10)" in why["reason"]
    assert "never proposed" in why["reason"]
    assert report["summary"].startswith("No rule: 10 human correction(s)")
    credit = [p for p in report["phrases"] if p["phrase"] == "credit card"]
    assert credit and credit[0]["corrections"] == credit[0]["reviewed"] == 10
    if review_others:  # the sub-category's wording: in every turn, nothing to compare with
        assert credit[0]["status"] == "template wording"
        assert credit[0]["context_share"] == 1.0
    else:  # nobody looked anywhere else: no contrast at all
        assert credit[0]["status"] == "not significant" and credit[0]["p_value"] == 1.0

    if review_others:
        emotion = next(
            a for a in report["agreement"] if a["field"] == "emotion" and a["kind_b"] == "model"
        )
        assert emotion["kind_a"] == "live_operator" and emotion["n"] == 30
        assert emotion["agreement"] == pytest.approx(0.667, abs=1e-3)


def test_analytics_table_and_accepting_the_proposed_rule(labelled, tmp_path, cli, root) -> None:
    store, recs = labelled
    stream = operator_stream(recs, True, only="minimum payment")
    assert ingest(cli, tmp_path, store, stream).exit_code == 0
    table = cli.invoke(app, ["labels", "analytics", "--store", str(store)])
    assert table.exit_code == 0, table.output
    assert "Proposed rules" in table.output and "Cohen's kappa" in table.output
    assert "op_ana" in table.output and "the minimum payment" in table.output

    rules = tmp_path / "rules.yaml"
    rules.write_text((root / "rules.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    report = json.loads(
        cli.invoke(app, ["labels", "analytics", "--store", str(store), "--json"]).output
    )
    pid = report["proposed_rules"][0]["id"]
    args = ["--store", str(store), "--rules", str(rules)]
    result = cli.invoke(app, ["labels", "accept-rule", pid, *args])
    assert result.exit_code == 0, result.output
    text = rules.read_text(encoding="utf-8")
    assert text.startswith("# Labelling rules")  # comments kept
    from emosim.catalog import get_catalog

    loaded = load_rules(rules, get_catalog(root))
    new = loaded.rules[-1]
    assert new.id == report["proposed_rules"][0]["rule"]["id"] and new.label == "shame"
    assert new.phrase == "the minimum payment" and new.when.subcategory == [DEBT[1]]
    again = cli.invoke(app, ["labels", "accept-rule", pid, *args])
    assert again.exit_code == 1 and "already there" in again.output
    report = json.loads(cli.invoke(app, ["labels", "analytics", "--json", *args]).output)
    assert report["proposed_rules"][0]["accepted"] is True

    # a new debt conversation: the accepted rule relabels the model's anxiety as shame where
    # the client speaks of the minimum payment
    fresh = make_record(recs[0], "credit_card_debt-9", *DEBT, 9)
    data = write_jsonl(tmp_path / "fresh.jsonl", [json.loads(fresh.model_dump_json())])
    assert cli.invoke(app, ["labels", "import", str(data), "--store", str(store)]).exit_code == 0
    before = count(store)
    result = cli.invoke(app, ["labels", "apply-rules", *args])
    assert result.exit_code == 0, result.output
    with LabelStore.open(store) as db:
        resolved = resolve_events(db.events("credit_card_debt-9"))
    key = TargetKey("credit_card_debt-9", 0, None, "emotion")
    assert resolved[key].winner.value == "shame"
    assert resolved[key].winner.event.source.kind == "rule"
    # every debt turn with the phrase the model read as anxiety gets a rule event (3 new + 6
    # reviewed); where operators already decided, they still win
    added = count(store) - before
    assert added == 9
    assert resolved[TargetKey("credit_card_debt-9", 4, None, "emotion")].winner.value == "anxiety"
    with LabelStore.open(store) as db:
        reviewed = resolve_events(db.events(recs[0].id))
    winner = reviewed[TargetKey(recs[0].id, 0, None, "emotion")].winner
    assert winner.value == "shame" and winner.event.source.kind == "live_operator"
    # re-applying adds nothing: rule events are idempotent
    assert cli.invoke(app, ["labels", "apply-rules", *args]).exit_code == 0
    assert count(store) - before == added


# --- resolution -----------------------------------------------------------------------------


def test_retract_restores_the_previous_label(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    cid, turn = recs[0].id, 2
    base = {"conversation_id": cid, "turn_index": turn, "field": "emotion", "operator": "op_ana"}
    t0 = datetime(2026, 2, 1, tzinfo=UTC)

    def current() -> str:
        with LabelStore.open(store) as db:
            record = db.records([cid])[0]
            events = db.events(cid)
        fixed = resolve_record(record, events)
        ann = fixed.turns[turn].annotation
        return f"{ann.primary}/{ann.family}"

    assert current() == "anxiety/fear"
    first = {**base, "event_id": "op-1", "value": "shame", "created_at": t0.isoformat()}
    assert ingest(cli, tmp_path, store, [first], "a.jsonl").exit_code == 0
    assert current() == "shame/shame"
    second = {**base, "event_id": "op-2", "value": "guilt", "created_at": str(t0 + timedelta(1))}
    assert ingest(cli, tmp_path, store, [second], "b.jsonl").exit_code == 0
    assert current() == "guilt/shame"
    retract = {**base, "event_id": "op-3", "action": "retract", "supersedes": "op-2"}
    assert ingest(cli, tmp_path, store, [retract], "c.jsonl").exit_code == 0
    assert current() == "shame/shame"
    retract_first = {**base, "event_id": "op-4", "action": "retract", "supersedes": "op-1"}
    assert ingest(cli, tmp_path, store, [retract_first], "d.jsonl").exit_code == 0
    assert current() == "anxiety/fear"
    # retracting the retract brings the correction back
    undo = {**base, "event_id": "op-5", "action": "retract", "supersedes": "op-4"}
    assert ingest(cli, tmp_path, store, [undo], "e.jsonl").exit_code == 0
    assert current() == "shame/shame"


def test_policy_order_reject_and_disagreements(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    cid = recs[0].id
    t0 = datetime(2026, 3, 1, tzinfo=UTC).isoformat()
    ops = [
        {"conversation_id": cid, "turn_index": 0, "field": "emotion", "operator": "op_ana",
         "value": "shame", "created_at": t0},
        {"conversation_id": cid, "turn_index": 1, "field": "strategy", "operator": "op_ana",
         "action": "reject", "supersedes": f"{cid}:t1:strategy:model", "created_at": t0},
    ]  # fmt: skip
    assert ingest(cli, tmp_path, store, ops).exit_code == 0
    out = tmp_path / "resolved.jsonl"
    records_out = tmp_path / "records.jsonl"
    result = cli.invoke(
        app,
        [
            "labels",
            "resolve",
            "--store",
            str(store),
            "--out",
            str(out),
            "--records",
            str(records_out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {
        (r["target"]["conversation_id"], r["target"]["turn_index"], r["target"]["field"]): r
        for r in map(json.loads, out.read_text().splitlines())
    }
    assert rows[(cid, 0, "emotion")]["value"] == "shame"
    assert rows[(cid, 0, "emotion")]["disagreement"] is True
    assert rows[(cid, 1, "strategy")]["status"] == "rejected"
    fixed = next(
        ConversationRecord.model_validate_json(line)
        for line in records_out.read_text().splitlines()
        if json.loads(line)["id"] == cid
    )
    assert fixed.turns[1].strategies is None and fixed.turns[0].annotation.primary == "shame"
    assert len(fixed.label_events) == len(recs[0].label_events) + 2

    # the model first: the operator's correction no longer wins, but stays a disagreement
    result = cli.invoke(
        app,
        ["labels", "disagreements", "--store", str(store), "--json",
         "--priority", "model,rule,human_bulk_review,live_operator"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["value"] == "anxiety" and row["source"]["kind"] == "model"
    assert {o["value"] for o in row["opinions"]} == {"anxiety", "shame"}

    bad = cli.invoke(app, ["labels", "resolve", "--store", str(store), "--priority", "model"])
    assert bad.exit_code == 1 and "priority must list each" in bad.output


def test_resolve_record_without_events_is_the_model_reading(scripted_run) -> None:
    _, records = scripted_run
    record = records[0]
    fixed = resolve_record(record)
    assert fixed.model_dump(exclude={"label_events"}) == record.model_dump(exclude={"label_events"})
    assert fixed is not record


# --- append-only and bad events --------------------------------------------------------------


def test_a_correction_adds_rows_and_history_cannot_be_rewritten(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    before = count(store)
    with LabelStore.open(store) as db:
        old = [e.model_dump_json() for e in db.events()]
    line = {"conversation_id": recs[0].id, "turn_index": 0, "field": "emotion",
            "operator": "op_ana", "value": "shame"}  # fmt: skip
    assert ingest(cli, tmp_path, store, [line]).exit_code == 0
    assert count(store) == before + 1
    with LabelStore.open(store) as db:
        assert [e.model_dump_json() for e in db.events()][:before] == old
    conn = sqlite3.connect(store)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET event_json = '{}'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()
    assert count(store) == before + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"conversation_id": "nope"}, "unknown conversation 'nope'"),
        ({"turn_index": 99}, "unknown turn 99"),
        ({"turn_index": 1}, "is a advisor turn; field 'emotion' labels client turns"),
        ({"value": "happy_ish"}, "unknown emotion id 'happy_ish' for field 'emotion'"),
        ({"field": "strategy", "turn_index": 1, "value": "shame"}, "unknown strategy id 'shame'"),
        ({"field": "intensity", "value": 3}, "expected a number 0..1, got 3"),
        ({"action": "retract", "supersedes": "missing"}, "unknown event 'missing'"),
    ],
)
def test_bad_events_are_rejected_and_nothing_is_stored(
    labelled, tmp_path, cli, change, message
) -> None:
    store, recs = labelled
    before = count(store)
    good = {"conversation_id": recs[0].id, "turn_index": 0, "field": "emotion",
            "operator": "op_ana", "value": "shame"}  # fmt: skip
    result = ingest(cli, tmp_path, store, [good, {**good, **change}])
    assert result.exit_code == 1
    assert "ops.jsonl:2" in result.output and message in result.output, result.output
    assert "nothing was stored" in result.output
    assert count(store) == before


def test_malformed_json_line_names_the_line(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    before = count(store)
    path = tmp_path / "ops.jsonl"
    good = {"conversation_id": recs[0].id, "turn_index": 0, "field": "emotion",
            "operator": "op_ana", "value": "shame"}  # fmt: skip
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    result = cli.invoke(app, ["labels", "ingest", str(path), "--store", str(store)])
    assert result.exit_code == 1
    assert f"{path}:2: malformed JSON" in result.output
    assert count(store) == before


def test_import_refuses_bad_embedded_events_atomically(scripted_run, tmp_path, cli) -> None:
    _, records = scripted_run
    doc = json.loads(records[0].model_dump_json())
    doc["label_events"][0]["value"] = "not_an_emotion"
    data = write_jsonl(tmp_path / "bad.jsonl", [doc])
    store = tmp_path / "labels.sqlite"
    result = cli.invoke(app, ["labels", "import", str(data), "--store", str(store)])
    assert result.exit_code == 1
    assert "bad.jsonl:1: label_events.0" in result.output
    assert "unknown emotion id 'not_an_emotion'" in result.output
    with LabelStore.open(store) as db:
        assert db.count_events() == 0 and db.conversations() == {}


def test_store_append_checks_the_whole_batch(labelled, catalog) -> None:
    store, recs = labelled
    with LabelStore.open(store) as db:
        ev = recs[0].label_events[0]
        changed = LabelEvent.model_validate({**ev.model_dump(), "value": "hope"})
        with pytest.raises(DataError, match="already stored with different content"):
            db.append([("x", changed)], catalog)
        # the same event again is a no-op
        result = db.append([("x", ev)], catalog)
        assert result.stored == [] and len(result.already_stored) == 1


def test_rules_file_errors_name_the_line(tmp_path, catalog, root) -> None:
    assert load_rules(root / "rules.yaml", catalog).rules  # the shipped file is valid
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "version: '1'\nrules:\n  - id: r1\n    field: emotion\n    label: nope\n"
        "    when: {subcategory: credit_card_debt, topic: investing_basics}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_rules(bad, catalog)
    text = str(err.value)
    assert f"{bad}:3: rules.0.label: unknown emotion id 'nope'" in text
    assert "unknown sub-category id 'credit_card_debt' of investing_basics" in text


def test_analyze_on_an_untouched_store_finds_nothing(labelled) -> None:
    store, _ = labelled
    with LabelStore.open(store) as db:
        report = analyze(db)
    assert report.corrections == [] and report.proposed_rules == []
    assert report.sources[0].kind == "model" and report.sources[0].reviewed == 0
