"""The `emosim` command line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from . import __version__
from .console import PeopleConsole
from .errors import EmosimError
from .labels import LABELS_HELP

app = typer.Typer(
    name="emosim",
    help="Simulate emotionally-aware financial-planning conversations as LoRA training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: wraps at any width and never cuts an option name or value short with "…"
    rich_markup_mode=None,
)
console = PeopleConsole()  # no markup unless asked, no table cell cut short
err_console = PeopleConsole(stderr=True, soft_wrap=True)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn EmosimError into one clear message and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EmosimError as exc:
            for line in str(exc).splitlines():  # user data in a message is never markup
                err_console.print(
                    f"[bold red]error:[/] {escape(line)}", highlight=False, markup=True
                )
            raise typer.Exit(1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"emosim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain",
            envvar="EMOSIM_DOMAIN",
            help="Data domain: 'finance' (default) or a folder under domains/ (e.g. telecom) "
            "or a path; its files are laid over the project's.",
        ),
    ] = None,
) -> None:
    """emosim command line."""
    if domain is not None:  # every catalog of this process, and its worker processes
        import os

        os.environ["EMOSIM_DOMAIN"] = domain


@app.command()
@user_errors
def validate(
    paths: Annotated[
        list[Path], typer.Argument(help="Records (.json/.jsonl) or data files/folders.")
    ],
) -> None:
    """Validate records, personas, taxonomies and scenarios, including cross-references."""
    from .catalog import get_catalog
    from .validate import validate_paths

    report = validate_paths(paths, get_catalog())
    if not report.ok:
        raise EmosimError("\n".join(report.problems))
    console.print(f"[green]ok[/]: {report.checked} file(s)/record(s) valid", markup=True)


@app.command()
@user_errors
def schema(
    out: Annotated[Path, typer.Option(help="Folder for the JSON Schema files.")] = Path("schemas"),
) -> None:
    """Write the published JSON Schema files, generated from the models."""
    from .files import ensure_folder
    from .schema_export import write_schemas

    for path in write_schemas(ensure_folder(out, "--out")):
        console.print(f"wrote {path}", soft_wrap=True)


@app.command()
@user_errors
def docs(
    out: Annotated[Path, typer.Option(help="Folder for the generated documents.")] = Path("docs"),
) -> None:
    """Generate the taxonomy, strategy, persona and data-dictionary documents."""
    from .catalog import get_catalog
    from .docs import write_docs
    from .files import ensure_folder

    for path in write_docs(get_catalog(), ensure_folder(out, "--out")):
        console.print(f"wrote {path}", soft_wrap=True)


@app.command()
@user_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (simulations/*.yaml).")],
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    backend: Annotated[
        str, typer.Option(help="Agent backend spec (see `emosim backends show`).")
    ] = "scripted",
    observer: Annotated[
        str, typer.Option(help="Emotion observer: lexicon or classifier.")
    ] = "lexicon",
    strategy_observer: Annotated[
        str,
        typer.Option(
            help="Strategy observer: lexicon or trained (ESConv model; its labels inherit "
            "CC BY-NC 4.0)."
        ),
    ] = "lexicon",
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    details: Annotated[bool, typer.Option(help="Show sentence functions and objectives.")] = False,
) -> None:
    """Play one scenario through the simulation graph and write a run folder."""
    from .catalog import get_catalog
    from .graphs.runner import load_job, observer_spec, run_jobs
    from .render import print_conversation

    observer = observer_spec(observer, strategy_observer)
    catalog = get_catalog()
    job = load_job(catalog, scenario, seed)
    run_folder, records = run_jobs(
        catalog,
        [job],
        runs_dir,
        backend,
        label=job.scenario.id,
        command=" ".join(sys.argv),
        observer=observer,
    )
    for record in records:
        print_conversation(console, record, details=details)
    console.print(
        f"record: [bold]{escape(str(run_folder.records_path))}[/]", soft_wrap=True, markup=True
    )


@app.command()
@user_errors
def demo(
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    count: Annotated[int, typer.Option(min=1, help="How many shipped scenarios to play.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Play a few shipped scenarios on the offline scripted backend and show them."""
    from .catalog import get_catalog
    from .graphs.runner import load_job, run_jobs
    from .paths import data_dir
    from .render import print_conversation, scores_table

    catalog = get_catalog()
    paths = sorted(data_dir("simulations").glob("*.yaml"))
    if not paths:
        raise EmosimError(f"no scenario files in {data_dir('simulations')}")
    step = max(1, len(paths) // count)
    chosen = paths[::step][:count]
    jobs = [load_job(catalog, p, seed) for p in chosen]
    run_folder, records = run_jobs(
        catalog, jobs, runs_dir, "scripted", label="demo", command=" ".join(sys.argv)
    )
    for record in records:
        print_conversation(console, record)
    console.print(scores_table(records))
    console.print(
        f"records: [bold]{escape(str(run_folder.records_path))}[/]", soft_wrap=True, markup=True
    )


seed_app = typer.Typer(help="Hand-annotated seed conversations.", no_args_is_help=True)
app.add_typer(seed_app, name="seed")


@seed_app.command("compile")
@user_errors
def seed_compile(
    sources: Annotated[
        list[Path] | None, typer.Argument(help="Seed sources (default: seeds/src/*.yaml).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the compiled records.")] = Path("seeds"),
) -> None:
    """Compile authored seed YAML into complete, validated records (seeds/*.json)."""
    from .catalog import get_catalog
    from .paths import data_dir
    from .seeds import compile_seeds

    paths = sources or sorted((data_dir("seeds") / "src").glob("*.yaml"))
    if not paths:
        raise EmosimError("no seed sources given and none in seeds/src/")
    from .files import ensure_folder

    for path in compile_seeds(get_catalog(), paths, ensure_folder(out, "--out")):
        console.print(f"wrote {path}", soft_wrap=True)


@app.command()
@user_errors
def show(
    source: Annotated[
        str, typer.Argument(help="A run folder, a run id, or a .json/.jsonl record file.")
    ],
    conversation: Annotated[str | None, typer.Option(help="Only this conversation id.")] = None,
    details: Annotated[bool, typer.Option(help="Sentence functions and objectives.")] = True,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are looked up by id.")] = Path(
        "runs"
    ),
    labels: Annotated[str | None, typer.Option("--labels", help=LABELS_HELP)] = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Show at most this many conversations (0: all).")
    ] = 20,
) -> None:
    """Render conversations with emotions, strategies, sentence functions and critic calls.

    Labels are resolved with the label store beside the records (see --labels)."""
    from pydantic import ValidationError

    from .catalog import get_catalog
    from .files import format_validation_error, iter_json_documents
    from .labels.apply import apply_labels, store_option
    from .render import print_conversation
    from .reports.loading import records_file
    from .schemas import ConversationRecord

    path = records_file(source, runs_dir)
    option = store_option(labels)
    records = []
    for where, doc in iter_json_documents(path):
        try:
            record = ConversationRecord.model_validate(doc)
        except ValidationError as exc:
            raise EmosimError("\n".join(format_validation_error(exc, where))) from None
        if conversation and record.id != conversation:
            continue
        records.append(record)
    if not records:
        raise EmosimError(
            f"{path}: no conversation {conversation!r}" if conversation else f"{path}: no records"
        )
    total = len(records)
    if limit and total > limit:
        records = records[:limit]
    records, applied = apply_labels(records, [path], option, get_catalog())
    for record in records:
        print_conversation(console, record, details=details)
    console.print(applied.describe())
    if len(records) < total:
        console.print(
            f"showed {len(records)} of {total} conversations (--limit 0 for all, "
            "--conversation ID for one)"
        )


