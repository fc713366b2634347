"""A 1,000-conversation scripted batch: conversations per second by concurrency, and peak
memory (RSS high-water mark) sampled as the batch grows, which must stay flat.

Baseline in the same run: concurrency 1. Scripted agents are CPU-bound Python, so threads
mostly overlap SQLite I/O; model backends (I/O-bound) are where concurrency pays.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.batch import jobs_from, parse_seeds, run_batch, start_batch
from emosim.catalog import get_catalog
from emosim.paths import data_dir

TOTAL = 1000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(concurrency: int, tmp: Path) -> tuple[float, list[tuple[int, float]]]:
    catalog = get_catalog()
    scenarios = sorted(data_dir("simulations").glob("*.yaml"))
    per = -(-TOTAL // len(scenarios))
    jobs = jobs_from(catalog, data_dir("simulations"), parse_seeds(f"1-{per}"))[:TOTAL]
    run = start_batch(catalog, jobs, tmp / f"c{concurrency}", "scripted", "bench", "bench")
    samples: list[tuple[int, float]] = []
    count = 0

    def sample(_record: object) -> None:
        nonlocal count
        count += 1
        if count % 250 == 0:
            samples.append((count, _rss_mb()))

    started = time.perf_counter()
    run_batch(catalog, run, jobs, backend="scripted", concurrency=concurrency, on_record=sample)
    return time.perf_counter() - started, samples


def main() -> None:
    console = Console()
    table = Table(title=f"batch: {TOTAL} scripted conversations (shipped scenarios x seeds)")
    for col in (
        "concurrency",
        "seconds",
        "conversations/s",
        "vs concurrency 1",
        "peak RSS MB at 250 / 500 / 750 / 1000",
    ):
        table.add_column(col)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = None
        for concurrency in (1, 4):
            elapsed, samples = one(concurrency, tmp)
            rate = TOTAL / elapsed
            base = base or rate
            table.add_row(
                str(concurrency),
                f"{elapsed:.1f}",
                f"{rate:.1f}",
                f"{rate / base:.2f}x",
                " / ".join(f"{mb:.0f}" for _, mb in samples),
            )
    console.print(table)
