"""`emosim` commands: vary, lineage, plan, coverage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from emosim.cli import app, console, user_errors
from emosim.console import print_table_or_rows
from emosim.errors import EmosimError
from emosim.labels import LABELS_HELP


def _catalog():  # noqa: ANN202
    from emosim.catalog import get_catalog

    return get_catalog()


@app.command()
@user_errors
def vary(
    seed_file: Annotated[
        Path,
        typer.Argument(
            metavar="SEED", help="Scenario (simulations/*.yaml) or annotated record (seeds/*.json)."
        ),
    ],
    axis: Annotated[
        str,
        typer.Option(
            help="topic, emotion, strategy_context, intensity, persona or length.",
        ),
    ],
    n: Annotated[int, typer.Option("--n", help="How many variations.")] = 3,
    out: Annotated[
        Path, typer.Option(help="Folder for the scenario files (kept out of the repository).")
    ] = Path("runs") / "variations",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same variations.")] = 0,
) -> None:
    """Write variations of a seed along one axis as scenario files, with their lineage."""
    from emosim.variations import check_axis, load_seed, vary, write_scenarios

    check_axis(axis)
    catalog = _catalog()
    template = load_seed(catalog, seed_file)
    scenarios = vary(catalog, template, axis, n, seed)
    if not scenarios:
        raise EmosimError(f"{seed_file}: no variation along {axis!r} fits the catalog")
    folder = out
    header = f"Variation of {template.id} along {axis} (emosim vary --seed {seed})."
    paths = write_scenarios(catalog, scenarios, folder, header)
    console.print(f"{len(paths)} variation(s) of {template.id} along {axis}", soft_wrap=True)
    table = Table()
    for col in ("id", "topic / sub-category", "persona", "exchanges", "arc", "changed"):
        table.add_column(col, overflow="fold")
    for sc in scenarios:
        table.add_row(
            sc.id,
            f"{sc.topic} / {sc.subcategory}",
            sc.client_persona,
            str(sc.exchanges),
            " > ".join(f"{s.emotion} {s.intensity:g}" for s in sc.arc or []),
            ", ".join(f"{k}={v}" for k, v in sc.lineage.changed.items() if k != "arc"),
        )
    print_table_or_rows(console, table, heading=1)  # narrow: each id whole on its own line
    if len(scenarios) < n:
        console.print(
            f"[yellow]note:[/] only {len(scenarios)} distinct variation(s) along "
            f"{escape(axis)} exist for this seed (asked for {n})",
            markup=True,
        )
    console.print(f"wrote {len(paths)} file(s) to {folder}", soft_wrap=True)


@app.command()
@user_errors
def lineage(
    paths: Annotated[
        list[str],
        typer.Argument(help="Scenario files, records, run folders/ids, or folders of them."),
    ],
    graphml: Annotated[Path | None, typer.Option(help="Write the graph as GraphML.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run ids are looked up.")] = Path("runs"),
) -> None:
    """Show lineage families (seed -> variations -> conversations -> forks)."""
    from emosim.lineage import build_graph, read_sources, summarize, write_graphml

    sources = read_sources(paths, runs_dir, _catalog())
    graph = build_graph(sources.scenarios, sources.records)
    rows = summarize(graph)
    table = Table(title=f"{len(rows)} lineage famil{'y' if len(rows) == 1 else 'ies'}")
    for col in ("family (root seed)", "members", "scenarios", "records", "depth", "edges by axis"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            row.family,
            str(row.members),
            str(row.scenarios),
            str(row.records),
            str(row.max_depth),
            ", ".join(f"{k} {v}" for k, v in row.axes.items()),
        )
    console.print(table)
    console.print(
        f"{graph.number_of_nodes()} node(s), {graph.number_of_edges()} edge(s) from "
        f"{len(sources.scenarios)} scenario(s) and {len(sources.records)} record(s)"
    )
    if graphml:
        write_graphml(graph, graphml)
        console.print(f"wrote {graphml}", soft_wrap=True)


@app.command()
@user_errors
def plan(
    out: Annotated[Path, typer.Option(help="Plan file to write (YAML).")] = Path("runs")
    / "plan.yaml",
    targets: Annotated[
        Path | None, typer.Option(help="Coverage targets (default: targets.yaml).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Planner seed; job seeds follow from it.")] = 0,
) -> None:
    """Turn coverage targets into a scenario matrix (a plan for `emosim batch`)."""
    from emosim.coverage import default_targets_path, load_targets, make_plan
    from emosim.files import check_folder

    check_folder(out.parent, "--out")
    catalog = _catalog()
    targets_path = targets or default_targets_path()
    result = make_plan(catalog, load_targets(catalog, targets_path), seed)
    result.save(out)
    summary = result.summary
    assert summary is not None
    console.print(f"plan from {targets_path}", soft_wrap=True)
    table = Table()
    table.add_column("what")
    table.add_column("planned", justify="right")
    table.add_row("conversations", str(summary.conversations))
    for cls, number in summary.by_length_class.items():
        table.add_row(f"  {cls}", str(number))
    table.add_row("client turns (= advisor turns)", str(summary.client_turns))
    table.add_row("with boosted anti-pattern rate", str(summary.boosted_anti_pattern_rate))
    console.print(table)
    console.print(f"planned {summary.conversations} conversations; wrote {out}", soft_wrap=True)


def _status(ok: bool) -> Text:
    return Text("met", "green") if ok else Text("short", "red")


@app.command()
@user_errors
def coverage(
    inputs: Annotated[
        list[str], typer.Argument(metavar="RUN_OR_FILE...", help="Runs, record files or folders.")
    ],
    targets: Annotated[
        Path | None, typer.Option(help="Coverage targets (default: targets.yaml).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON.")
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run ids are looked up.")] = Path("runs"),
    diversity: Annotated[bool, typer.Option(help="Measure distinct-n and near-duplicates.")] = True,
    labels: Annotated[str | None, typer.Option("--labels", help=LABELS_HELP)] = None,
) -> None:
    """What the records cover against the targets, and how diverse they are.

    Observed labels are resolved with the label store beside the records (see --labels)."""
    from emosim.coverage import coverage_report, default_targets_path, load_targets
    from emosim.files import check_folder, write_text_atomic
    from emosim.labels.apply import apply_labels, store_option
    from emosim.lineage import read_sources

    if json_out:
        check_folder(json_out.parent, "--json")
    catalog = _catalog()
    targets_path = targets or default_targets_path()
    goal = load_targets(catalog, targets_path)
    sources = read_sources(inputs, runs_dir, catalog, scenarios=False)
    if not sources.records:
        raise EmosimError(f"no records in {', '.join(inputs)}")
    records, applied = apply_labels(
        sources.records, [Path(f) for f in sources.read], store_option(labels), catalog
    )
    report = coverage_report(catalog, goal, records, sources.read, str(targets_path), diversity)
    report.labels = applied
    _print_report(report)
    console.print(applied.describe())
    if json_out:
        write_text_atomic(json_out, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
        console.print(f"wrote {json_out}", soft_wrap=True)


def _print_report(report) -> None:  # noqa: ANN001 - CoverageReport
    c = report.counts
    console.print(
        f"{c.conversations} conversation(s) ({c.completed} completed, {c.failed} failed), "
        f"{c.client_turns} client and {c.advisor_turns} advisor turns"
    )
    by_kind: dict[str, list] = {}
    for r in report.results:
        by_kind.setdefault(r.kind, []).append(r)

    emotions = by_kind.get("emotion_turns", [])
    if emotions:
        levels = list(dict.fromkeys(r.name.split("/")[1] for r in emotions))
        table = Table(
            title="client turns by ground-truth emotion x level: truth/target (observed)",
            caption=report.counting["emotion_turns"],
        )
        table.add_column("emotion")
        for level in levels:
            table.add_column(level, justify="right")
        rows: dict[str, dict[str, Text]] = {}
        for r in emotions:
            emotion, level = r.name.split("/")
            colour = "green" if r.met else "red"
            rows.setdefault(emotion, {})[level] = Text.assemble(
                (f"{r.actual}/{r.target}", colour), f" ({r.observed})"
            )
        for emotion, cells in rows.items():
            table.add_row(emotion, *(cells.get(level, "") for level in levels))
        console.print(table)

    strategies = by_kind.get("strategy_turns", [])
    if strategies:
        table = Table(title="advisor turns by strategy", caption=report.counting["strategy_turns"])
        for col in ("strategy", "intended", "as primary", "observed", "target", ""):
            table.add_column(col, justify="right" if col not in ("strategy", "") else "left")
        for r in strategies:
            table.add_row(
                r.name,
                str(r.actual),
                str(c.strategy_primary.get(r.name, 0)),
                str(r.observed),
                str(r.target),
                _status(r.met),
            )
        console.print(table)

    rest = by_kind.get("length_class", []) + by_kind.get("anti_pattern_negatives", [])
    if rest:
        table = Table(title="conversations by length class; rejected drafts by anti-pattern")
        for col in ("kind", "name", "actual", "target", ""):
            table.add_column(col)
        for r in rest:
            table.add_row(r.kind, r.name, str(r.actual), str(r.target), _status(r.met))
        console.print(table)

    d = report.diversity
    if d is not None:
        table = Table(title=f"diversity of {d.conversations} conversation(s)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_row(
            "advisor distinct-1 / distinct-2",
            f"{d.advisor_distinct_1:.3f} / {d.advisor_distinct_2:.3f}",
        )
        table.add_row(
            "client distinct-1 / distinct-2",
            f"{d.client_distinct_1:.3f} / {d.client_distinct_2:.3f}",
        )
        table.add_row(
            f"near-duplicates (word {d.shingle_size}-gram Jaccard >= {d.threshold})",
            f"{d.near_duplicate_rate:.2%} redundant, {d.near_duplicate_pairs} pair(s), "
            f"{d.near_duplicates_involved} involved",
        )
        console.print(table)

    short = report.short
    total = len(report.results)
    if short:
        kinds: dict[str, list[int]] = {}
        for r in report.results:
            kinds.setdefault(r.kind, [0, 0])[1] += 1
            kinds[r.kind][0] += 0 if r.met else 1
        console.print(
            f"[red]{len(short)} of {total} target(s) short:[/] "
            + escape("; ".join(f"{kind} {n} of {of}" for kind, (n, of) in kinds.items() if n)),
            markup=True,
        )
    else:
        console.print(f"all {total} target(s) met", style="green")
