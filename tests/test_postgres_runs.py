"""Runs on PostgreSQL: the store setting puts a run's checkpoints and ledger there, every
command that reads a run works on it, and `store copy --run` moves a run SQLite <-> Postgres,
proven equal. Skips without a server (scripts/postgres-dev.sh starts one; .ci/run does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emosim.batch import jobs_from, parse_seeds, run_batch, start_batch
from emosim.catalog import Catalog
from emosim.cli import app
from emosim.debugging import strip_volatile
from emosim.errors import EmosimError
from emosim.graphs.runner import load_job, run_jobs
from emosim.runs import RunFolder
from emosim.storage import runcopy
from emosim.storage.location import Dsn
from emosim.storage.runcopy import copy_run, store_digest
from emosim.storage.runs import open_run_storage, read_storage

SCENARIO = "investing_shame_first_steps.yaml"


@pytest.fixture()
def pg_run(postgres_dsn: Dsn, catalog: Catalog, root: Path, tmp_path: Path, monkeypatch):
    """A finished scripted run whose checkpoints are in Postgres (the setting in the env)."""
    monkeypatch.setenv("EMOSIM_STORE", postgres_dsn.url)
    job = load_job(catalog, root / "simulations" / SCENARIO, 3)
    run, records = run_jobs(catalog, [job], tmp_path / "runs", "scripted", "pg", "pytest")
    return run, records


def test_the_setting_puts_checkpoints_in_postgres_and_no_password_in_the_folder(
    pg_run, postgres_dsn: Dsn, monkeypatch
) -> None:
    run, (record,) = pg_run
    assert not run.checkpoints_path.exists()
    storage = read_storage(run.path)
    assert storage.postgres and storage.key == run.run_id
    assert storage.schema == f"{postgres_dsn.schema}_runs"
    password = postgres_dsn.url.split("@")[0].rpartition(":")[2]
    folder_text = "".join(p.read_text() for p in run.path.iterdir() if p.is_file())
    assert f":{password}@" not in folder_text
    # the seam for workers away from the folder: a DSN and the run's key
    with open_run_storage(postgres_dsn, run.run_id, create=False) as store:
        assert store.conversations() == [record.id]
        assert len(store.ledger.turns(record.id, 999)) == len(record.turns)
        assert json.loads(store.ledger.record(record.id))["id"] == record.id
    # another process opens the folder with the setting; without it, the run's address has
    # no password: one clear error, no traceback
    with RunFolder(run.path).open_store(create=False) as store:
        assert store.conversations() == [record.id]
    monkeypatch.delenv("EMOSIM_STORE")
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(EmosimError, match=r"cannot connect for run .*EMOSIM_STORE"):
        RunFolder(run.path).open_store(create=False)


def test_every_reading_command_works_on_a_postgres_run(
    pg_run, cli, tmp_path: Path, catalog: Catalog
) -> None:
    run, (record,) = pg_run
    folder = str(run.path)
    for argv in (  # the label store at the same DSN first: show, report, export read it
        ["labels", "import", folder],
        ["show", folder, "--limit", "1"],
        ["inspect", folder],
        ["inspect", folder, record.id, "--json"],
        ["inspect", folder, record.id, "--at", "5", "--json"],
        ["replay", folder, record.id, "--from", "9"],
        ["export", folder, "-f", "openai-chat", "-o", str(tmp_path / "export")],
        ["fork", folder, record.id, "--at", "12", "--set", "hidden.emotion=anger"],
    ):
        result = cli.invoke(app, argv)
        assert result.exit_code == 0, (argv, result.output)
    assert "identical" in cli.invoke(app, ["replay", folder, record.id]).output
    # `report` reads the records as `show` does (13 s of plots left out here); its preference
    # review reopens the Postgres label store from the password-less name it was given
    from emosim.labels.apply import apply_labels, store_option
    from emosim.reports.write import _preferences

    fixed, applied = apply_labels([record], [run.records_path], store_option(None), catalog)
    assert applied.stores and applied.stores[0].path.startswith("postgresql://")
    _preferences(fixed, [folder], applied)  # read it as a file path before: "no label store"
    lines = run.records_path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["lineage"]["axis"] == "fork"


def test_copy_sqlite_run_to_postgres_and_back_is_equal(
    catalog: Catalog, root: Path, tmp_path: Path, postgres_dsn: Dsn, cli, monkeypatch
) -> None:
    monkeypatch.delenv("EMOSIM_STORE", raising=False)
    jobs = [load_job(catalog, root / "simulations" / SCENARIO, s) for s in (1, 2)]
    source, records = run_jobs(catalog, jobs, tmp_path / "runs", "scripted", "src", "pytest")
    there = tmp_path / "runs" / "on-postgres"
    result = cli.invoke(
        app, ["store", "copy", "--run", str(source.path), postgres_dsn.url, "--folder", str(there)]
    )
    assert result.exit_code == 0, result.output
    assert "equal" in result.output and "2 conversation(s)" in result.output
    assert read_storage(there).postgres and not (there / "checkpoints.sqlite").exists()
    back = tmp_path / "runs" / "back"
    monkeypatch.setenv("EMOSIM_STORE", postgres_dsn.url)  # the password, to read the copy
    result = cli.invoke(app, ["store", "copy", "--run", str(there), str(back), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["conversations"] == 2 and report["records"] == 2
    assert not read_storage(back).postgres
    # the round trip gives the source's checkpoints, ledger and files back
    stores = [RunFolder(p).open_store(create=False) for p in (source.path, there, back)]
    digests = [store_digest(s)[:2] for s in stores]
    for store in stores:
        store.close()
    assert digests[0] == digests[1] == digests[2]
    for name in ("conversations.jsonl", "manifest.json", "events.jsonl"):
        assert (back / name).read_bytes() == (source.path / name).read_bytes()
    # and the copy on Postgres plays on: a replay reproduces each conversation
    replayed = cli.invoke(app, ["replay", str(there), records[1].id])
    assert replayed.exit_code == 0 and "identical" in replayed.output, replayed.output
    # the folder's name is the run's key on the server: a second copy under it is refused,
    # and leaves nothing behind and the first copy whole
    elsewhere = tmp_path / "elsewhere" / "on-postgres"
    with pytest.raises(EmosimError, match="already holds a run 'on-postgres'"):
        copy_run(source.path, elsewhere, postgres_dsn)
    assert not elsewhere.exists()
    with pytest.raises(EmosimError, match="already exists"):
        copy_run(source.path, there, postgres_dsn)
    with RunFolder(there).open_store(create=False) as store:
        assert store_digest(store)[:2] == digests[1]


def test_a_copy_that_differs_is_refused_and_leaves_nothing(
    catalog: Catalog, root: Path, tmp_path: Path, postgres_dsn: Dsn, monkeypatch
) -> None:
    monkeypatch.delenv("EMOSIM_STORE", raising=False)
    job = load_job(catalog, root / "simulations" / SCENARIO, 4)
    source, _ = run_jobs(catalog, [job], tmp_path / "runs", "scripted", "src", "pytest")
    real = runcopy.copy_checkpoints

    def lossy(src, dst, conversations=None):  # noqa: ANN001, ANN202
        copied = real(src, dst, conversations)
        thread = dst.thread(job.conversation_id)
        newest = dst.saver.get_tuple({"configurable": {"thread_id": thread}})
        dst.saver.delete_thread(thread)  # one conversation's history lost in transit
        dst.saver.put(newest.parent_config or newest.config, newest.checkpoint, {}, {})
        return copied

    monkeypatch.setattr(runcopy, "copy_checkpoints", lossy)
    target = tmp_path / "runs" / "lossy"
    with pytest.raises(EmosimError, match="checkpoints differ"):
        copy_run(source.path, target, postgres_dsn)
    assert not target.exists()
    with pytest.raises(EmosimError, match="no such run"):
        open_run_storage(postgres_dsn, "lossy", create=False)


def test_a_threaded_batch_on_postgres_writes_the_sqlite_records(
    catalog: Catalog, root: Path, tmp_path: Path, postgres_dsn: Dsn, monkeypatch
) -> None:
    """Two conversations in flight on one Postgres connection give the records SQLite does."""
    jobs = jobs_from(catalog, root / "simulations" / SCENARIO, parse_seeds("1-3"))
    records = {}
    for name, setting in (("sqlite", None), ("postgres", postgres_dsn.url)):
        if setting:
            monkeypatch.setenv("EMOSIM_STORE", setting)
        else:
            monkeypatch.delenv("EMOSIM_STORE", raising=False)
        run = start_batch(catalog, jobs, tmp_path / name, "scripted", "b", "pytest")
        assert run.storage().postgres == bool(setting)
        result = run_batch(catalog, run, jobs, backend="scripted", concurrency=2)
        assert result.completed == 3
        records[name] = {
            json.loads(line)["id"]: strip_volatile(json.loads(line))
            for line in run.records_path.read_text().splitlines()
        }
    assert records["sqlite"] == records["postgres"]


def test_killed_between_a_turn_row_and_its_checkpoint_resumes_to_the_same_record(
    catalog: Catalog, root: Path, tmp_path: Path, runs_on
) -> None:
    """On each run store: a kill after a node wrote its turn row (committed with the node's
    saved writes on SQLite, by itself on Postgres) but before the checkpoint counting it. No
    checkpoint counts the row; the resumed node writes it again: the record is the one an
    uninterrupted play gives."""
    from emosim.graphs.runner import Simulator

    job = load_job(catalog, root / "simulations" / SCENARIO, 6)
    _, (reference,) = run_jobs(catalog, [job], tmp_path / "ref", "scripted", "ref", "pytest")
    run = RunFolder.create(tmp_path / "runs", "killed")
    assert run.storage().postgres == bool(runs_on)
    sim = Simulator(catalog, run)
    written = {"turns": 0, "kill_after": 5}
    real_write, real_put = sim.ledger._write_turn, sim.saver.put

    def write_turn(*args):  # noqa: ANN002, ANN202
        real_write(*args)
        written["turns"] += 1

    def put(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if written["turns"] == written["kill_after"]:
            raise KeyboardInterrupt("killed before the checkpoint")
        return real_put(*args, **kwargs)

    sim.ledger._write_turn, sim.saver.put = write_turn, put
    with run.events() as log, pytest.raises(KeyboardInterrupt):
        sim.play(job, log)
    sim.close()
    with run.open_store(create=False) as store:
        rows = [r for r in store.ledger.turn_rows() if r[0] == job.conversation_id]
    assert len(rows) == 5  # the fifth is stored, and no checkpoint counts it yet
    with run.open_store(create=False) as store:
        newest = store.saver.get_tuple(
            {"configurable": {"thread_id": store.thread(job.conversation_id)}}
        )
        assert newest.checkpoint["channel_values"]["work"]["turn_count"] == 4
    with Simulator(catalog, run) as sim, run.events() as log:
        resumed = sim.play(job, log)
    assert strip_volatile(resumed.model_dump(mode="json")) == strip_volatile(
        reference.model_dump(mode="json")
    )
