"""The label store's tamper evidence: guards on every table, the hash chains, `labels verify`,
the upgrade of version 1 stores, time-travel events, and concurrent ingests."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from emosim.catalog import get_catalog
from emosim.cli import app
from emosim.errors import EmosimError
from emosim.labels.ddl import TRIGGERS
from emosim.labels.eventjson import event_json
from emosim.labels.operators import read_operator_jsonl
from emosim.labels.store import LabelStore, StoreBusy
from emosim.schemas import LabelEvent

from .test_labels import build_store, count, ingest, write_jsonl

GUARDED = {
    "meta": "UPDATE meta SET value = 'x'",
    "conversations": "UPDATE conversations SET topic = 'x'",
    "turns": "UPDATE turns SET text = 'x'",
    "sentences": "UPDATE sentences SET text = 'x'",
    "events": "UPDATE events SET event_json = '{}'",
}
REPLACES = {
    "meta": "INSERT OR REPLACE INTO meta SELECT key, 'x' FROM meta LIMIT 1",
    "conversations": "REPLACE INTO conversations SELECT * FROM conversations LIMIT 1",
    "turns": "INSERT OR REPLACE INTO turns SELECT conversation_id, turn_index, speaker, 'x' "
    "FROM turns LIMIT 1",
    "sentences": "REPLACE INTO sentences SELECT conversation_id, turn_index, sentence_index, "
    "'x' FROM sentences LIMIT 1",
    "events": "INSERT OR REPLACE INTO events SELECT * FROM events LIMIT 1",
    "events by seq": "INSERT OR REPLACE INTO events (seq, event_id, conversation_id, field, "
    "source_kind, source_name, action, created_at, stored_at, event_json, hash) "
    "SELECT seq, 'forged', conversation_id, field, source_kind, source_name, action, "
    "created_at, stored_at, event_json, hash FROM events LIMIT 1",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, scripted_run):
    _, records = scripted_run
    return build_store(tmp_path_factory.mktemp("tamper"), records[0])


@pytest.fixture()
def labelled(built, tmp_path: Path):
    """A private copy of the built store."""
    store, recs = built
    return shutil.copy(store, tmp_path / "labels.sqlite"), recs


def raw(store: Path) -> sqlite3.Connection:
    """A connection as a tamperer opens it: foreign keys off, autocommit."""
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def op_line(cid: str, turn: int, event_id: str, **extra) -> dict:
    return {"conversation_id": cid, "turn_index": turn, "field": "emotion", "operator": "op_ana",
            "value": "shame", "event_id": event_id, **extra}  # fmt: skip


@pytest.mark.parametrize("table", sorted(GUARDED))
def test_update_delete_and_replace_are_refused_on_every_table(labelled, table) -> None:
    store, _ = labelled
    before = count(store)
    conn = raw(store)
    statements = [GUARDED[table], f"DELETE FROM {table}"]
    statements += [sql for name, sql in REPLACES.items() if name.split()[0] == table]
    for sql in statements:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()
    with LabelStore.open(store) as db:
        assert db.verify().ok and db.count_events() == before


def test_rows_without_their_chain_hash_are_refused(labelled) -> None:
    store, _ = labelled
    conn = raw(store)
    for table in ("events", "conversations"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "seq"]
        key = cols[0]  # event_id / conversation_id: made new, so nothing is replaced
        values = ", ".join(
            "NULL" if c == "hash" else f"'new-' || {c}" if c == key else c for c in cols
        )
        with pytest.raises(sqlite3.DatabaseError, match="without its chain hash"):
            conn.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} FROM {table} LIMIT 1"
            )
    conn.close()


TAMPERING = {
    "an event's content rewritten": [
        'UPDATE events SET event_json = replace(event_json, \'"reason":"\', '
        '\'"reason":"edited \') WHERE seq = 3'
    ],
    "an event's column rewritten": ["UPDATE events SET conversation_id = 'x' WHERE seq = 2"],
    "a middle event deleted": ["DELETE FROM events WHERE seq = 5"],
    "an event slipped in without a hash": [
        "INSERT INTO events (event_id, conversation_id, field, source_kind, source_name, action, "
        "created_at, stored_at, event_json) SELECT 'forged', conversation_id, field, "
        "source_kind, source_name, action, created_at, stored_at, event_json FROM events "
        "LIMIT 1"
    ],
    "a conversation's text rewritten": ["UPDATE turns SET text = 'I feel great' WHERE rowid = 1"],
    "a sentence deleted": ["DELETE FROM sentences WHERE rowid = 1"],
    "a conversation deleted": ["DELETE FROM conversations WHERE chain_seq = 1"],
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
def test_rewrites_with_the_guards_dropped_are_detected(labelled, tmp_path, cli, what) -> None:
    store, _ = labelled
    conn = raw(store)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    for sql in TAMPERING[what]:
        assert conn.execute(sql).rowcount == 1, sql
    conn.close()

    result = cli.invoke(app, ["labels", "verify", "--store", str(store)])
    assert result.exit_code == 1, result.output
    assert "ALTERED" in result.output
    assert "trigger events_no_update missing" in result.output
    assert (
        "hash does not match" in result.output
        or "outside emosim" in result.output
        or ("missing" in result.output and "refers to" in result.output)
    ), result.output
    assert "Traceback" not in result.output

    refused = cli.invoke(app, ["labels", "resolve", "--store", str(store)])
    assert refused.exit_code == 1
    assert "label history was altered" in refused.output
    assert "emosim labels verify" in refused.output


def test_verify_reports_an_intact_store_and_a_cut_history_against_its_head(labelled, cli) -> None:
    store, _ = labelled
    result = cli.invoke(app, ["labels", "verify", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["events"] == count(store) and len(report["head"]) == 64

    conn = raw(store)  # the last event removed: the rest of the chain still holds
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
    conn.execute(TRIGGERS["events_no_delete"])
    conn.close()
    assert cli.invoke(app, ["labels", "verify", "--store", str(store)]).exit_code == 0
    result = cli.invoke(app, ["labels", "verify", "--store", str(store), "--head", report["head"]])
    assert result.exit_code == 1
    assert "is not in the event chain" in result.output


V1_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE conversations (conversation_id TEXT PRIMARY KEY, topic TEXT NOT NULL, "
    "subcategory TEXT NOT NULL, scenario_id TEXT NOT NULL, source TEXT NOT NULL, "
    "imported_at TEXT NOT NULL, record_json TEXT NOT NULL)",
    "CREATE TABLE turns (conversation_id TEXT NOT NULL REFERENCES "
    "conversations(conversation_id), turn_index INTEGER NOT NULL, speaker TEXT NOT NULL, "
    "text TEXT NOT NULL, PRIMARY KEY (conversation_id, turn_index))",
    "CREATE TABLE sentences (conversation_id TEXT NOT NULL, turn_index INTEGER NOT NULL, "
    "sentence_index INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (conversation_id, "
    "turn_index, sentence_index), FOREIGN KEY (conversation_id, turn_index) REFERENCES "
    "turns(conversation_id, turn_index))",
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL "
    "UNIQUE, conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id), "
    "turn_index INTEGER, sentence_index INTEGER, field TEXT NOT NULL, source_kind TEXT NOT "
    "NULL, source_name TEXT NOT NULL, action TEXT NOT NULL, created_at TEXT NOT NULL, "
    "supersedes TEXT, stored_at TEXT NOT NULL, event_json TEXT NOT NULL)",
    "CREATE INDEX events_target ON events (conversation_id, turn_index, sentence_index, field)",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, "
    "'label events are append-only: UPDATE refused'); END",
]


def test_a_version_1_store_is_upgraded_on_open_and_keeps_its_events(labelled, tmp_path) -> None:
    store, recs = labelled
    old = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(old, isolation_level=None)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('store_version', '1')")
    conn.execute("ATTACH ? AS v2", (str(store),))
    conn.execute("INSERT INTO conversations SELECT conversation_id, topic, subcategory, "
                 "scenario_id, source, imported_at, record_json FROM v2.conversations "
                 "ORDER BY chain_seq")  # fmt: skip
    conn.execute("INSERT INTO turns SELECT * FROM v2.turns")
    conn.execute("INSERT INTO sentences SELECT * FROM v2.sentences")
    cols = "seq, event_id, conversation_id, turn_index, sentence_index, field, source_kind, " \
           "source_name, action, created_at, supersedes, stored_at, event_json"  # fmt: skip
    conn.execute(f"INSERT INTO events ({cols}) SELECT {cols} FROM v2.events ORDER BY seq")
    conn.execute("DETACH v2")
    before = [r[0] for r in conn.execute("SELECT event_json FROM events ORDER BY seq")]
    conn.close()

    with LabelStore.open(old) as db:
        assert db.upgraded == len(before) > 0
        report = db.verify()
        assert report.ok, report.problems
        assert report.events_before_chain == len(before)
        assert [e.model_dump_json() for e in db.events()] == [
            LabelEvent.model_validate_json(t).model_dump_json() for t in before
        ]
    with LabelStore.open(old) as db:
        assert db.upgraded is None  # once
    conn = raw(old)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM turns")
    conn.close()


def test_a_database_that_is_not_a_label_store_is_refused_untouched(tmp_path) -> None:
    other = tmp_path / "checkpoints.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE checkpoints (id TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(EmosimError, match="not a label store .*checkpoints"):
        LabelStore.open(other)
    tables = {r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")}
    assert tables == {"checkpoints"}


def test_events_dated_in_the_future_are_refused(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    cid, turn = recs[0].id, recs[0].client_turns[0].index
    before = count(store)
    bad = op_line(cid, turn, "pinned", created_at="9999-12-31T00:00:00+00:00")
    result = ingest(cli, tmp_path, store, [bad])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "created_at: 9999-12-31T00:00:00+00:00 is in the future" in text
    assert "Traceback" not in result.output and count(store) == before

    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()  # a clock a bit ahead
    assert (
        ingest(cli, tmp_path, store, [op_line(cid, turn, "soon", created_at=soon)]).exit_code == 0
    )
    later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    path = write_jsonl(tmp_path / "later.jsonl", [op_line(cid, turn, "later", created_at=later)])
    strict = ["labels", "ingest", str(path), "--store", str(store), "--clock-skew", "30"]
    assert cli.invoke(app, strict).exit_code == 1
    assert count(store) == before + 1


def test_overlapping_concurrent_ingests_store_each_event_once(labelled, tmp_path) -> None:
    store, recs = labelled
    cid, turns = recs[0].id, [t.index for t in recs[0].client_turns]
    lines = [op_line(cid, turns[i % len(turns)], f"c-{i}") for i in range(40)]
    files = [write_jsonl(tmp_path / "a.jsonl", lines[:30]),
             write_jsonl(tmp_path / "b.jsonl", lines[10:]),
             write_jsonl(tmp_path / "c.jsonl", lines[:30])]  # fmt: skip
    before = count(store)
    catalog = get_catalog()
    barrier = threading.Barrier(len(files))
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def work(path: Path) -> None:
        try:
            items = read_operator_jsonl(path)
            with LabelStore.open(store) as db:
                barrier.wait()
                done = db.append(items, catalog)
                results.append((len(done.stored), len(done.already_stored)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(stored for stored, _ in results) == len(lines)
    assert all(stored + already == 30 for stored, already in results)
    assert count(store) == before + len(lines)
    with LabelStore.open(store) as db:
        assert db.verify().ok


def test_a_busy_store_is_a_clear_error(labelled, tmp_path, cli) -> None:
    store, recs = labelled
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        items = read_operator_jsonl(
            write_jsonl(tmp_path / "x.jsonl", [op_line(recs[0].id, 0, "busy-1")])
        )
        with LabelStore.open(store, timeout=0.1) as db, pytest.raises(StoreBusy, match="busy"):
            db.append(items, get_catalog())
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_stored_event_json_reads_back_as_the_same_event() -> None:
    full = LabelEvent.model_validate(
        {
            "event_id": "e1",
            "created_at": datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=2))),
            "target": {
                "conversation_id": "c",
                "turn_index": 2,
                "sentence_index": 1,
                "field": "sentence_function",
            },  # fmt: skip
            "value": {"nested": [1, 2.5, None, "é"]},
            "source": {
                "kind": "model",
                "name": "m",
                "version": "1",
                "model_sha256": "ab",
                "data_sha256": "cd",
                "license": "CC-BY-4.0",
            },  # fmt: skip
            "action": "suggest",
            "confidence": 0.75,
            "reason": 'quotes " and \n newlines',
            "supersedes": "e0",
        }
    )
    naive = full.model_copy(update={"created_at": datetime(2026, 3, 1, 9, 30), "value": None})
    for event in (full, naive):
        text = event_json(event)
        assert LabelEvent.model_validate_json(text) == event
        assert json.loads(text).keys() == json.loads(event.model_dump_json()).keys()
        assert json.loads(text)["source"] == json.loads(event.model_dump_json())["source"]


def test_exports_refuse_an_altered_store(built, tmp_path, cli) -> None:
    store, _ = built
    copy = shutil.copy(store, tmp_path / "labels.sqlite")
    conn = raw(copy)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET source_name = 'someone else' WHERE seq = 1")
    conn.close()
    records = store.parent / "records.jsonl"
    out = tmp_path / "out"
    result = cli.invoke(app, ["export", str(records), "-f", "emotion-classification",
                              "-o", str(out), "--labels", str(copy)])  # fmt: skip
    assert result.exit_code == 1
    assert "label history was altered" in " ".join(result.output.split())
    assert not out.exists()


def test_a_resend_inside_a_batch_of_new_events_is_stored_once(labelled, tmp_path) -> None:
    """A batch of new events is stored without looking its ids up first: one already stored
    fails the insert, which is undone, and the batch is checked event by event instead."""
    from emosim.errors import DataError

    store, recs = labelled
    cid, turns = recs[0].id, [t.index for t in recs[0].client_turns]
    catalog = get_catalog()

    def batch(name: str, *lines: dict) -> list:
        return read_operator_jsonl(write_jsonl(tmp_path / name, list(lines)))

    first = [op_line(cid, turns[i % len(turns)], f"r-{i}") for i in range(3)]
    before = count(store)
    with LabelStore.open(store) as db:
        assert len(db.append(batch("a.jsonl", *first), catalog).stored) == 3
        again = db.append(batch("b.jsonl", op_line(cid, turns[0], "r-3"), first[1],
                                op_line(cid, turns[1], "r-4")), catalog)  # fmt: skip
        assert [p.event_id for p in again.stored] == ["r-3", "r-4"]
        assert [p.event_id for p in again.already_stored] == ["r-1"]
        changed = {**first[2], "value": "anxiety"}
        with pytest.raises(DataError, match="'r-2': event_id is already stored with different"):
            db.append(batch("c.jsonl", op_line(cid, turns[0], "r-5"), changed), catalog)
        assert count(store) == before + 5  # r-5 was not stored with the refused batch
        assert [p.event_id for p in db.append(batch("d.jsonl", first[0]), catalog).stored] == []
        assert len(db.append(batch("e.jsonl", op_line(cid, turns[0], "r-5")), catalog).stored) == 1
        assert db.count_events() == before + 6
        assert db.verify().ok
