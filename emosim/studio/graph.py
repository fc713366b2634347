"""The graph LangGraph Studio loads (langgraph.json): the simulation graph, Studio-shaped.

The same node bodies and routes as `emosim run` (emosim.graphs.simulation), with:
- an input form (`StudioInput`) and a first node, `load_scenario`, that resolves it into the
  job a run manifest would list and the working set a new conversation starts from;
- a run context rebuilt by each node from the thread's state (Studio only sends JSON);
- routing by conditional edges instead of `Command(goto=...)`, so that a state edit in
  Studio ("as" the node that produced the checkpoint) takes the route that node would take
  from the edited values, and the run continues from there;
- committed turns and the finished record in the state, where Studio shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from emosim.agents.backends import check_backend
from emosim.errors import EmosimError
from emosim.graphs.runner import check_observer, initial_work, job_entry, load_job
from emosim.graphs.simulation import NODES, ROUTES, Node
from emosim.paths import data_dir, project_root
from emosim.runs import new_run_id

from .context import StateLedger, catalog, sim_context, warm_up
from .edits import BY, EDITS, NEW, forked
from .schemas import StudioContext, StudioInput, StudioOutput, StudioState

FIRST = "load_scenario"


def scenario_path(text: str) -> Path:
    """A shipped scenario id, or a scenario file (relative to the working directory or the
    project root)."""
    text = text.strip()
    shipped = data_dir("simulations")
    if text and "/" not in text and (shipped / f"{text}.yaml").is_file():
        return shipped / f"{text}.yaml"
    for path in (Path(text), project_root() / text):
        if text and path.is_file():
            return path
    known = ", ".join(sorted(p.stem for p in shipped.glob("*.yaml")))
    raise EmosimError(
        f"input.scenario: {text!r} is neither a shipped scenario id nor a file (shipped: {known})"
    )


def load_scenario(state: StudioState, runtime: Runtime[StudioContext]) -> dict[str, Any]:
    """Resolve the input into the job and the conversation's first working set."""
    defaults = runtime.context if isinstance(runtime.context, StudioContext) else StudioContext()
    job = load_job(catalog(), scenario_path(state.get("scenario") or ""), state.get("seed"))
    backend = state.get("backend") or defaults.backend
    check_backend(catalog(), job.scenario.backend or backend)
    entry = job_entry(job) | {
        "backend": backend,
        "observer": check_observer(state.get("observer") or defaults.observer),
        "run_id": new_run_id("studio"),
    }
    ctx = sim_context(entry, job.conversation_id, None, StateLedger([]))
    return {
        "job": entry,
        "conversation_id": job.conversation_id,
        "lineage": None,
        "work": {BY: FIRST, NEW: True, **initial_work(ctx)},  # a new input starts afresh
        "turns": {BY: FIRST, "start": 0, "items": []},
        "record": None,
        "status": "running",
    }


def studio_step(name: str, body: Node) -> Callable[..., dict[str, Any]]:
    """A node body as the Studio graph runs it: context from the state, pending edits turned
    into a fork, committed turns and the record written back to the state."""

    def step(state: StudioState, runtime: Runtime[Any], config: RunnableConfig) -> dict[str, Any]:
        raw = state["work"]
        work = {k: v for k, v in raw.items() if k != EDITS}
        conversation, lineage = state["conversation_id"], state.get("lineage")
        update: dict[str, Any] = {}
        if raw.get(EDITS):
            conversation, lineage = forked(
                state["job"], conversation, lineage, raw[EDITS], _checkpoint(config)
            )
            update = {"conversation_id": conversation, "lineage": lineage}
        ledger = StateLedger(state.get("turns") or [])
        ctx = sim_context(state["job"], conversation, lineage, ledger)
        out = body(work, runtime.override(context=ctx))  # type: ignore[arg-type]
        update["work"] = {BY: name, **out, **({EDITS: None} if EDITS in raw else {})}
        if ledger.start is not None:
            update["turns"] = {BY: name, "start": ledger.start, "items": ledger.written()}
        if ledger.built is not None:
            update["record"] = ledger.built.model_dump(mode="json")
        if "status" in out:
            update["status"] = out["status"]
        return update

    step.__name__ = name
    return step


def _checkpoint(config: RunnableConfig) -> str | None:
    """The checkpoint this step continues from (the one holding the edit)."""
    configurable = config.get("configurable", {})
    return (configurable.get("checkpoint_map") or {}).get("") or configurable.get("checkpoint_id")


def _route(decide: Callable[[Any], str]) -> Callable[[StudioState], str]:
    def route(state: StudioState) -> str:
        return decide(state["work"])

    return route


def build_studio_graph(checkpointer: Any = None) -> Any:
    """Studio supplies its own checkpointer; tests pass one."""
    catalog()
    graph = StateGraph(
        StudioState,
        input_schema=StudioInput,
        output_schema=StudioOutput,
        context_schema=StudioContext,
    )
    graph.add_node(FIRST, load_scenario)
    for name, body in NODES.items():
        graph.add_node(name, studio_step(name, body))
    graph.add_edge(START, FIRST)
    graph.add_edge(FIRST, "client_speaks")
    for name, (decide, targets) in ROUTES.items():
        graph.add_conditional_edges(name, _route(decide), targets)
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)


graph = build_studio_graph()
warm_up()
