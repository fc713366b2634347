"""`emosim eval anonymization`: the anonymizer against answer keys of planted personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emosim.cli import console, user_errors
from emosim.commands.observers import eval_app
from emosim.errors import EmosimError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SETS = (
    REPO / "tests" / "data" / "names" / "test.jsonl",
    REPO / "tests" / "data" / "pii" / "heldout.jsonl",
)


@eval_app.command("anonymization")
@user_errors
def eval_anonymization(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Answer-key JSONL files (default: the multicultural name test split and the "
            "PII held-out split under tests/data/)."
        ),
    ] = None,
    misses: Annotated[
        bool, typer.Option("--misses", help="List misses, false positives and leaks.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Anonymizer recall and precision per kind, names typed right, names found per origin and
    amounts, places and brands kept, on answer keys of planted personal data."""
    from emosim.anonymize.evaluate import evaluate

    paths = files or list(DEFAULT_SETS)
    for path in paths:
        if not path.is_file():
            raise EmosimError(f"{path}: answer-key file not found")
    results = {}
    for path in paths:
        try:
            results[str(path)] = evaluate(path)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise EmosimError(f"{path}: not an answer key ({type(exc).__name__}: {exc})") from None
    if as_json:
        console.print_json(json.dumps({name: _summary(ev) for name, ev in results.items()}))
        return
    for name, ev in results.items():
        _render(name, ev, misses)


def _summary(ev) -> dict:  # noqa: ANN001 - Evaluation, imported lazily
    return {
        "kinds": {
            kind: {
                "planted": s.planted,
                "recall": round(s.recall, 4),
                "predicted": s.predicted,
                "precision": round(s.precision, 4),
            }
            for kind, s in ev.kinds.items()
            if s.planted or s.predicted
        },
        "overall": {"planted": ev.planted, "recall": round(ev.recall, 4),
                    "predicted": ev.predicted, "precision": round(ev.precision, 4)},
        "names_typed_right": [ev.roles_right, ev.roles],
        "names_found_per_origin": {g: [f, n] for g, (n, f) in sorted(ev.groups.items())},
        "kept": {what: [k, n] for what, (n, k) in sorted(ev.kept.items())},
        "leaked": len(ev.leaked),
    }  # fmt: skip


def _render(name: str, ev, misses: bool) -> None:  # noqa: ANN001
    table = Table(title=f"anonymization: {name}")
    for column in ("kind", "planted", "recall", "predicted", "precision"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, s in ev.kinds.items():
        if s.planted or s.predicted:
            table.add_row(
                kind, str(s.planted), f"{s.recall:.3f}", str(s.predicted), f"{s.precision:.3f}"
            )
    table.add_row(
        "overall", str(ev.planted), f"{ev.recall:.3f}", str(ev.predicted), f"{ev.precision:.3f}"
    )
    console.print(table)
    if ev.roles:
        console.print(f"names typed right (client/advisor/other): {ev.roles_right}/{ev.roles}")
    if ev.groups:
        console.print(
            "names found per origin: "
            + ", ".join(f"{g} {f}/{n}" for g, (n, f) in sorted(ev.groups.items())),
            highlight=False,
        )
    kept = ", ".join(f"{what} {k}/{n}" for what, (n, k) in sorted(ev.kept.items()))
    console.print(f"kept (must not be replaced): {kept}; leaked values: {len(ev.leaked)}")
    if misses:
        for title, items in (
            ("miss", ev.misses),
            ("false positive", ev.false_positives),
            ("negative hit", ev.negatives_hit),
            ("leaked", ev.leaked),
        ):
            for item in items:
                console.print(f"  {title}: {item}", highlight=False, markup=False)
