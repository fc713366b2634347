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
