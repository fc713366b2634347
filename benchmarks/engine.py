"""Engine overhead and checkpoint size on the scripted backend.

Baselines, measured in the same run with the same SQLite checkpointer and durability:
emosim's own graph (same state, edges, routing) whose seven node bodies are no-ops, so the
ratio isolates what the engine's agents, validation, ledger and logging add; and, for
reference, a minimal seven-node chain with a two-key state.
Figures: ms per exchange for both and their ratio (target <= 1.5x); checkpoint bytes per
conversation over record bytes (target <= 5x); conversations per second.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from rich.console import Console
from rich.table import Table

from emosim.catalog import get_catalog
from emosim.graphs.runner import DURABILITY, Job, Simulator
from emosim.graphs.simulation import NODES, build_graph
from emosim.runs import RunFolder
from emosim.schemas import Scenario

EXCHANGES = 8
CONVERSATIONS = 30


class BareState(TypedDict, total=False):
    exchange: int
    attempt: int


def _bare_graph(saver: SqliteSaver):  # noqa: ANN202
    g = StateGraph(BareState)
    noop = lambda s: {}  # noqa: E731
    for name in (
        "client_speaks",
        "observe_client",
        "advisor_drafts",
        "critic_reviews",
        "observe_advisor",
        "finalize",
    ):
        g.add_node(name, noop)
    g.add_node("update_arc", lambda s: {"exchange": s["exchange"] + 1})
    g.add_edge(START, "client_speaks")
    g.add_edge("client_speaks", "observe_client")
    g.add_edge("observe_client", "advisor_drafts")
    g.add_edge("advisor_drafts", "critic_reviews")
    g.add_edge("critic_reviews", "observe_advisor")
    g.add_edge("observe_advisor", "update_arc")
    g.add_conditional_edges(
        "update_arc",
        lambda s: "finalize" if s["exchange"] > EXCHANGES else "client_speaks",
        ["client_speaks", "finalize"],
    )
    g.add_edge("finalize", END)
    return g.compile(checkpointer=saver)


def _saver(path: Path) -> tuple[sqlite3.Connection, SqliteSaver]:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return conn, saver


def _timed(graph, initial: dict, context: object = None) -> float:  # noqa: ANN001
    started = time.perf_counter()
    for i in range(CONVERSATIONS):
        graph.invoke(
            dict(initial),
            {"configurable": {"thread_id": f"c{i}"}, "recursion_limit": 500},
            context=context,
            durability=DURABILITY,
        )
    return time.perf_counter() - started


def _steps(conn: sqlite3.Connection) -> int:
    """Node steps taken: one checkpoint each, besides every thread's input checkpoint."""
    (checkpoints,) = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
    return checkpoints - CONVERSATIONS


def bare_run(tmp: Path) -> tuple[float, int]:
    """A minimal chain of the same seven nodes: LangGraph's own floor."""
    conn, saver = _saver(tmp / "bare.sqlite")
    elapsed = _timed(_bare_graph(saver), {"exchange": 1, "attempt": 1})
    steps = _steps(conn)
    conn.close()
    return elapsed, steps


def mirror_run(tmp: Path) -> tuple[float, int]:
    """emosim's own graph (same state, edges and routing) with every node body a no-op."""
    conn, saver = _saver(tmp / "mirror.sqlite")
    noop = lambda state, runtime: {}  # noqa: E731
    nodes = {name: noop for name in NODES}
    nodes["critic_reviews"] = lambda state, runtime: {"redraft": False}
    nodes["update_arc"] = lambda state, runtime: {
        "exchange": state["exchange"] + 1,
        "done": state["exchange"] >= EXCHANGES,
    }
    graph = build_graph(saver, nodes)
    initial = {
        "exchange": 1,
        "turn_count": 0,
        "progress": 0.0,
        "hidden": {},
        "facts_used": [],
        "strategies_history": [],
        "status": "running",
        "done": False,
    }
    elapsed = _timed(graph, initial)
    steps = _steps(conn)
    conn.close()
    return elapsed, steps


