"""`emosim store ...`: moving a label store or a run between SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emosim.cli import app, console, user_errors

store_app = typer.Typer(
    help="Label stores and runs on SQLite (a file) or PostgreSQL (postgresql://USER@HOST/DB).",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")


@store_app.command("copy")
@user_errors
def store_copy(
    source: Annotated[
        str,
        typer.Argument(
            help="Label store to copy: a SQLite file or folder, or a DSN. With --run: a run "
            "(folder, or id under --runs-dir)."
        ),
    ],
    target: Annotated[
        str,
        typer.Argument(
            help="A new store: a SQLite file that does not exist yet, or a DSN whose database "
            "(or schema, ?options=-csearch_path%3DNAME) holds no tables. With --run: a DSN "
            "(the run's checkpoints go there) or a new run folder (its own SQLite file)."
        ),
    ],
    run: Annotated[
        bool, typer.Option("--run", help="SOURCE is a run: copy its checkpoints and ledger.")
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option(
            help="With --run and a DSN: the new run folder (default: SOURCE-postgres beside it)."
        ),
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run ids are looked up.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Copy a label store or a run into a new one (SQLite -> PostgreSQL or back), then prove
    them equal.

    A label store's rows are copied as stored, keys, times and hashes included, so the copy
    verifies with the same chain heads. Afterwards every table is compared row for row, both
    hash chains are recomputed and every label is resolved on both sides.

    A run (--run) becomes a new run folder with the same files; its checkpoints (same ids,
    states and pending writes) and turn ledger go to the target. Afterwards every checkpoint,
    ledger row and file is compared, and each stored record with its records line. Any
    difference exits 1 and leaves no copy.
    """
    if run:
        _copy_run(source, target, folder, runs_dir, as_json)
        return
    from emosim.labels.store import store_path_for
    from emosim.storage.copy import copy_store

    report = copy_store(store_path_for(source), store_path_for(target, ()))
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    table = Table(
        title=f"{escape(report.source)} -> {escape(report.target)}: equal", title_justify="left"
    )
    for col in ("table", "rows", "sha256 (both sides)"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for check in report.tables:
        table.add_row(check.table, f"{check.rows:,}", check.sha256[:16])
    console.print(table)
    console.print(
        f"event head {report.events_head or '(no events)'}\n"
        f"conversation head {report.conversations_head or '(none)'}\n"
        f"{report.resolved_labels:,} resolved label(s), the same on both sides "
        f"(sha256 {report.resolved_sha256[:16]}); {report.seconds:.1f} s"
    )


def _copy_run(source: str, target: str, folder: Path | None, runs_dir: Path, as_json: bool) -> None:
    from emosim.errors import EmosimError
    from emosim.runs import RunFolder
    from emosim.storage.location import Dsn, parse_location
    from emosim.storage.runcopy import copy_run

    origin = RunFolder.open(runs_dir, source)
    where = parse_location(target, "TARGET")
    if isinstance(where, Dsn):
        new = folder or origin.path.with_name(f"{origin.path.name}-postgres")
    else:
        if folder is not None:
            raise EmosimError("--folder: only with a DSN target (TARGET is the new folder here)")
        new = where
    report = copy_run(origin.path, new, where if isinstance(where, Dsn) else None)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    console.print(
        f"{escape(report.source)} -> {escape(report.target)}: equal\n"
        f"run folder {escape(report.folder)}: {len(report.files)} file(s) equal\n"
        f"{report.conversations:,} conversation(s), {report.checkpoints:,} checkpoint(s), "
        f"{report.writes:,} pending write(s) (sha256 {report.checkpoints_sha256[:16]}); "
        f"{report.turns:,} turn(s) and {report.records:,} record(s) in the ledger (sha256 "
        f"{report.ledger_sha256[:16]}); {report.seconds:.1f} s",
        soft_wrap=True,
        highlight=False,
    )
