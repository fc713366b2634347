"""Candidate replies (`emosim candidates`): CPU time per alternative reply, against the CPU
time per exchange of playing the same conversations (measured in the same run), and the share
of candidate pairs with different primary strategies (target >= 75%).

20 scripted conversations (the scenario files, seeds 1 and 2), 4 candidates per advisor turn.
CPU time (`time.process_time`), so a busy machine does not inflate it; the load average and
the wall time are printed beside it. Run: `python -m benchmarks candidates`.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emosim.catalog import get_catalog
from emosim.graphs.runner import load_job, run_jobs
from emosim.preferences.candidates import generate
from emosim.preferences.distinct import summarize

CONVERSATIONS = 20
N = 4


def main() -> None:
    catalog = get_catalog()
    files = sorted((catalog.root / "simulations").glob("*.yaml"))
    jobs = [load_job(catalog, f, seed) for seed in (1, 2) for f in files][:CONVERSATIONS]
    with tempfile.TemporaryDirectory(prefix="emosim-bench-") as tmp:
        started = time.process_time()
        run, records = run_jobs(catalog, jobs, Path(tmp), "scripted", "bench", "benchmark")
        play_cpu = time.process_time() - started
        exchanges = sum(len(r.advisor_turns) for r in records)

        wall = time.perf_counter()
        started = time.process_time()
        result = generate(catalog, run, n=N, seed=0)
        made_cpu = time.process_time() - started
        wall = time.perf_counter() - wall
    summary = summarize(result.sets)
    per_exchange = 1000 * play_cpu / exchanges
    per_candidate = 1000 * made_cpu / max(1, result.generated)
    table = Table(
        title=f"Candidates: {len(records)} scripted conversations, --n {N} (CPU time; load "
        f"average {os.getloadavg()[0]:.1f})"
    )
    for column in ("what", "count", "CPU ms each", "ratio"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_row(
        "exchange played in the run (baseline)", str(exchanges), f"{per_exchange:.1f}", "1.00x"
    )
    table.add_row(
        "alternative reply made from its checkpoint",
        str(result.generated),
        f"{per_candidate:.1f}",
        f"{per_candidate / per_exchange:.2f}x",
    )
    Console().print(table)
    share = summary.distinct.share or 0.0
    Console().print(
        f"{summary.sets} sets ({len(result.skipped)} goodbye turns skipped); "
        f"{result.generated / made_cpu:.1f} alternatives per CPU second "
        f"({result.generated / wall:.1f} per wall second); "
        f"pairs with different primary strategies {summary.distinct.distinct}/"
        f"{summary.distinct.pairs} = {share:.1%} (target >= 75%); "
        f"accepted by the critic {summary.accepted}/{summary.candidates}"
    )


if __name__ == "__main__":
    main()