def engine_run(tmp: Path) -> tuple[float, int, int, int, int]:
    catalog = get_catalog()
    scenario = Scenario.model_validate(
        dict(
            id="bench",
            title="bench",
            topic="debt_management",
            subcategory="credit_card_debt",
            client_persona="marcus_johnson",
            length_class="long",
            exchanges=EXCHANGES,
            situation="benchmark",
            anti_pattern_rate=0.15,
        )
    )
    run = RunFolder.create(tmp / "runs", "bench")
    with Simulator(catalog, run) as sim, run.events() as log:
        sim.agents_for(scenario)  # load templates outside the timed part
        started = time.perf_counter()
        records = [sim.play(Job(scenario, "bench", i), log) for i in range(CONVERSATIONS)]
        elapsed = time.perf_counter() - started
        record_bytes = sum(len(r.model_dump_json().encode()) for r in records)
        sim.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint_bytes = sum(
            len(row[0] or b"") + len(row[1] or b"")
            for row in sim.conn.execute("SELECT checkpoint, metadata FROM checkpoints")
        ) + sum(len(row[0] or b"") for row in sim.conn.execute("SELECT value FROM writes"))
        ledger_bytes = sum(
            len(row[0]) for row in sim.conn.execute("SELECT payload FROM emosim_turns")
        )
        steps = _steps(sim.conn)
    return elapsed, steps, record_bytes, checkpoint_bytes, ledger_bytes


ROUNDS = 3


def main() -> None:
    """Rounds interleave the three graphs so that a busy spell of the machine hits all of
    them; the figures are medians over the rounds."""
    console = Console()
    times: dict[str, list[float]] = {"bare": [], "mirror": [], "engine": []}
    steps: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        get_catalog()  # load data outside the timed part
        for round_ in range(ROUNDS):
            here = tmp / str(round_)
            here.mkdir()
            elapsed, steps["bare"] = bare_run(here)
            times["bare"].append(elapsed)
            elapsed, steps["mirror"] = mirror_run(here)
            times["mirror"].append(elapsed)
            elapsed, steps["engine"], record_bytes, checkpoint_bytes, ledger_bytes = engine_run(
                here
            )
            times["engine"].append(elapsed)
    bare, mirror, engine = (statistics.median(times[k]) for k in ("bare", "mirror", "engine"))
    exchanges = CONVERSATIONS * EXCHANGES

    def per_step(key: str) -> float:
        return statistics.median(times[key]) / steps[key]

    table = Table(
        title=f"engine: {CONVERSATIONS} conversations x {EXCHANGES} exchanges, SqliteSaver "
        f"{DURABILITY}, median of {ROUNDS} interleaved rounds"
    )
    for col in ("measure", "value", "target"):
        table.add_column(col)
    table.add_row(
        "bare 7-node chain, no-op nodes, ms/exchange (baseline)",
        f"{bare / exchanges * 1000:.2f}",
        "",
    )
    table.add_row("emosim graph, no-op nodes, ms/exchange", f"{mirror / exchanges * 1000:.2f}", "")
    table.add_row("emosim scripted, ms/exchange", f"{engine / exchanges * 1000:.2f}", "")
    table.add_row(
        "engine overhead per turn: scripted / bare chain", f"{engine / bare:.2f}x", "<= 1.5x"
    )
    table.add_row("scripted / emosim graph with no-op nodes", f"{engine / mirror:.2f}x", "")
    table.add_row(
        "node steps per exchange: bare / scripted (redrafts add steps)",
        f"{steps['bare'] / exchanges:.2f} / {steps['engine'] / exchanges:.2f}",
        "",
    )
    table.add_row(
        "per node step: scripted / bare chain",
        f"{per_step('engine') / per_step('bare'):.2f}x",
        "",
    )
    table.add_row(
        "round-to-round spread (max/min) bare, scripted",
        f"{max(times['bare']) / min(times['bare']):.2f}, "
        f"{max(times['engine']) / min(times['engine']):.2f}",
        "",
    )
    table.add_row(
        "checkpoint bytes / record bytes", f"{checkpoint_bytes / record_bytes:.2f}x", "<= 5x"
    )
    table.add_row(
        "(checkpoints + ledger) / record bytes",
        f"{(checkpoint_bytes + ledger_bytes) / record_bytes:.2f}x",
        "",
    )
    table.add_row("conversations per second", f"{CONVERSATIONS / engine:.1f}", "")
    console.print(table)
