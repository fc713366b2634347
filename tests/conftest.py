from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emosim.catalog import Catalog, get_catalog

ROOT = Path(__file__).resolve().parent.parent

# Wide, stable terminal for CLI output assertions (rich wraps at the detected width).
os.environ["COLUMNS"] = "200"
# A developer's shared store ($EMOSIM_STORE) must not receive the tests' labels.
os.environ.pop("EMOSIM_STORE", None)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog(ROOT)


@pytest.fixture()
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog):
    """One finished scripted run of a medium scenario, shared by read-only tests."""
    from emosim.graphs.runner import load_job, run_jobs

    runs = tmp_path_factory.mktemp("runs")
    job = load_job(catalog, ROOT / "simulations" / "investing_shame_first_steps.yaml", 11)
    run, records = run_jobs(catalog, [job], runs, "scripted", label="test", command="pytest")
    return run, records


@pytest.fixture()
def record_dict(scripted_run) -> dict:
    _, records = scripted_run
    return json.loads(records[0].model_dump_json())


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def copy_data(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


# a sentence cut off after a conjunction, punctuation run together, a doubled space, or a
# sentence that starts in lower case (not after an ellipsis, an initial or "e.g.")
BROKEN_TEXT = re.compile(
    r"\b(?:but|and|so)[.?!]|[?!,:][,.]|\.,|(?<!\.)\.\.(?!\.)|\s{2}"
    r"|(?<![.A-Z])(?<!e\.g)(?<!i\.e)[.!?] [a-z]"
)


NO_POSTGRES = "no PostgreSQL server: run scripts/postgres-dev.sh"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """$EMOSIM_TEST_POSTGRES_DSN when a server answers there; else the test skips."""
    dsn = os.environ.get("EMOSIM_TEST_POSTGRES_DSN", "").strip()
    if not dsn:
        pytest.skip(f"{NO_POSTGRES} and set EMOSIM_TEST_POSTGRES_DSN to the DSN it prints")
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.skip(f"{NO_POSTGRES} ({str(exc).strip().splitlines()[0]})")
    return dsn


@pytest.fixture()
def postgres_dsn(postgres_server: str):
    """A Dsn on a schema of this test's own, dropped afterwards."""
    import uuid

    import psycopg

    from emosim.storage.location import Dsn

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    glue = "&" if "?" in postgres_server else "?"
    yield Dsn(f"{postgres_server}{glue}options=-csearch_path%3D{schema}")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"DROP SCHEMA IF EXISTS {schema}_runs CASCADE")  # runs made on it


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def run_storage(request: pytest.FixtureRequest):
    """The store setting for runs, per backend: None (each run's own SQLite file) or a DSN
    on a schema of this module's own (Postgres: skips without a server)."""
    if request.param == "sqlite":
        yield None
        return
    import uuid

    import psycopg

    server = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    glue = "&" if "?" in server else "?"
    yield f"{server}{glue}options=-csearch_path%3D{schema}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema}_runs CASCADE")


@pytest.fixture()
def runs_on(run_storage, monkeypatch: pytest.MonkeyPatch):
    """Runs made or read in this test (and its subprocesses) use `run_storage`."""
    if run_storage is None:
        monkeypatch.delenv("EMOSIM_STORE", raising=False)
    else:
        monkeypatch.setenv("EMOSIM_STORE", run_storage)
    return run_storage


@pytest.fixture(params=["sqlite", "postgres"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path):
    """A new label store's location on each backend (Postgres: skips without a server)."""
    if request.param == "sqlite":
        return tmp_path / "labels.sqlite"
    return request.getfixturevalue("postgres_dsn")
