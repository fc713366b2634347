"""Engine overhead and checkpoint size on the scripted backend.

The baseline is a bare LangGraph chain of the same seven nodes with no-op bodies and the same
SQLite checkpointer and durability; emosim's own graph with no-op bodies (same state, routing
and wrappers) is shown beside it. The three take turns conversation by conversation, so a
slow spell of this shared machine hits all of them alike (timing whole runs one after the
other gave ratios 1.76-1.98x for the same code; in turns, rounds mostly agree within 0.1x).
Figures: ms per exchange and their ratio (target <= 1.5x); checkpoint bytes per conversation
over record bytes (target <= 5x); conversations per second.

The ratio is shown two ways. "All time" counts everything, including the scripted agents
writing and labelling the text. "Engine only" leaves out the time spent inside the six calls
of the backend's agents (client, advisor, three observers, critic: each swaps for a model),
timed around each call, and keeps everything the engine does around them: graph steps,
state, checkpoints, ledger, the arc controller, messages and their validation, records,
events.
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
from emosim.graphs.state import WORK
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


class _Graph:
    """A compiled graph with its own checkpoint file; `play(i)` runs conversation i."""

    def __init__(self, path: Path, graph_for, initial: dict) -> None:  # noqa: ANN001
        self.conn, saver = _saver(path)
        self.graph = graph_for(saver)
        self.initial = initial

    def play(self, i: int) -> None:
        self.graph.invoke(
            dict(self.initial),
            {"configurable": {"thread_id": f"c{i}"}, "recursion_limit": 500},
            durability=DURABILITY,
        )

    def steps(self) -> int:
        return _steps(self.conn)

    def close(self) -> None:
        self.conn.close()


def _steps(conn: sqlite3.Connection) -> int:
    """Node steps taken: one checkpoint each, besides every thread's input checkpoint."""
    (checkpoints,) = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
    return checkpoints - CONVERSATIONS


def bare_graph(tmp: Path) -> _Graph:
    """A minimal chain of the same seven nodes: LangGraph's own floor."""
    return _Graph(tmp / "bare.sqlite", _bare_graph, {"exchange": 1, "attempt": 1})


def mirror_graph(tmp: Path) -> _Graph:
    """emosim's own graph (same state, routing and wrappers) with every node body a no-op."""
    noop = lambda state, runtime: {}  # noqa: E731
    nodes = {name: noop for name in NODES}
    nodes["critic_reviews"] = lambda state, runtime: {"redraft": False}
    nodes["update_arc"] = lambda state, runtime: {
        "exchange": state["exchange"] + 1,
        "done": state["exchange"] >= EXCHANGES,
    }
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
    return _Graph(tmp / "mirror.sqlite", lambda saver: build_graph(saver, nodes), {WORK: initial})


class _AgentClock:
    """Seconds spent inside the agents' calls: each call is timed where the graph makes it."""

    CALLS = (
        ("client", "speak"),
        ("advisor", "draft"),
        ("critic", "review"),
        ("emotion_observer", "observe"),
        ("strategy_observer", "observe"),
        ("sentence_observer", "label"),
    )

    def __init__(self) -> None:
        self.seconds = 0.0

    def timed(self, call):  # noqa: ANN001, ANN201
        def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return run

    def wrap(self, agents) -> None:  # noqa: ANN001
        for role, method in self.CALLS:
            agent = getattr(agents, role)
            setattr(agent, method, self.timed(getattr(agent, method)))


def bench_scenario(exchanges: int) -> Scenario:
    """The long debt-management scenario the engine and storage benchmarks play."""
    return Scenario.model_validate(
        dict(
            id="bench",
            title="bench",
            topic="debt_management",
            subcategory="credit_card_debt",
            client_persona="marcus_johnson",
            length_class="long",
            exchanges=exchanges,
            situation="benchmark",
            anti_pattern_rate=0.15,
        )
    )


