"""The label store on both backends: SQLite and PostgreSQL give the same guards, chains and
labels; `store copy` moves a store between them. Postgres cases skip without a server
(scripts/postgres-dev.sh starts one; .ci/run does in CI)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emosim.cli import app
from emosim.errors import EmosimError
from emosim.labels.store import LabelStore, StoreBusy
from emosim.storage.location import Dsn, parse_location
from tests.test_labels import dataset, write_jsonl
from tests.test_labels import operator_stream as _operator_stream

TABLES = ("meta", "conversations", "turns", "sentences", "events")


@pytest.fixture(scope="module")
def records_file(tmp_path_factory, scripted_run) -> tuple[Path, list]:
    _, records = scripted_run
    recs = dataset(records[0])
    folder = tmp_path_factory.mktemp("pg-records")
    path = write_jsonl(folder / "records.jsonl", [json.loads(r.model_dump_json()) for r in recs])
    return path, recs


def operator_stream(recs: list, review_others: bool) -> list[dict]:
    """test_labels' operator stream with ids of their own: a resend stores nothing twice,
    and two stores get the same events."""
    lines = _operator_stream(recs, review_others)
    return [{**line, "event_id": f"op-{review_others}-{i}"} for i, line in enumerate(lines)]


def where(location: Path | Dsn) -> str:
    return location.url if isinstance(location, Dsn) else str(location)


def imported(cli, location, records_file) -> Path | Dsn:
    path, _ = records_file
    result = cli.invoke(app, ["labels", "import", str(path), "--store", where(location)])
    assert result.exit_code == 0, result.output
    assert "6 new conversation(s) of 6" in result.output
    return location


def raw(location):
    """A connection around emosim: what someone with the database's credentials can do."""
    if isinstance(location, Dsn):
        import psycopg

        return psycopg.connect(location.url, autocommit=True)
    return sqlite3.connect(location, isolation_level=None)


def refused(conn, statement: str) -> str:
    with pytest.raises(Exception) as caught:
        conn.execute(statement)
    return str(caught.value)