# --- debugging: inspect, replay, fork, graph -------------------------------------------------


def _run_folder(run: str, runs_dir: Path):  # noqa: ANN202
    from .runs import RunFolder

    return RunFolder.open(runs_dir, run)


def _print_json(obj: Any) -> None:
    import json

    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


@app.command()
@user_errors
def inspect(
    run: Annotated[str, typer.Argument(help="Run id (under --runs-dir) or run folder.")],
    conversation: Annotated[str | None, typer.Argument(help="Conversation id.")] = None,
    at: Annotated[
        str | None, typer.Option(help="Show the state at this checkpoint (step or id).")
    ] = None,
    diff: Annotated[
        tuple[str, str] | None, typer.Option(help="Show what changed between two checkpoints.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """List a run's conversations, a conversation's checkpoints, or the state at one of them."""
    from rich.table import Table

    from .catalog import get_catalog
    from .debugging import RunInspector
    from .debugging import diff as diff_values

    inspector = RunInspector(get_catalog(), _run_folder(run, runs_dir))
    if conversation is None:
        records = inspector.records()
        rows = [
            {
                "conversation": cid,
                "scenario": j["scenario_id"],
                "seed": j["seed"],
                "status": records[cid].outcome.status if cid in records else "unfinished",
                "exchanges": len(records[cid].advisor_turns) if cid in records else None,
            }
            for cid, j in inspector.jobs.items()
        ]
        if as_json:
            _print_json(rows)
            return
        console.print(f"run {inspector.run.run_id}", soft_wrap=True)
        table = Table()
        cols = ["conversation", "scenario", "seed", "status", "exchanges"]
        widest = max((len(r["conversation"]) + len(r["scenario"]) for r in rows), default=0)
        if widest + 50 > console.width:  # ids stay whole: the scenario is the id's prefix
            cols.remove("scenario")
        for col in cols:  # a fork's id is longer than any column: it folds, whole
            header = "exch." if col == "exchanges" else col
            table.add_column(header, overflow="fold", no_wrap=col != "conversation")
        for r in rows:
            table.add_row(*(str(r[c]) for c in cols))
        console.print(table)
        return
    if diff:
        a = inspector.state_at(conversation, diff[0])
        b = inspector.state_at(conversation, diff[1])
        changes = diff_values(
            {"values": a["values"], "turns": a["turns"]},
            {"values": b["values"], "turns": b["turns"]},
        )
        if as_json:
            _print_json([{"path": p, "before": x, "after": y} for p, x, y in changes])
            return
        table = Table(
            title=f"{conversation}: step {a['step']} ({a['node']}) -> step {b['step']} ({b['node']})"
        )
        for col in ("path", "before", "after"):
            table.add_column(col, overflow="fold")
        for p, x, y in changes:
            table.add_row(p, _short(x), _short(y))
        console.print(table if changes else "no differences")
        return
    if at is not None:
        state = inspector.state_at(conversation, at)
        if as_json:
            _print_json(state)
            return
        console.print(
            f"[bold]{escape(conversation)}[/] step {state['step']} after "
            f"[bold]{escape(str(state['node']))}[/], "
            f"next: {escape(', '.join(state['next']) or 'end')} ({state['checkpoint']})",
            markup=True,
        )
        table = Table(show_header=True)
        table.add_column("field", overflow="fold")
        table.add_column("value", overflow="fold")
        for key, value in state["values"].items():
            table.add_row(key, _short(value, 300))
        console.print(table)
        for turn in state["turns"]:
            console.print(
                f"  [dim]turn {turn['index']} {escape(str(turn['speaker']))}:[/] "
                f"{escape(turn['text'][:160])}",
                markup=True,
            )
        return
    history = inspector.history(conversation)
    if as_json:
        _print_json(
            [
                {
                    "step": c.step,
                    "checkpoint": c.checkpoint_id,
                    "node": c.node,
                    "next": list(c.next),
                    "exchange": c.exchange,
                    "turns": c.turn_count,
                    "created_at": c.created_at,
                }
                for c in history
            ]
        )
        return
    if console.width < 110:  # narrow: one line per checkpoint, its id whole at a fixed place
        console.print(f"[bold]{escape(conversation)}[/]: {len(history)} checkpoints", markup=True)
        console.print("step checkpoint                           after → next (exchange,turns)")
        for c in history:  # within 80 characters: 41 for step and id, 39 for the rest
            console.print(
                f"{c.step:>4} {c.checkpoint_id} {c.node} → {','.join(c.next) or 'end'}"
                f" ({c.exchange or '-'},{c.turn_count})",
                highlight=False,
            )
        return
    table = Table(title=f"{conversation}: {len(history)} checkpoints")
    for col in ("step", "after node", "exchange", "turns", "next", "time", "checkpoint"):
        table.add_column(col, no_wrap=col in ("step", "checkpoint"))
    for c in history:
        table.add_row(
            str(c.step),
            c.node,
            str(c.exchange or ""),
            str(c.turn_count),
            ",".join(c.next) or "end",
            c.created_at[11:23],
            c.checkpoint_id,
        )
    console.print(table)


def _short(value: Any, limit: int = 120) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
@user_errors
def replay(
    run: Annotated[str, typer.Argument(help="Run id or folder.")],
    conversation: Annotated[str, typer.Argument(help="Conversation id.")],
    from_checkpoint: Annotated[
        str | None, typer.Option("--from", help="Checkpoint (step or id); default: the start.")
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """Re-execute a conversation from a checkpoint with recorded answers and compare."""
    from .catalog import get_catalog
    from .debugging import replay as do_replay

    result = do_replay(get_catalog(), _run_folder(run, runs_dir), conversation, from_checkpoint)
    if result.identical:
        console.print(
            f"[green]identical[/]: replay of {escape(conversation)} from "
            f"{escape(str(result.from_checkpoint))} "
            "reproduces the recorded conversation (model calls: 0)",
            markup=True,
        )
        return
    from rich.table import Table

    table = Table(title=f"replay of {conversation} diverged in {len(result.differences)} place(s)")
    for col in ("path", "recorded", "replayed"):
        table.add_column(col, overflow="fold")
    for p, x, y in result.differences[:50]:
        table.add_row(p, _short(x), _short(y))
    console.print(table)
    raise typer.Exit(2)


@app.command()
@user_errors
def fork(
    run: Annotated[str, typer.Argument(help="Run id or folder.")],
    conversation: Annotated[str, typer.Argument(help="Conversation id.")],
    at: Annotated[str, typer.Option(help="Checkpoint to fork from (step or id).")],
    set_: Annotated[
        list[str], typer.Option("--set", help="PATH=VALUE, e.g. hidden.emotion=anger.")
    ],
    backend: Annotated[str | None, typer.Option(help="Backend for the continuation.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """Change the state at a checkpoint and continue into a new conversation."""
    from .catalog import get_catalog
    from .debugging import fork as do_fork
    from .debugging import parse_sets
    from .render import print_conversation

    record = do_fork(
        get_catalog(), _run_folder(run, runs_dir), conversation, at, parse_sets(set_), backend
    )
    print_conversation(console, record)
    console.print(
        f"forked conversation [bold]{escape(record.id)}[/] (parent {escape(conversation)}, "
        f"checkpoint {escape(str(record.lineage.fork_checkpoint))})",
        markup=True,
    )


@app.command()
@user_errors
def graph(
    fmt: Annotated[str, typer.Option("--format", help="mermaid or ascii.")] = "mermaid",
) -> None:
    """Draw the simulation graph (offline)."""
    from .debugging import draw

    typer.echo(draw(fmt))


@app.command()
@user_errors
def batch(
    source: Annotated[
        Path | None, typer.Argument(help="Plan file, scenario file or folder of scenarios.")
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="Seeds for scenario files: N, A-B or a,b,c.")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Conversations in flight (default 4; 256 with --message-batches)."),
    ] = None,
    backend: Annotated[str, typer.Option(help="Agent backend spec.")] = "scripted",
    observer: Annotated[
        str, typer.Option(help="Emotion observer: lexicon or classifier.")
    ] = "lexicon",
    strategy_observer: Annotated[
        str,
        typer.Option(
            help="Strategy observer: lexicon or trained (ESConv model; its labels inherit "
            "CC BY-NC 4.0)."
        ),
    ] = "lexicon",
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    resume: Annotated[
        str | None, typer.Option(help="Finish an interrupted batch run (id or folder).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show the model calls, tokens and cost the batch would take; play nothing.",
        ),
    ] = False,
    message_batches: Annotated[
        bool,
        typer.Option(
            "--message-batches",
            help="Send Claude calls through the Message Batches API (half price, asynchronous).",
        ),
    ] = False,
    executor: Annotated[
        str,
        typer.Option(help="What plays the conversations: threads (this process) or ray."),
    ] = "threads",
    address: Annotated[
        str | None,
        typer.Option(help="With --executor ray: the cluster (host:port; default a local one)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="With --executor ray: worker processes (default: the cluster's CPUs)."),
    ] = None,
) -> None:
    """Run many conversations into one run folder; resumable after any interruption."""
    from .batch import (
        jobs_from,
        jobs_of_run,
        parse_seeds,
        repair_records_readonly,
        start_batch,
    )
    from .catalog import get_catalog
    from .executors import executor_for
    from .graphs.runner import observer_spec
    from .runs import RunFolder

    observer = observer_spec(observer, strategy_observer)
    chosen = executor_for(executor, address, workers, message_batches)
    catalog = get_catalog()
    if dry_run:
        from .commands.backends import print_estimate

        if resume:
            run_folder = RunFolder.open(runs_dir, resume)
            done = repair_records_readonly(run_folder)
            jobs = [j for j in jobs_of_run(run_folder) if j.conversation_id not in done]
            backend = run_folder.manifest().get("backend", backend)
        elif source is None:
            raise EmosimError("batch: give a plan, scenario file or folder, or --resume RUN")
        else:
            jobs = jobs_from(catalog, source, parse_seeds(seeds) if seeds is not None else None)
        print_estimate(catalog, jobs, backend, message_batches)
        return
    if concurrency is not None and concurrency < 1:
        raise EmosimError(f"--concurrency: must be at least 1, got {concurrency}")
    if resume:
        run_folder = RunFolder.open(runs_dir, resume)
        jobs = jobs_of_run(run_folder)
        backend = run_folder.manifest().get("backend", backend)
        observer = run_folder.manifest().get("observer", observer)
        message_batches = bool(run_folder.manifest().get("message_batches", message_batches))
    elif source is None:
        raise EmosimError("batch: give a plan, scenario file or folder, or --resume RUN")
    else:
        jobs = jobs_from(catalog, source, parse_seeds(seeds) if seeds is not None else None)
        run_folder = start_batch(
            catalog,
            jobs,
            runs_dir,
            backend,
            "batch",
            " ".join(sys.argv),
            observer,
            message_batches=message_batches,
        )
    if concurrency is None:
        concurrency = 256 if message_batches else 4
    try:
        with run_folder.lock(" ".join(["emosim", *sys.argv[1:]])):
            _play_batch(
                catalog, run_folder, jobs, backend, concurrency, observer, message_batches, chosen
            )
    except KeyboardInterrupt:
        err_console.print(
            f"[yellow]interrupted[/]: finished conversations are saved; resume with\n"
            f"  emosim batch --resume {escape(str(run_folder.path))}",
            highlight=False,
            soft_wrap=True,
            markup=True,
        )
        raise typer.Exit(130) from None


def _play_batch(
    catalog: Any,
    run_folder: Any,
    jobs: list[Any],
    backend: str,
    concurrency: int,
    observer: str,
    message_batches: bool,
    executor: Any = None,
) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .batch import run_batch

    console.print(
        f"run [bold]{escape(run_folder.run_id)}[/]: {len(jobs)} conversation(s), "
        f"concurrency {concurrency}",
        markup=True,
    )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("conversations", total=len(jobs), failed=0)
        failed = 0

        def advance(record) -> None:  # noqa: ANN001
            nonlocal failed
            failed += record.outcome.status == "failed"
            progress.update(task, advance=1, failed=failed)

        result = run_batch(
            catalog,
            run_folder,
            jobs,
            backend=backend,
            concurrency=concurrency,
            observer=observer,
            on_record=advance,
            message_batches=message_batches,
            executor=executor,
        )
        progress.update(task, completed=result.skipped + result.completed)
    console.print(
        f"{result.completed} played, {result.skipped} already done, {result.failed} failed; "
        f"records: [bold]{escape(str(run_folder.records_path))}[/]",
        soft_wrap=True,
        markup=True,
    )
    if result.rounds is not None:
        rounds = result.rounds
        console.print(
            f"Message Batches: {len(rounds)} round(s), {sum(rounds)} request(s), "
            f"{max(rounds, default=0)} at most in one round; priced at the batch discount"
        )


def _register_command_areas() -> None:
    import importlib

    from .commands import AREAS

    for area in AREAS:
        importlib.import_module(f"emosim.commands.{area}")


_register_command_areas()
