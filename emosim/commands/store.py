"""`emosim store ...`: moving a label store between SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emosim.cli import app, console, user_errors

store_app = typer.Typer(
    help="Label stores on SQLite (a file) or PostgreSQL (postgresql://USER@HOST/DB).",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")


@store_app.command("copy")
@user_errors
def store_copy(
    source: Annotated[
        str, typer.Argument(help="Label store to copy: a SQLite file or folder, or a DSN.")
    ],
    target: Annotated[
        str,
        typer.Argument(
            help="A new store: a SQLite file that does not exist yet, or a DSN whose database "
            "(or schema, ?options=-csearch_path%3DNAME) holds no tables."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Copy a label store into a new one (SQLite -> PostgreSQL or back), then prove them equal.

    Rows are copied as stored, keys, times and hashes included, so the copy verifies with the
    same chain heads. Afterwards every table is compared row for row, both hash chains are
    recomputed and every label is resolved on both sides; any difference exits 1.
    """
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