class _Engine:
    """emosim on the scripted backend: `play(i)` plays conversation i of the bench scenario."""

    def __init__(self, tmp: Path) -> None:
        self.scenario = bench_scenario(EXCHANGES)
        self.run = RunFolder.create(tmp / "runs", "bench")
        self.sim = Simulator(get_catalog(), self.run)
        self._events = self.run.events()
        self.log = self._events.__enter__()
        self.clock = _AgentClock()
        self.clock.wrap(self.sim.agents_for(self.scenario))  # templates load outside the timing
        self.records: list = []

    def play(self, i: int) -> None:
        self.records.append(self.sim.play(Job(self.scenario, "bench", i), self.log))

    def steps(self) -> int:
        return _steps(self.sim.conn)

    def sizes(self) -> tuple[int, int, int]:
        """Bytes of the records, of their checkpoints (with pending writes), of the ledger."""
        conn = self.sim.conn
        record_bytes = sum(len(r.model_dump_json().encode()) for r in self.records)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint_bytes = sum(
            len(row[0] or b"") + len(row[1] or b"")
            for row in conn.execute("SELECT checkpoint, metadata FROM checkpoints")
        ) + sum(len(row[0] or b"") for row in conn.execute("SELECT value FROM writes"))
        ledger_bytes = sum(len(row[0]) for row in conn.execute("SELECT payload FROM emosim_turns"))
        return record_bytes, checkpoint_bytes, ledger_bytes

    def close(self) -> None:
        self._events.__exit__(None, None, None)
        self.sim.close()


ROUNDS = 3
KINDS = ("bare", "mirror", "engine")
AGENTS = "agents"  # seconds inside agent calls, per round, within the engine's time


def measure(tmp: Path) -> tuple[dict[str, list[float]], dict[str, int], tuple[int, int, int]]:
    """Seconds per round for each graph, timed conversation by conversation in turn (bare,
    mirror, engine, bare, ...) so that a slow spell of the machine hits all three alike."""
    get_catalog()  # load data outside the timed part
    times: dict[str, list[float]] = {kind: [] for kind in (*KINDS, AGENTS)}
    steps: dict[str, int] = {}
    for round_ in range(ROUNDS):
        here = tmp / str(round_)
        here.mkdir()
        players = {"bare": bare_graph(here), "mirror": mirror_graph(here), "engine": _Engine(here)}
        spent = dict.fromkeys(KINDS, 0.0)
        for i in range(CONVERSATIONS):
            for kind, player in players.items():
                started = time.perf_counter()
                player.play(i)
                spent[kind] += time.perf_counter() - started
        for kind, player in players.items():
            times[kind].append(spent[kind])
            steps[kind] = player.steps()
        times[AGENTS].append(players["engine"].clock.seconds)  # type: ignore[attr-defined]
        sizes = players["engine"].sizes()  # type: ignore[attr-defined]
        for player in players.values():
            player.close()
    return times, steps, sizes


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name:
        times, steps, (record_bytes, checkpoint_bytes, ledger_bytes) = measure(Path(tmp_name))
    bare, mirror, engine = (statistics.median(times[k]) for k in KINDS)
    ratios = sorted(e / b for e, b in zip(times["engine"], times["bare"], strict=True))
    own = sorted(
        (e - a) / b for e, a, b in zip(times["engine"], times[AGENTS], times["bare"], strict=True)
    )
    agents = statistics.median(times[AGENTS])
    exchanges = CONVERSATIONS * EXCHANGES

    def per_step(key: str) -> float:
        return statistics.median(times[key]) / steps[key]

    table = Table(
        title=f"engine: {CONVERSATIONS} conversations x {EXCHANGES} exchanges, SqliteSaver "
        f"{DURABILITY}, {ROUNDS} rounds, the graphs taking turns conversation by conversation"
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
        "  of which inside the agents' calls (scripted text and labels)",
        f"{agents / exchanges * 1000:.2f}",
        "",
    )
    table.add_row(
        "engine overhead per turn, all time: scripted / bare chain (median; all rounds)",
        f"{statistics.median(ratios):.2f}x; " + ", ".join(f"{r:.2f}" for r in ratios),
        "<= 1.5x",
    )
    table.add_row(
        "engine overhead per turn, engine only: (scripted - agents) / bare chain",
        f"{statistics.median(own):.2f}x; " + ", ".join(f"{r:.2f}" for r in own),
        "<= 1.5x",
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
        "checkpoint bytes / record bytes", f"{checkpoint_bytes / record_bytes:.2f}x", "<= 5x"
    )
    table.add_row(
        "(checkpoints + ledger) / record bytes",
        f"{(checkpoint_bytes + ledger_bytes) / record_bytes:.2f}x",
        "",
    )
    table.add_row("conversations per second", f"{CONVERSATIONS / engine:.1f}", "")
    console.print(table)
