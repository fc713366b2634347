"""`emosim eval rankings`: how well rankings aggregate, measured with simulated reviewers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from emosim.cli import app, console, user_errors
from emosim.errors import EmosimError


def _eval_group() -> typer.Typer:
    """The `eval` group (the reports area registers it first; made here if it has not)."""
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Measure observers against ground truth and human labels.")
    app.add_typer(group, name="eval")
    return group


eval_app = _eval_group()


@eval_app.command("rankings")
@user_errors
def eval_rankings(
    noise: Annotated[
        str,
        typer.Option(help="Comma-separated noise levels: share of judgements that are guesses."),
    ] = "0,0.1,0.2,0.3,0.5,0.8",
    reviewers: Annotated[int, typer.Option(min=1, help="Reviewers per candidate set.")] = 5,
    candidates: Annotated[int, typer.Option(min=2, help="Candidates per set.")] = 4,
    tasks: Annotated[int, typer.Option(min=1, help="Candidate sets per seed.")] = 40,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds (rounds) averaged.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
) -> None:
    """Simulated reviewers rank candidate sets whose true order is known; each judgement is a
    guess with probability NOISE. Reports how well the Plackett-Luce aggregate recovers the
    order (mean Spearman, share of sets whose best candidate is found) and Krippendorff's
    alpha of the rankings, which should fall as noise grows."""
    import dataclasses
    import json

    from emosim.preferences.simulate import recovery

    try:
        levels = [float(x) for x in noise.split(",") if x.strip()]
    except ValueError:
        raise EmosimError(f"--noise: expected numbers such as 0,0.2,0.5, got {noise!r}") from None
    if not levels or any(not 0 <= x <= 1 for x in levels):
        raise EmosimError(f"--noise: every level must be between 0 and 1, got {noise!r}")
    rows = [recovery(x, reviewers, candidates, tasks, seeds) for x in levels]
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    table = Table(
        title=f"Aggregating rankings: {reviewers} reviewers, {candidates} candidates, "
        f"{tasks} sets x {seeds} seeds"
    )
    for column in ("noise", "Spearman (mean)", "best found", "alpha (ordinal)"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            f"{r.noise:.0%}",
            f"{r.spearman:.3f}",
            f"{r.top_correct:.0%}",
            "n/a" if r.alpha is None else f"{r.alpha:.3f}",
        )
    console.print(table)
