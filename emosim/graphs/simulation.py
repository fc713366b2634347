"""The simulation graph: one conversation as a LangGraph state machine.

    client_speaks -> observe_client -> advisor_drafts -> critic_reviews
        critic_reviews --(rejected, budget left)--> advisor_drafts
        critic_reviews --(accepted or budget spent)--> observe_advisor
    observe_advisor -> update_arc --(more exchanges)--> client_speaks
                                  --(done)--> finalize

Any node whose agent fails (invalid output after its retries) marks the conversation failed
and routes to finalize, which still writes a record with the failure reason.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import ValidationError

from emosim.agents.messages import (
    AdvisorInput,
    AdvisorOutput,
    ClientInput,
    ClientOutput,
    CriticInput,
    EmotionObserverInput,
    Line,
)
from emosim.errors import AgentFailure
from emosim.schemas import (
    AdvisorTurn,
    ClientTurn,
    CriticVerdict,
    EmotionalState,
    EmotionAnnotation,
    RejectedDraft,
    StrategyUse,
)

from .finalize import build_record
from .state import SimContext, SimState

Node = Callable[[SimState, Runtime[SimContext]], dict[str, Any]]


def traced(name: str) -> Callable[[Node], Node]:
    """Log one structured event per node step, and turn agent failures into a failed state."""

    def decorate(func: Node) -> Node:
        @functools.wraps(func)
        def node(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
            ctx = runtime.context
            started = time.perf_counter()
            try:
                update = func(state, runtime)
            except (AgentFailure, ValidationError) as exc:
                reason = f"{name}: {exc}".splitlines()[0][:500]
                update = {"status": "failed", "failure": reason}
            ctx.log.info(
                "node",
                node=name,
                run_id=ctx.run_id,
                conversation_id=ctx.conversation_id,
                exchange=state.get("exchange"),
                turn=state.get("turn_count"),
                attempt=state.get("attempt"),
                status=update.get("status", state.get("status")),
                ms=round((time.perf_counter() - started) * 1000, 3),
            )
            return update

        return node

    return decorate


def _transcript(ctx: SimContext, state: SimState) -> list[Line]:
    turns = ctx.ledger.turns(ctx.conversation_id, state.get("turn_count", 0))
    return [Line(speaker=t["speaker"], text=t["text"]) for t in turns]


# --- nodes -----------------------------------------------------------------------------------


@traced("client_speaks")
def client_speaks(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    history = state.get("strategies_history", [])
    request = ClientInput(
        persona=ctx.persona,
        topic=ctx.scenario.topic,
        subcategory=ctx.scenario.subcategory,
        situation=ctx.scenario.situation,
        hidden_state=EmotionalState.model_validate(state["hidden"]),
        transcript=_transcript(ctx, state),
        exchange=state["exchange"],
        exchanges=ctx.scenario.exchanges,
        movement=state.get("movement"),
        last_advisor_strategy=history[-1] if history else None,
        facts_used=state.get("facts_used", []),
    )
    reply = ClientOutput.model_validate(ctx.agents.client.speak(request, seed=ctx.seed))
    return {"client_text": reply.text, "facts_used": reply.facts_used}


@traced("observe_client")
def observe_client(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    index = state["turn_count"]
    transcript = _transcript(ctx, state)
    previous = state.get("observed")
    annotation = EmotionAnnotation.model_validate(
        ctx.agents.emotion_observer.observe(
            EmotionObserverInput(
                text=state["client_text"],
                previous=EmotionAnnotation.model_validate(previous) if previous else None,
                context=transcript[-2:],
            )
        )
    )
    turn = ClientTurn(
        index=index,
        exchange=state["exchange"],
        text=state["client_text"],
        ground_truth=EmotionalState.model_validate(state["hidden"]),
        annotation=annotation,
    )
    ctx.ledger.put_turn(ctx.conversation_id, index, turn.model_dump(mode="json"))
    return {
        "turn_count": index + 1,
        "client_text": None,
        "observed": annotation.model_dump(mode="json"),
        "attempt": 1,
        "draft": None,
        "verdict": None,
        "rejected": [],
    }


@traced("advisor_drafts")
def advisor_drafts(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    feedback = (
        CriticVerdict.model_validate(state["verdict"]).findings if state.get("verdict") else []
    )
    shared = {f.id: f.reflection for f in ctx.persona.facts}
    request = AdvisorInput(
        client_name=ctx.persona.name,
        topic=ctx.scenario.topic,
        subcategory=ctx.scenario.subcategory,
        transcript=_transcript(ctx, state),
        observed=EmotionAnnotation.model_validate(state["observed"]),
        exchange=state["exchange"],
        exchanges=ctx.scenario.exchanges,
        attempt=state["attempt"],
        critic_feedback=feedback,
        previous_strategies=state.get("strategies_history", []),
        shared_facts=[shared[f] for f in state.get("facts_used", []) if f in shared],
    )
    draft = AdvisorOutput.model_validate(ctx.agents.advisor.draft(request, seed=ctx.seed))
    return {"draft": draft.model_dump(mode="json")}


@traced("critic_reviews")
def critic_reviews(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = AdvisorOutput.model_validate(state["draft"])
    verdict = CriticVerdict.model_validate(
        ctx.agents.critic.review(
            CriticInput(
                draft=draft.text,
                observed=EmotionAnnotation.model_validate(state["observed"]),
                transcript=_transcript(ctx, state),
            )
        )
    )
    update: dict[str, Any] = {"verdict": verdict.model_dump(mode="json"), "redraft": False}
    if not verdict.accepted and state["attempt"] <= ctx.scenario.max_redrafts:
        rejected = RejectedDraft(
            attempt=state["attempt"],
            text=draft.text,
            strategies=[draft.strategies.primary, *draft.strategies.combination],
            anti_pattern=draft.anti_pattern,
            verdict=verdict,
        )
        update |= {
            "redraft": True,
            "attempt": state["attempt"] + 1,
            "rejected": [*state.get("rejected", []), rejected.model_dump(mode="json")],
        }
    return update


@traced("observe_advisor")
def observe_advisor(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = AdvisorOutput.model_validate(state["draft"])
    verdict = CriticVerdict.model_validate(state["verdict"])
    observed = StrategyUse.model_validate(ctx.agents.strategy_observer.observe(draft.text))
    sentences = ctx.agents.sentence_observer.label(draft.text)
    intended = {s.text: s.function for s in draft.sentences}
    for sentence in sentences:
        sentence.intended_function = intended.get(sentence.text)
    index = state["turn_count"]
    turn = AdvisorTurn(
        index=index,
        exchange=state["exchange"],
        text=draft.text,
        intended_strategies=draft.strategies,
        strategies=observed,
        sentences=sentences,
        learning_objective=draft.learning_objective,
        critic=verdict,
        rejected_drafts=[RejectedDraft.model_validate(r) for r in state.get("rejected", [])],
        training_weight=1.0 if verdict.accepted and draft.anti_pattern is None else 0.0,
    )
    ctx.ledger.put_turn(ctx.conversation_id, index, turn.model_dump(mode="json"))
    return {
        "turn_count": index + 1,
        "strategies_history": [*state.get("strategies_history", []), draft.strategies.primary],
    }


@traced("update_arc")
def update_arc(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = AdvisorOutput.model_validate(state["draft"])
    used = [draft.strategies.primary, *draft.strategies.combination]
    result = ctx.arc.update(
        state["progress"],
        EmotionalState.model_validate(state["hidden"]),
        used,
        draft.anti_pattern,
        seed=(ctx.seed, ctx.conversation_id, state["exchange"]),
    )
    return {
        "progress": result.progress,
        "hidden": result.state.model_dump(mode="json"),
        "movement": result.movement,
        "movement_reason": result.reason,
        "exchange": state["exchange"] + 1,
        "done": state["exchange"] >= ctx.scenario.exchanges,
        "draft": None,
        "verdict": None,
        "rejected": [],
    }


@traced("finalize")
def finalize(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    record = build_record(ctx, state)
    ctx.ledger.put_record(ctx.conversation_id, record)
    return {"status": record.outcome.status}


# --- routing ---------------------------------------------------------------------------------


def _failed(state: SimState) -> bool:
    return state.get("status") == "failed"


def ok_or_failed(state: SimState) -> str:
    return "failed" if _failed(state) else "ok"


def after_critic(state: SimState) -> str:
    if _failed(state):
        return "failed"
    return "redraft" if state.get("redraft") else "accepted"


def after_arc(state: SimState) -> str:
    if _failed(state):
        return "failed"
    return "done" if state.get("done") else "next exchange"


NODES: dict[str, Node] = {
    "client_speaks": client_speaks,
    "observe_client": observe_client,
    "advisor_drafts": advisor_drafts,
    "critic_reviews": critic_reviews,
    "observe_advisor": observe_advisor,
    "update_arc": update_arc,
    "finalize": finalize,
}


def build_graph(checkpointer: Any = None, nodes: dict[str, Any] | None = None) -> Any:
    """The compiled simulation graph. `nodes` swaps node bodies (benchmarks use no-ops)."""
    body = {**NODES, **(nodes or {})}
    graph = StateGraph(SimState, context_schema=SimContext)
    for name, func in body.items():
        graph.add_node(name, func)

    graph.add_edge(START, "client_speaks")
    for node, successor in (
        ("client_speaks", "observe_client"),
        ("observe_client", "advisor_drafts"),
        ("advisor_drafts", "critic_reviews"),
        ("observe_advisor", "update_arc"),
    ):
        graph.add_conditional_edges(node, ok_or_failed, {"ok": successor, "failed": "finalize"})
    graph.add_conditional_edges(
        "critic_reviews",
        after_critic,
        {"redraft": "advisor_drafts", "accepted": "observe_advisor", "failed": "finalize"},
    )
    graph.add_conditional_edges(
        "update_arc",
        after_arc,
        {"next exchange": "client_speaks", "done": "finalize", "failed": "finalize"},
    )
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)
