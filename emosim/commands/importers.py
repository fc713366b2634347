"""`emosim import`: real transcripts -> anonymized, labelled ConversationRecords.

Exit status: 0 when at least one conversation imported (problems are printed and counted as
a warning total), 1 when none did or the file/options are unusable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emosim.cli import app, console, err_console, user_errors
from emosim.errors import EmosimError


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command("import")
@user_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="File of real conversations.")],
    fmt: Annotated[str, typer.Option("--format", help="esconv, jsonl-chat or csv.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for conversations.jsonl and reports.")],
    anonymize: Annotated[
        bool,
        typer.Option("--anonymize/--no-anonymize", help="Replace identifying text (default on)."),
    ] = True,
    topic: Annotated[
        str | None, typer.Option(help="Topic id (default: inferred by keywords).")
    ] = None,
    subcategory: Annotated[str | None, typer.Option(help="Sub-category id of --topic.")] = None,
    consent: Annotated[
        str, typer.Option(help="not_applicable, obtained, not_obtained, unknown.")
    ] = "unknown",
    license: Annotated[
        str, typer.Option(help="License of the text (esconv: CC-BY-NC-4.0).")
    ] = "unknown",
    training_weight: Annotated[
        float, typer.Option(help="Loss weight of advisor turns (0..1).")
    ] = 1.0,
    id_col: Annotated[str, typer.Option(help="csv: conversation id column.")] = "conversation_id",
    time_col: Annotated[
        str | None, typer.Option(help="csv: timestamp column (used if present).")
    ] = None,
    speaker_col: Annotated[str, typer.Option(help="csv: speaker column.")] = "speaker",
    text_col: Annotated[str, typer.Option(help="csv: message text column.")] = "text",
    client_speakers: Annotated[
        str, typer.Option(help="csv: speaker values of the client.")
    ] = "client,user,customer,seeker",
    advisor_speakers: Annotated[
        str, typer.Option(help="csv: speaker values of the advisor.")
    ] = "advisor,assistant,agent,planner",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the import report as JSON.")
    ] = False,
    append: Annotated[
        bool, typer.Option("--append", help="Add to the records already in --out.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the records already in --out.")
    ] = False,
) -> None:
    """Import real conversations as records (source real, anonymized, observer-labelled)."""
    from emosim.catalog import get_catalog
    from emosim.importers import FORMATS, BuildOptions, CsvLayout, TopicChoice, import_file
    from emosim.importers.config import check_topic

    if append and replace:
        raise EmosimError("--append and --replace: choose one")
    if fmt not in FORMATS:
        raise EmosimError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if consent not in ("not_applicable", "obtained", "not_obtained", "unknown"):
        raise EmosimError(
            f"--consent: {consent!r} is not one of not_applicable, obtained, not_obtained, unknown"
        )
    if not 0.0 <= training_weight <= 1.0:
        raise EmosimError(f"--training-weight: {training_weight} is not within 0..1")
    catalog = get_catalog()
    choice = None
    if topic or subcategory:
        if not (topic and subcategory):
            raise EmosimError("--topic and --subcategory go together")
        choice = TopicChoice(topic=topic, subcategory=subcategory)
        problems = check_topic(catalog, choice, "--topic/--subcategory")
        if problems:
            raise EmosimError("\n".join(problems))
    layout = CsvLayout(
        id_col=id_col,
        time_col=time_col or "timestamp",
        speaker_col=speaker_col,
        text_col=text_col,
        client_speakers=_split(client_speakers),
        advisor_speakers=_split(advisor_speakers),
        time_required=time_col is not None,
    )
    options = BuildOptions(
        format=fmt,
        topic=choice,
        consent=consent,
        license=license,
        anonymize=anonymize,
        training_weight=training_weight,
    )
    mode = "append" if append else "replace" if replace else "new"
    result = import_file(file, fmt, out, catalog, options, layout, mode)
    report = result.report
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        _render(report)
    for problem in report.problems:
        err_console.print(problem, style="yellow", highlight=False)
    if report.failed or report.warnings:
        err_console.print(
            f"[yellow]warning:[/] {report.failed} failed, {report.warnings} warning(s); "
            f"{report.imported} imported",
            highlight=False,
            markup=True,
        )


def _render(report) -> None:  # noqa: ANN001 - ImportReport, imported lazily
    console.print(f"import {report.format}: {report.source}", soft_wrap=True)
    table = Table()
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("conversations read", report.conversations_read),
        ("imported", report.imported),
        ("failed", report.failed),
        ("warnings", report.warnings),
        ("messages merged into turns", report.merged_messages),
        ("leading advisor messages dropped", report.dropped_leading_advisor),
        ("trailing client messages dropped", report.dropped_trailing_client),
        ("system messages dropped", report.dropped_system),
        ("human strategy labels", sum(report.strategy_labels.values())),
        ("labels without an emosim strategy", sum(report.unmapped_labels.values())),
        ("topics inferred / default", f"{report.topics_inferred} / {report.topics_default}"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    anon = report.anonymization
    pii = Table(title="anonymization" if anon.enabled else "anonymization: OFF (--no-anonymize)")
    pii.add_column("kind")
    pii.add_column("replaced", justify="right")
    for kind, n in anon.replaced.items():
        pii.add_row(kind, str(n))
    pii.add_row("total", str(anon.total))
    console.print(pii)