def test_every_table_refuses_changes_on_both_backends(cli, store_at, records_file) -> None:
    location = imported(cli, store_at, records_file)
    postgres = isinstance(location, Dsn)
    with raw(location) as conn:
        for table in TABLES:
            assert "append-only: UPDATE refused" in refused(
                conn,
                f"UPDATE {table} SET {'value' if table == 'meta' else 'text'} = 'x'"
                if table in ("meta", "turns", "sentences")
                else f"UPDATE {table} SET conversation_id = conversation_id",
            )
            assert "append-only: DELETE refused" in refused(conn, f"DELETE FROM {table}")
            if postgres:
                assert "append-only: TRUNCATE refused" in refused(conn, f"TRUNCATE {table} CASCADE")
        for table in ("events", "conversations"):
            # a row without its chain hash is refused however it is written
            columns = "event_id, conversation_id, field, source_kind, source_name, action, "
            columns += "created_at, stored_at, event_json"
            statement = (
                f"INSERT INTO events ({columns}) VALUES ('e-x', 'credit_card_debt-0', 'quality', "
                "'model', 'm', 'suggest', '2026', '2026', '{}')"
                if table == "events"
                else "INSERT INTO conversations (conversation_id, topic, subcategory, "
                "scenario_id, source, imported_at, record_json) VALUES ('c-x', 't', 's', 'x', "
                "'f', '2026', '{}')"
            )
            assert "without its chain hash refused" in refused(conn, statement)
        if postgres:  # an upsert is an UPDATE
            assert "append-only: UPDATE refused" in refused(
                conn,
                "INSERT INTO meta (key, value) VALUES ('store_version', '9') "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
    with LabelStore.open(location) as store:
        report = store.verify()
        assert report.ok, report.problems
        assert (report.events, report.conversations) == (store.count_events(), 6)


def run(cli, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_sqlite_and_postgres_resolve_the_same_labels(
    cli, tmp_path, records_file, postgres_dsn
) -> None:
    """The same imports and operator stream give the same resolved labels, records and
    history on both backends (text sorts bytewise on both)."""
    _, recs = records_file
    stream = write_jsonl(tmp_path / "ops.jsonl", operator_stream(recs, review_others=True))
    outputs = {}
    for name, location in (("sqlite", tmp_path / "labels.sqlite"), ("postgres", postgres_dsn)):
        store = where(imported(cli, location, records_file))
        assert "30 event(s) stored" in run(cli, "labels", "ingest", str(stream), "--store", store)
        assert "0 event(s) stored, 30 already" in run(
            cli, "labels", "ingest", str(stream), "--store", store
        )
        labels, records = tmp_path / f"{name}-labels.jsonl", tmp_path / f"{name}-records.jsonl"
        run(
            cli,
            "labels",
            "resolve",
            "--store",
            store,
            "--out",
            str(labels),
            "--records",
            str(records),
        )
        outputs[name] = (
            labels.read_text(),
            records.read_text(),
            run(cli, "labels", "history", "credit_card_debt-1", "--store", store, "--json"),
        )
        verified = json.loads(run(cli, "labels", "verify", "--store", store, "--json"))
        assert verified["ok"] and verified["events"] > 30
    assert outputs["sqlite"] == outputs["postgres"]
    assert outputs["sqlite"][0].count("\n") > 30


def test_tampering_behind_emosims_back_is_found_on_postgres(
    cli, records_file, postgres_dsn
) -> None:
    location = imported(cli, postgres_dsn, records_file)
    with raw(location) as conn:  # the tables' owner turns a guard off and rewrites a label
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        conn.execute("UPDATE events SET event_json = replace(event_json, 'anxiety', 'joy')")
        conn.execute("DROP TRIGGER turns_no_delete ON turns")
        conn.execute(
            "CREATE OR REPLACE FUNCTION emosim_chained_insert() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$"
        )
    result = cli.invoke(app, ["labels", "verify", "--store", location.url])
    assert result.exit_code == 1
    for problem in (
        "trigger events_no_update disabled",
        "trigger turns_no_delete missing",
        "function emosim_chained_insert rewritten",
        "hash does not match its content",
    ):
        assert problem in result.output
    assert "ALTERED" in result.output
    result = cli.invoke(app, ["labels", "resolve", "--store", location.url])
    assert result.exit_code == 1 and "the label history was altered" in result.output


def test_writers_at_once_store_each_event_once(cli, store_at, records_file) -> None:
    """Four writers resend overlapping batches at once: every event stored exactly once,
    one unbroken chain."""
    location = imported(cli, store_at, records_file)
    _, recs = records_file
    from emosim.catalog import get_catalog
    from emosim.labels.operators import read_operator_jsonl

    lines = operator_stream(recs, review_others=True)
    path = write_jsonl(Path(str(records_file[0]) + ".ops.jsonl"), lines)
    items = read_operator_jsonl(path)
    with LabelStore.open(location) as store:
        before = store.count_events()
    catalog, failures = get_catalog(), []

    def writer(k: int) -> None:
        try:
            with LabelStore.open(location, timeout=30) as store:
                for start in range(k % 2, len(items), 7):
                    store.append(items[start : start + 9], catalog)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with LabelStore.open(location) as store:
        assert store.count_events() == before + len(lines)
        ids = [e.event_id for e in store.events()]
        assert len(ids) == len(set(ids))
        assert store.verify().ok


def test_a_held_store_is_busy_not_stuck(cli, store_at, records_file) -> None:
    location = imported(cli, store_at, records_file)
    with LabelStore.open(location) as holder, LabelStore.open(location, timeout=0.3) as other:
        with holder._write(), pytest.raises(StoreBusy, match="busy"), other._write():
            pass
        with other._write():  # free again
            pass


def test_store_copy_round_trip_is_proven_equal(cli, tmp_path, records_file, postgres_dsn) -> None:
    _, recs = records_file
    source = imported(cli, tmp_path / "source.sqlite", records_file)
    stream = write_jsonl(tmp_path / "ops.jsonl", operator_stream(recs, review_others=False))
    run(cli, "labels", "ingest", str(stream), "--store", str(source))
    there = json.loads(run(cli, "store", "copy", str(source), postgres_dsn.url, "--json"))
    (tmp_path / "back").mkdir()
    back = json.loads(run(cli, "store", "copy", postgres_dsn.url, str(tmp_path / "back"), "--json"))
    assert there["events_head"] == back["events_head"] != ""
    assert there["tables"] == back["tables"]
    assert {t["table"]: t["rows"] for t in back["tables"]}["conversations"] == 6
    assert there["resolved_labels"] == back["resolved_labels"] > 0
    assert (tmp_path / "back" / "labels.sqlite").is_file()  # a folder means its labels.sqlite
    for store in (str(source), postgres_dsn.url, str(tmp_path / "back")):
        verified = json.loads(run(cli, "labels", "verify", "--store", store, "--json"))
        assert verified["head"] == there["events_head"]
    # the copy goes on as a store of its own: a new event chains after the copied head
    more = write_jsonl(tmp_path / "more.jsonl", operator_stream(recs, review_others=True))
    assert "event(s) stored" in run(cli, "labels", "ingest", str(more), "--store", postgres_dsn.url)
    assert json.loads(run(cli, "labels", "verify", "--store", postgres_dsn.url, "--json"))["ok"]

    again = cli.invoke(app, ["store", "copy", str(source), postgres_dsn.url])
    assert again.exit_code == 1 and "is not empty" in again.output
    again = cli.invoke(app, ["store", "copy", postgres_dsn.url, str(source)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_a_tampered_store_is_not_copied(cli, tmp_path, records_file) -> None:
    source = imported(cli, tmp_path / "source.sqlite", records_file)
    with sqlite3.connect(source) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET action = 'accept' WHERE seq = 1")
    result = cli.invoke(app, ["store", "copy", str(source), str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 1 and "altered" in result.output
    assert not (tmp_path / "copy.sqlite").exists()


def test_emosim_store_setting_selects_the_store(cli, monkeypatch, store_at, records_file) -> None:
    location = imported(cli, store_at, records_file)
    monkeypatch.setenv("EMOSIM_STORE", where(location))
    out = json.loads(run(cli, "labels", "verify", "--json"))
    assert out["ok"] and out["conversations"] == 6 and out["store"] == str(location)


def test_dsn_is_never_printed_with_its_password(cli) -> None:
    dsn = parse_location("postgresql://ana:s3cret@127.0.0.1:1/labels?options=-csearch_path%3Dx")
    assert isinstance(dsn, Dsn) and dsn.schema == "x"
    assert str(dsn) == "postgresql://ana:***@127.0.0.1:1/labels?options=-csearch_path%3Dx"
    result = cli.invoke(app, ["labels", "verify", "--store", dsn.url])
    assert result.exit_code == 1
    assert "cannot connect to PostgreSQL" in result.output and "ana:***@" in result.output
    assert "s3cret" not in result.output
    with pytest.raises(EmosimError, match="not a store"):
        parse_location("mysql://host/db")
    with pytest.raises(EmosimError, match="name the database"):
        parse_location("postgresql://")


def test_postgres_store_must_exist_for_reading(cli, postgres_dsn) -> None:
    result = cli.invoke(app, ["labels", "verify", "--store", postgres_dsn.url])
    assert result.exit_code == 1 and "no label store here" in result.output


def test_created_at_timestamps_round_trip(store_at, records_file) -> None:
    """Times are stored as text on both backends: an event read back is the event written."""
    _, recs = records_file
    from emosim.catalog import get_catalog

    with LabelStore.open(store_at, create=True) as store:
        store.import_records([("r", recs[0])], get_catalog())
        written = recs[0].label_events[0]
        (read,) = [e for e in store.events() if e.event_id == written.event_id]
        assert read == written
        assert datetime.now(UTC) - read.created_at < timedelta(days=3650)


def test_live_operator_endpoint_and_exports_read_a_postgres_store(
    cli, records_file, postgres_dsn, catalog
) -> None:
    """The operators' endpoint writes to the shared store, and `--labels DSN` applies it."""
    from fastapi.testclient import TestClient

    from emosim.labels.apply import apply_labels, store_option
    from emosim.labels.server import create_app

    location = imported(cli, postgres_dsn, records_file)
    _, recs = records_file
    http = TestClient(create_app(location, "t0ken", catalog))
    cid = recs[0].id
    turn = recs[0].client_turns[0].index
    event = {"conversation_id": cid, "turn_index": turn, "field": "emotion", "value": "shame",
             "operator": "op_ana", "event_id": "op-http-1"}  # fmt: skip
    headers = {"Authorization": "Bearer t0ken"}
    response = http.post("/v1/events", json=event, headers=headers)
    assert response.status_code == 201 and response.json()["stored"] == ["op-http-1"]
    again = http.post("/v1/events", json=event, headers=headers)
    assert again.json()["already_stored"] == ["op-http-1"]
    labels = http.get(f"/v1/conversations/{cid}/labels", headers=headers).json()
    assert any(r["value"] == "shame" and r["source"]["kind"] == "live_operator" for r in labels)

    fixed, applied = apply_labels(recs, [], store_option(location.url), catalog)
    assert applied.chosen_by == "--labels" and applied.stores[0].path == str(location)
    assert applied.labels_changed == 1 and applied.changed_by_field == {"emotion": 1}
    assert fixed[0].client_turns[0].annotation.primary == "shame"


def test_whole_table_reads_stream_from_the_server(cli, records_file, postgres_dsn) -> None:
    """Reading a whole Postgres table fetches it in batches (a server-side cursor), so a
    store of any size resolves and verifies in bounded memory, as on SQLite; other queries
    may run between fetches."""
    import psycopg

    from emosim.labels.backends.postgres import is_scan

    location = imported(cli, postgres_dsn, records_file)
    with LabelStore.open(location) as store:
        scan = store.conn.execute("SELECT conversation_id, event_json FROM events ORDER BY seq")
        assert isinstance(scan, psycopg.ServerCursor)
        first = scan.fetchone()
        assert store.count_events() > 1  # another query in between
        assert len([first, *scan]) == store.count_events()
    assert not is_scan("SELECT hash FROM events ORDER BY seq DESC LIMIT 1")
    assert not is_scan("SELECT COUNT(*) FROM events")
    assert not is_scan("SELECT text FROM turns WHERE conversation_id = ?")


def test_observer_retrains_from_a_postgres_store(cli, tmp_path, postgres_dsn, scripted_run):
    """`observer train --from-store DSN` reads the same training set as from SQLite."""
    from emosim.catalog import get_catalog
    from emosim.labels.training import read_training_set
    from tests.test_observer_retrain import _store

    catalog, base = get_catalog(), scripted_run[1][0]
    on_sqlite = read_training_set(_store(tmp_path / "l.sqlite", base, catalog), "emotion")
    on_postgres = read_training_set(_store(postgres_dsn, base, catalog), "emotion")
    assert on_postgres.examples == on_sqlite.examples and len(on_sqlite.examples) == 50
    assert on_postgres.sha256 == on_sqlite.sha256
    args = ["observer", "train", "--from-store", postgres_dsn.url, "--no-public", "--no-measure"]
    refused = cli.invoke(app, args)
    assert refused.exit_code == 1 and "--out: name the model file" in refused.output
    out = tmp_path / "emotion-observer.npz"
    result = cli.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store_labels"] == 50 and out.is_file()
