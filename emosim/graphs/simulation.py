"""The simulation graph: one conversation as a LangGraph state machine.

    client_speaks -> observe_client -> advisor_drafts -> critic_reviews
        critic_reviews --(rejected, budget left)--> advisor_drafts
        critic_reviews --(accepted or budget spent)--> observe_advisor
    observe_advisor -> update_arc --(more exchanges)--> client_speaks
                                  --(done)--> finalize

Any node whose agent fails (invalid output after its retries) marks the conversation failed
and routes to finalize, which still writes a record with the failure reason. The routes are
one table (ROUTES, at the bottom): each node returns its update with the next node.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import ValidationError

from emosim.agents.bank_answers import answer_bank
from emosim.agents.messages import (
    AdvisorInput,
    AdvisorOutput,
    ClientInput,
    ClientOutput,
    CriticInput,
    EmotionObserverInput,
    Line,
)
from emosim.agents.protocols import observe_strategies
from emosim.agents.reading import last_question, read_reply
from emosim.errors import AgentFailure
from emosim.grounding.gate import figure_findings, gated
from emosim.grounding.numbers import numbers_block
from emosim.grounding.observer import (
    RuleFactObserver,
    drop_check_backs,
    mark_echoes,
    merge_questions,
)
from emosim.grounding.trace import trace_figures
from emosim.schemas import (
    AdvisorTurn,
    ClientTurn,
    CriticVerdict,
    EmotionalState,
    EmotionAnnotation,
    RejectedDraft,
    StrategyUse,
)
from emosim.schemas.grounding import (
    CalculationUse,
    Grounding,
    OpenQuestion,
    ReplyReading,
    StatedFact,
)

from .context import checked_on, fact_base, situation_told, told_so_far
from .finalize import build_record
from .state import WORK, GraphState, SimContext, SimState

FACT_OBSERVER = RuleFactObserver()

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
    return [ctx.views.model(Line, t, _line) for t in turns]


def _line(turn: ClientTurn | AdvisorTurn) -> Line:
    return Line(speaker=turn.speaker, text=turn.text)


def _facts(ctx: SimContext, state: SimState) -> list[StatedFact]:
    """The running facts: what the fact observer read in each client turn, from the ledger
    (not the checkpointed working set, which stays small)."""
    return _grounding(ctx, state)[0]


def _numbers(ctx: SimContext, state: SimState) -> list[CalculationUse]:
    return _grounding(ctx, state)[1]


def _grounding(ctx: SimContext, state: SimState) -> tuple[list[StatedFact], list[CalculationUse]]:
    count = state.get("turn_count", 0)
    held = ctx.grounding_memo.get(count)
    if held is None:
        turns = ctx.ledger.turns(ctx.conversation_id, count)
        facts = [f for t in turns if isinstance(t, ClientTurn) and t.facts for f in t.facts.facts]
        held = ctx.grounding_memo[count] = (facts, numbers_block(facts))
    return held


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
        hidden_state=ctx.views.model(EmotionalState, state["hidden"]),
        transcript=_transcript(ctx, state),
        exchange=state["exchange"],
        exchanges=ctx.scenario.exchanges,
        movement=state.get("movement"),
        last_advisor_strategy=history[-1] if history else None,
        facts_used=state.get("facts_used", []),
        situation_told=situation_told(ctx),
        told=state.get("told", 0),
        why=state.get("why"),
        reading=ctx.views.model(ReplyReading, state["reading"]) if state.get("reading") else None,
        leaving=state.get("leaving", False),
    )
    reply = ClientOutput.model_validate(ctx.agents.client.speak(request, seed=ctx.seed))
    said = " ".join([*(t.text for t in request.transcript if t.speaker == "client"), reply.text])
    told = max(reply.told, told_so_far(request.situation_told, said))
    return {"client_text": reply.text, "facts_used": reply.facts_used, "told": told}


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
                previous=ctx.views.model(EmotionAnnotation, previous) if previous else None,
                context=transcript[-2:],
            )
        )
    )
    stated = FACT_OBSERVER.observe(state["client_text"], index)
    # a figure Elena said first, in any reply, is the client quoting her when they repeat it
    said_before = " ".join(t.text for t in transcript if t.speaker == "advisor") or None
    stated = stated.model_copy(
        update={
            "facts": mark_echoes(stated.facts, said_before),
            "questions": drop_check_backs(stated.questions, said_before),
        }
    )
    turn = ClientTurn(
        index=index,
        exchange=state["exchange"],
        text=state["client_text"],
        ground_truth=ctx.views.model(EmotionalState, state["hidden"]),
        annotation=annotation,
        facts=stated,
    )
    ctx.ledger.put_turn(ctx.conversation_id, index, turn)
    reading = state.get("reading")
    answered = reading["question"] if reading and reading.get("answered") else None
    questions = merge_questions(
        [OpenQuestion.model_validate(q) for q in state.get("open_questions", [])],
        index,
        stated.questions,
        answered,
    )
    return {
        "turn_count": index + 1,
        "client_text": None,
        "observed": ctx.views.dump(annotation),
        "attempt": 1,  # draft, verdict and rejected were cleared by the last update_arc
        "open_questions": [q.model_dump() for q in questions[-6:]],
    }


@traced("advisor_drafts")
def advisor_drafts(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    feedback = (
        ctx.views.model(CriticVerdict, state["verdict"]).findings if state.get("verdict") else []
    )
    shared = {f.id: f.reflection for f in ctx.persona.facts}
    facts = _facts(ctx, state)
    request = AdvisorInput(
        client_name=ctx.persona.name,
        topic=ctx.scenario.topic,
        subcategory=ctx.scenario.subcategory,
        transcript=_transcript(ctx, state),
        observed=ctx.views.model(EmotionAnnotation, state["observed"]),
        exchange=state["exchange"],
        exchanges=ctx.scenario.exchanges,
        attempt=state["attempt"],
        critic_feedback=feedback,
        previous_strategies=state.get("strategies_history", []),
        shared_facts=[shared[f] for f in state.get("facts_used", []) if f in shared],
        facts=facts,
        open_questions=[OpenQuestion.model_validate(q) for q in state.get("open_questions", [])],
        numbers=_numbers(ctx, state),
        client_closing=state.get("closing", False),
    )
    draft = AdvisorOutput.model_validate(ctx.agents.advisor.draft(request, seed=ctx.seed))
    return {"draft": ctx.views.dump(draft)}


@traced("critic_reviews")
def critic_reviews(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = ctx.views.model(AdvisorOutput, state["draft"])
    facts, numbers = _grounding(ctx, state)
    verdict = CriticVerdict.model_validate(
        ctx.agents.critic.review(
            CriticInput(
                draft=draft.text,
                observed=ctx.views.model(EmotionAnnotation, state["observed"]),
                transcript=_transcript(ctx, state),
                facts=facts,
                numbers=numbers,
            )
        )
    )
    # every backend's critic is held to the same rule: no figure without an origin
    verdict = gated(
        verdict, figure_findings(draft.text, facts, numbers, fact_base(ctx), checked_on(ctx))
    )
    update: dict[str, Any] = {"verdict": ctx.views.dump(verdict), "redraft": False}
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
            "rejected": [*state.get("rejected", []), ctx.views.dump(rejected)],
        }
    return update


@traced("observe_advisor")
def observe_advisor(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = ctx.views.model(AdvisorOutput, state["draft"])
    verdict = ctx.views.model(CriticVerdict, state["verdict"])
    transcript = _transcript(ctx, state)
    client_text = next((t.text for t in reversed(transcript) if t.speaker == "client"), None)
    observed = StrategyUse.model_validate(
        observe_strategies(ctx.agents.strategy_observer, draft.text, client_text)
    )
    sentences = ctx.agents.sentence_observer.label(draft.text)
    intended = {s.text: s.function for s in draft.sentences}
    for sentence in sentences:
        sentence.intended_function = intended.get(sentence.text)
    index = state["turn_count"]
    facts, numbers = _grounding(ctx, state)
    trace = trace_figures(
        draft.text, facts=facts, calculations=numbers, fact_base=fact_base(ctx), on=checked_on(ctx)
    )
    used_calcs = {f.source_id for f in trace.figures if f.origin == "calculation"}
    hers = " ".join(t.text for t in transcript if t.speaker == "advisor")
    question = last_question(client_text, hers)
    bank = answer_bank(ctx.catalog) if question else None
    reading = read_reply(
        client_text,
        draft.text,
        facts=facts,
        key_terms=ctx.catalog.topics[ctx.scenario.topic].key_terms,
        explained_before=hers,
        answers=bank.answers_to(question, ctx.scenario.topic) if bank and question else (),
        said_before=hers or None,
    )
    taken_up = {f.source_id for f in trace.figures if f.origin == "client_fact"}
    for calc in numbers:
        if calc.name in used_calcs:
            taken_up |= set(calc.input_facts.values())
    grounding = Grounding(
        figures=trace.figures,
        calculations=[c for c in numbers if c.name in used_calcs],
        answered_question=reading.question if reading.answered else None,
        facts_taken_up=sorted(f for f in taken_up if f),
    )
    turn = AdvisorTurn(
        index=index,
        exchange=state["exchange"],
        text=draft.text,
        grounding=grounding,
        reading=reading,
        intended_strategies=draft.strategies,
        strategies=observed,
        sentences=sentences,
        learning_objective=draft.learning_objective,
        critic=verdict,
        rejected_drafts=[ctx.views.model(RejectedDraft, r) for r in state.get("rejected", [])],
        training_weight=1.0 if verdict.accepted and draft.anti_pattern is None else 0.0,
    )
    ctx.ledger.put_turn(ctx.conversation_id, index, turn)
    return {
        "turn_count": index + 1,
        "strategies_history": [*state.get("strategies_history", []), draft.strategies.primary],
        "observed_strategies": [observed.primary, *observed.combination],
        "reading": reading.model_dump(),
        "findings": [f.code for f in verdict.findings],
    }


@traced("update_arc")
def update_arc(state: SimState, runtime: Runtime[SimContext]) -> dict[str, Any]:
    ctx = runtime.context
    draft = ctx.views.model(AdvisorOutput, state["draft"])
    reading = ReplyReading.model_validate(state["reading"]) if state.get("reading") else None
    closing = state.get("closing", False)
    if closing:  # the client has signed off: Elena's goodbye does not move the arc
        return {
            "exchange": state["exchange"] + 1,
            "done": True,
            "draft": None,
            "verdict": None,
            "rejected": [],
            "arc_moves": [
                *state.get("arc_moves", [])[:-1],
                *(
                    [{**state["arc_moves"][-1], "client_left": state.get("leaving", False)}]
                    if state.get("arc_moves")
                    else []
                ),
            ],
        }
    result = ctx.arc.update(
        state["progress"],
        ctx.views.model(EmotionalState, state["hidden"]),
        state.get("observed_strategies", []),  # what the observer found, not the plan
        draft.anti_pattern,
        seed=(ctx.seed, ctx.conversation_id, state["exchange"]),
        reading=reading,
        findings=state.get("findings", []),
        literacy=ctx.persona.financial_literacy,
        setbacks=state.get("setbacks", 0),
        last_why=state.get("why"),
    )
    leaving = result.client_leaves
    last = state["exchange"] >= ctx.scenario.exchanges
    move = {
        "exchange": state["exchange"],
        "movement": result.movement,
        "reason": result.reason,
        "why": result.why,
        "client_left": False,
    }
    return {
        "progress": result.progress,
        "peak": max(state.get("peak", 0.0), result.progress),
        "hidden": ctx.views.dump(result.state),
        "movement": result.movement,
        "movement_reason": result.reason,
        "why": result.why,
        "setbacks": result.setbacks,
        "arc_moves": [*state.get("arc_moves", []), move],
        # a client who has had enough says so in their next (last) message
        "leaving": leaving or state.get("leaving", False),
        "closing": leaving or (state["exchange"] + 1 >= ctx.scenario.exchanges),
        "exchange": state["exchange"] + 1,
        "done": last,
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


# node -> (decision on the state after the node's update, {decision: next node})
ROUTES: dict[str, tuple[Callable[[SimState], str], dict[str, str]]] = {
    "client_speaks": (ok_or_failed, {"ok": "observe_client", "failed": "finalize"}),
    "observe_client": (ok_or_failed, {"ok": "advisor_drafts", "failed": "finalize"}),
    "advisor_drafts": (ok_or_failed, {"ok": "critic_reviews", "failed": "finalize"}),
    "critic_reviews": (
        after_critic,
        {"redraft": "advisor_drafts", "accepted": "observe_advisor", "failed": "finalize"},
    ),
    "observe_advisor": (ok_or_failed, {"ok": "update_arc", "failed": "finalize"}),
    "update_arc": (
        after_arc,
        {"next exchange": "client_speaks", "done": "finalize", "failed": "finalize"},
    ),
}


def next_node(node: str, state: SimState) -> str:
    """Where the graph goes after `node` has brought the state to `state`."""
    decide, targets = ROUTES[node]
    return targets[decide(state)]


def routed_update(node: str, work: SimState, update: dict[str, Any]) -> Any:
    """A node's update as LangGraph takes it: into the working set, with the next node when
    `node` routes."""
    written = {WORK: update}
    if node not in ROUTES:
        return written
    return Command(update=written, goto=next_node(node, {**work, **update}))  # type: ignore[typeddict-item]


def _step(node: str, body: Node) -> Callable[..., Any]:
    """The node as LangGraph runs it: the body reads the working set and updates it.

    Not `functools.wraps`: LangGraph reads a node's input schema off its annotations."""

    def step(state: GraphState, runtime: Runtime[SimContext]) -> Any:
        work = state[WORK]
        return routed_update(node, work, body(work, runtime))

    step.__name__ = node
    return step


def _labels(targets: dict[str, str]) -> dict[str, str]:
    """Edge labels for drawing: decisions that lead to the same node share one edge."""
    labels: dict[str, list[str]] = {}
    for decision, target in targets.items():
        labels.setdefault(target, []).append(decision)
    return {target: " / ".join(decisions) for target, decisions in labels.items()}


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
    """The compiled simulation graph. `nodes` swaps node bodies (benchmarks use no-ops).

    Each node returns its update together with the next node (a LangGraph `Command`), decided
    by ROUTES on the updated state; one routing step per node is cheaper than a conditional
    edge, and the drawing shows the same labelled edges."""
    body = {**NODES, **(nodes or {})}
    graph = StateGraph(GraphState, context_schema=SimContext)
    for name, func in body.items():
        targets = _labels(ROUTES[name][1]) if name in ROUTES else None
        graph.add_node(name, _step(name, func), destinations=targets)
    graph.add_edge(START, "client_speaks")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)
