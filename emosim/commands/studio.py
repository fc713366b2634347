"""`emosim studio`: LangGraph Studio on this project, optionally with a run's conversations."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from emosim.cli import app, console, user_errors


@app.command()
@user_errors
def studio(
    run: Annotated[
        str | None,
        typer.Argument(help="A run id (under --runs-dir) or run folder to open as threads."),
    ] = None,
    conversation: Annotated[
        list[str] | None, typer.Option(help="Only this conversation (repeatable).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface the dev server binds.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the dev server.")] = 2024,
    server: Annotated[
        str | None,
        typer.Option(help="URL of a running `langgraph dev` to open the run in (starts none)."),
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are looked up by id.")] = Path(
        "runs"
    ),
) -> None:
    """Start `langgraph dev` for LangGraph Studio; with RUN, its conversations become threads
    (one checkpoint per step, as played) that Studio can step through, edit and continue."""
    from emosim.catalog import get_catalog
    from emosim.paths import project_root
    from emosim.runs import RunFolder
    from emosim.studio.server import STUDIO, dev_server, open_run

    folder = RunFolder.open(runs_dir, run) if run else None
    catalog = get_catalog() if folder else None

    def show(url: str) -> None:
        if folder is not None and catalog is not None:
            for item in open_run(url, catalog, folder, conversation):
                note = "opened" if item.new else "already open"
                console.print(
                    f"{note}: {item.conversation} -> thread {item.thread_id} "
                    f"({item.checkpoints} checkpoints, {item.status})",
                    soft_wrap=True,
                )
        console.print(f"Studio: {STUDIO.format(url=url)}")

    if server:
        show(server.rstrip("/"))
        return
    with dev_server(project_root(), host, port) as proc:
        show(f"http://{host}:{port}")
        console.print("serving; Ctrl-C stops the server")
        with contextlib.suppress(KeyboardInterrupt):  # the server stops on the way out
            proc.wait()
