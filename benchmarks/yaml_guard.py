"""The hardened YAML reader (emosim.files.parse_yaml) against the reading it replaced, in the
same run: CPU time to load every shipped YAML file, and time and peak memory on an alias bomb.

Baselines: the old reader (PyYAML's pure-Python compose plus safe_load, no limits) on the same
files; on the bomb, PyYAML's safe_load followed by what a validator then does with the data
(walking every value, here json.dumps), on a bomb of 6 levels (9^6 = 531,441 values): the
9-level bomb the reader refuses would expand to 387 million values, which the old path cannot
finish. CPU time (`time.process_time`), so a busy machine does not inflate it.
Run: `python -m benchmarks yaml_guard`.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc

import yaml
from rich.console import Console
from rich.table import Table

from emosim.errors import DataError
from emosim.files import parse_yaml
from emosim.paths import project_root

ROUNDS = 3


def bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _shipped() -> list[tuple[str, str]]:
    root = project_root()
    skip = {".venv", "runs", "node_modules", ".git"}
    files = [
        p
        for p in sorted(root.rglob("*.yaml"))
        if not skip & set(p.relative_to(root).parts) and p.is_file()
    ]
    return [(str(p), p.read_text(encoding="utf-8")) for p in files]


def _old(text: str) -> None:
    yaml.compose(text)
    yaml.safe_load(text)


def _new(text: str, where: str) -> None:
    parse_yaml(text, where)


def _best(fn) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def _measured(fn) -> tuple[float, float, str]:  # noqa: ANN001
    tracemalloc.start()
    started = time.process_time()
    try:
        fn()
        outcome = "built"
    except DataError:
        outcome = "refused"
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, outcome


def main() -> None:
    files = _shipped()
    old = _best(lambda: [_old(text) for _, text in files])
    new = _best(lambda: [_new(text, where) for where, text in files])
    console = Console()
    table = Table(
        title=f"Reading the {len(files)} shipped YAML files (best of {ROUNDS}, CPU time; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    for column in ("reader", "seconds", "ratio"):
        table.add_column(column, justify="left" if column == "reader" else "right")
    table.add_row("compose + safe_load, pure Python (baseline)", f"{old:.3f}", "1.00")
    table.add_row("parse_yaml: limits, duplicate keys, libyaml", f"{new:.3f}", f"{new / old:.2f}")
    console.print(table)

    small = bomb(6)
    base_s, base_mb, _ = _measured(lambda: json.dumps(yaml.safe_load(small)))
    ours_s, ours_mb, outcome = _measured(lambda: parse_yaml(bomb(9), "bomb.yaml"))
    table = Table(title="Alias bomb (CPU seconds, peak traced memory)")
    for column in ("case", "outcome", "seconds", "peak MB", "time ratio", "memory ratio"):
        table.add_column(column, justify="left" if column in ("case", "outcome") else "right")
    table.add_row(
        "6 levels, safe_load + json.dumps (baseline)",
        "built",
        f"{base_s:.3f}",
        f"{base_mb:.1f}",
        "1.00",
        "1.00",
    )
    table.add_row(
        "9 levels, parse_yaml",
        outcome,
        f"{ours_s:.4f}",
        f"{ours_mb:.3f}",
        f"{ours_s / base_s:.4f}",
        f"{ours_mb / base_mb:.4f}",
    )
    console.print(table)


if __name__ == "__main__":
    main()
