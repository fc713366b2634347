"""`emosim` commands: exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..cli import app, console, err_console, user_errors
from ..exports.options import FORMATS
from ..labels import LABELS_HELP

_FORMAT_HELP = "Export format: " + ", ".join(FORMATS) + "."


@app.command("export")
@user_errors
def export(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Run folders (with conversations.jsonl) or .jsonl/.json record files."),
    ],
    format: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the exported files.")],
    system_prompt: Annotated[
        bool,
        typer.Option(
            "--system-prompt/--no-system-prompt",
            help="Start each example with Elena's system prompt (from her persona file).",
        ),
    ] = True,
    trainable: Annotated[
        str,
        typer.Option(
            help="Which advisor turns train: all (weight > 0) or accepted (critic-accepted)."
        ),
    ] = "all",
    min_quality: Annotated[
        float | None,
        typer.Option(help="Train only turns whose critic overall score is at least this (0..1)."),
    ] = None,
    planning: Annotated[
        bool,
        typer.Option(
            "--planning/--no-planning",
            help="Prefix assistant content with '<plan>emotion: E (LEVEL); strategy: A + B</plan>'.",
        ),
    ] = False,
    anti_pattern_pairs: Annotated[
        bool,
        typer.Option(
            "--anti-pattern-pairs",
            help="Preference formats: use a taxonomy anti-pattern example as the negative of a "
            "turn that has no critic-rejected draft.",
        ),
    ] = False,
    min_agreement: Annotated[
        float | None,
        typer.Option(
            help="Preference formats: keep human-ranking pairs only from candidate sets whose "
            "reviewers agree at least this much (Krippendorff's alpha, -1..1; a set one "
            "reviewer ranked has none)."
        ),
    ] = None,
    min_margin: Annotated[
        float | None,
        typer.Option(
            help="Preference formats: keep human-ranking pairs whose chosen reply outscores the "
            "rejected one by at least this (Plackett-Luce log-odds, >= 0)."
        ),
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option(help="Keep only these topics (repeatable).")
    ] = None,
    emotion: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep records with a client turn of this emotion or family (repeatable)."
        ),
    ] = None,
    length: Annotated[
        list[str] | None, typer.Option(help="Keep only short / medium / long (repeatable).")
    ] = None,
    review_status: Annotated[
        list[str] | None, typer.Option(help="Keep only these review statuses (repeatable).")
    ] = None,
    split: Annotated[
        str, typer.Option(help="Shares of lineage families: train,validation,test.")
    ] = "0.8,0.1,0.1",
    cap_pattern: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="De-templating: a sentence pattern (names and numbers masked, 4+ words) may "
            "appear in at most this many exported conversations; the conversations using the "
            "most over-cap patterns are dropped whole.",
        ),
    ] = None,
    labels: Annotated[str | None, typer.Option("--labels", help=LABELS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are looked up by id.")] = Path(
        "runs"
    ),
) -> None:
    """Export records to files trainers load directly, split by lineage family.

    Labels are resolved with the label store beside the records (see --labels), so reviewers' and operators' corrections reach every format.

    Writes train/validation/test.jsonl (empty splits skipped), meta/SPLIT.jsonl (row provenance: line i describes row i), manifest.json, lora_recipe.yaml and a dataset card README.md.

    --planning starts every assistant message with the emotion read in the client's last message, its intensity and the strategies used, then a newline and the reply, e.g. '<plan>emotion: shame (high); strategy: empathic_validation + normalizing</plan>'. Strip that line before showing a reply to a user.
    """
    from pydantic import ValidationError

    from ..catalog import get_catalog
    from ..errors import EmosimError
    from ..exports import (
        ExportOptions,
        parse_filters,
        parse_format,
        parse_split,
        plan_export,
        write_export,
    )
    from ..exports.options import parse_trainable

    fmt = parse_format(format)
    ratios = parse_split(split)
    mode = parse_trainable(trainable)
    if min_agreement is not None and not -1.0 <= min_agreement <= 1.0:
        raise EmosimError(f"--min-agreement: expected alpha between -1 and 1, got {min_agreement}")
    if min_margin is not None and min_margin < 0:
        raise EmosimError(f"--min-margin: expected a margin of 0 or more, got {min_margin}")
    if min_quality is not None and not 0.0 <= min_quality <= 1.0:
        raise EmosimError(f"--min-quality: expected a score between 0 and 1, got {min_quality}")
    catalog = get_catalog()
    filters = parse_filters(catalog, topic or [], emotion or [], length or [], review_status or [])
    try:
        options = ExportOptions(
            format=fmt,
            system_prompt=system_prompt,
            trainable=mode,
            min_quality=min_quality,
            planning=planning,
            anti_pattern_pairs=anti_pattern_pairs,
            min_agreement=min_agreement,
            min_margin=min_margin,
            split=ratios,
            filters=filters,
            cap_pattern=cap_pattern,
        )
    except ValidationError as exc:  # pragma: no cover - every field is checked above
        raise EmosimError(str(exc)) from None
    from ..files import check_folder
    from ..labels.apply import store_option

    check_folder(out, "--out")
    inputs = [_run_or_path(p, runs_dir) for p in inputs]
    plan = plan_export(inputs, options, catalog, store_option(labels))
    write_export(plan, out)
    manifest = plan.manifest
    if as_json:
        typer.echo(manifest.model_dump_json(indent=2))
        return
    table = Table(title=f"{fmt} export")  # the folder is printed whole below
    for column in ("split", "file", "rows", "records", "families"):
        table.add_column(
            column, justify="right" if column in ("rows", "records", "families") else "left"
        )
    for name, summary in manifest.splits.items():
        table.add_row(
            name,
            summary.file or "(empty)",
            str(summary.rows),
            str(summary.records),
            str(summary.families),
        )
    console.print(table)
    if manifest.de_templating is not None:
        _print_de_templating(manifest.de_templating)
    console.print(
        f"{manifest.records_kept}/{manifest.records_read} record(s) kept, "
        f"{manifest.trainable_turns}/{manifest.advisor_turns} advisor turn(s) trainable"
    )
    console.print(manifest.labels.describe())
    if manifest.context_turns_trained:
        err_console.print(
            f"[yellow]warning:[/] {manifest.context_turns_trained} non-trainable advisor turn(s) "
            f"are inside {escape(fmt)} rows, whose trainers train every assistant message; "
            "use trl-prompt-completion to train trainable turns only",
            markup=True,
        )
    console.print(f"wrote {', '.join(manifest.files)} in {out}", soft_wrap=True)


def _print_de_templating(d) -> None:  # noqa: ANN001
    console.print(
        f"--cap-pattern {d.cap}: {d.records_dropped}/{d.records_before} conversation(s) dropped; "
        f"{d.patterns_over_cap} sentence pattern(s) were in more than {d.cap} conversations"
    )
    if not d.top_patterns:
        return
    table = Table(title="Most widespread capped patterns")
    table.add_column("speaker")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("pattern")
    for p in d.top_patterns:
        table.add_row(p.speaker, str(p.conversations_before), str(p.conversations_after), p.pattern)
    console.print(table)


def _run_or_path(path: Path, runs_dir: Path) -> Path:
    """A run id (as `show`, `report` and `coverage` take) -> its folder; paths pass through."""
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    from ..runs import RunFolder

    return RunFolder.open(runs_dir, str(path)).path
