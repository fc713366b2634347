"""The command line's console: no markup from data, no table cell cut short."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table


class PeopleConsole(Console):
    """The command line's console, for people who copy what it prints.

    Markup is off unless a call asks for it (`markup=True`, its data through `escape`): names,
    titles, paths and turn text come from users' files, and a `[/]` in them would crash rich
    or restyle the output. No table cell is cut with "…": a word longer than its column (an
    id, a code, a path) folds onto the next line whole. A cell that should be shortened says
    so itself (a `Text` with its own `overflow`).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(**kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for obj in objects:
            fold_cells(obj)
        super().print(*objects, **kwargs)


def fold_cells(renderable: object) -> None:
    """Make every wrapping table column in `renderable` fold long words instead of cutting them."""
    if isinstance(renderable, Table):
        for column in renderable.columns:
            if column.overflow == "ellipsis" and not column.no_wrap:
                column.overflow = "fold"
            for cell in column.cells:
                fold_cells(cell)
    elif isinstance(renderable, Group):
        for part in renderable.renderables:
            fold_cells(part)
    elif isinstance(getattr(renderable, "renderable", None), (Table, Group)):
        fold_cells(renderable.renderable)  # Panel, Padding, Align


def print_table_or_rows(console: Console, table: Table, heading: int = 2) -> None:
    """The table when it fits the console; otherwise one block per row: its first `heading`
    cells (a role, a model) on a line, then `column value` pairs, so that no number or id is
    folded into pieces inside a column too narrow for it."""
    from rich.measure import Measurement

    unbounded = console.options.update(width=10_000)
    if Measurement.get(console, unbounded, table).maximum <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(str(table.title), soft_wrap=True)
    headers = [str(column.header) for column in table.columns]
    columns = [[str(cell) for cell in column.cells] for column in table.columns]
    for i in range(table.row_count):
        row = [column[i] for column in columns]
        console.print("  ".join(row[:heading]), style="bold", soft_wrap=True)
        pairs = zip(headers[heading:], row[heading:], strict=True)
        line = ""
        for pair in (f"{header} {value}" for header, value in pairs if value):
            if line and len(line) + len(pair) + 4 > console.width:
                console.print(f"  {line};", soft_wrap=True)
                line = ""
            line = f"{line}; {pair}" if line else pair
        if line:  # a pair longer than the console stays whole on its own line
            console.print(f"  {line}", soft_wrap=True)
