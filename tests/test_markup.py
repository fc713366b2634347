"""Rich markup in users' data is printed as written: a `[/]` or `[bold]x[/]` in a name, a
path or a turn's text neither crashes the command (rich's MarkupError) nor restyles it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import click
import click.testing
import pytest
import typer.main
from rich.table import Table

from emosim.cli import app
from emosim.console import PeopleConsole

HOSTILE = ["[/]", "[bold]x[/]", "[/bold]y[red]", "[link=file:///etc/passwd]z"]


@pytest.fixture(scope="module")
def command() -> click.Command:
    return typer.main.get_command(app)


def invoke(command: click.Command, args: list[str]) -> click.testing.Result:
    return click.testing.CliRunner().invoke(command, args, prog_name="emosim")


def flat(text: str) -> str:
    return "".join(text.split())


def hostile_records(tmp_path: Path, run, mark: str) -> Path:  # noqa: ANN001
    """The run's record with the markup in the persona's name and every turn's text."""
    doc = json.loads(run.records_path.read_text().splitlines()[0])
    doc["scenario"]["client_persona"]["name"] = f"Ana {mark}"
    for turn in doc["turns"]:
        turn["text"] = f"{mark} {turn['text']}"
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("mark", HOSTILE)
def test_show_prints_markup_in_names_and_text_as_written(
    tmp_path: Path, scripted_run, command, mark: str
) -> None:
    run, _ = scripted_run
    result = invoke(
        command, ["show", str(hostile_records(tmp_path, run, mark)), "--labels", "none"]
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None and flat(f"Ana {mark}") in flat(result.output)


@pytest.mark.parametrize("mark", HOSTILE)
def test_paths_with_markup_are_printed_as_written(
    tmp_path: Path, scripted_run, command, mark: str
) -> None:
    run, _ = scripted_run
    folder = tmp_path / f"out{mark.replace('/', '_')}"  # a bracketed name, no sub-folder
    json_out = folder / "coverage.json"
    result = invoke(
        command, ["coverage", str(run.path), "--json", str(json_out), "--labels", "none"]
    )
    assert result.exit_code == 0, result.output
    assert json_out.exists() and flat(str(json_out)) in flat(result.output)
    out = folder / "export"
    args = ["export", str(run.path), "--format", "sharegpt", "--out", str(out), "--labels", "none"]
    result = invoke(command, args)
    assert result.exit_code == 0, result.output
    assert flat(str(out)) in flat(result.output)


def test_a_markup_error_value_is_printed_as_written(tmp_path: Path, command) -> None:
    bad = tmp_path / "simulations" / "[bold]bad[red].yaml"
    bad.parent.mkdir()
    bad.write_text('id: "[/]"\ntitle: "[/bold]t"\n', encoding="utf-8")
    result = invoke(command, ["validate", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert flat(str(bad)) in flat(result.output)


def test_the_console_prints_cells_and_titles_as_written_and_never_cuts_them() -> None:
    long_id = "student_loan_servicer_frustration-s2-5f943c4018--fork-24586f24"
    table = Table(title="[/] of [bold]x[/]")
    for column in ("conversation", "note", "status"):
        table.add_column(column)
    table.add_row(long_id, "[/red] unbalanced", "permission_based_suggestion")
    out = io.StringIO()
    PeopleConsole(file=out, width=40).print(table)
    text = out.getvalue()
    assert "…" not in text and "[/]" in text and "[/red]" in text
    rows = [line.split("│")[1:-1] for line in text.splitlines() if line.count("│") == 4]
    column = ["".join(cells[i].strip() for cells in rows) for i in range(3)]
    assert column[0] == long_id and column[2] == "permission_based_suggestion"
    assert max(len(line) for line in text.splitlines()) <= 40
