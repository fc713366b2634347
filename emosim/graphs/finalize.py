"""Assemble the validated record from the ledger and the final state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from emosim import __version__
from emosim.schemas import (
    AdvisorTurn,
    ArcMove,
    ClientTurn,
    ConversationRecord,
    EmotionalState,
    LabelEvent,
    LabelSource,
    Outcome,
    Provenance,
    Quality,
    ScenarioInfo,
)
from emosim.schemas.common import SCHEMA_VERSION

from .state import SimContext, SimState


def build_record(
    ctx: SimContext, state: SimState, *, now: datetime | None = None
) -> ConversationRecord:
    now = now or datetime.now(UTC)
    turns = ctx.ledger.turns(ctx.conversation_id, state.get("turn_count", 0))
    # a failure mid-exchange leaves a client turn without its reply: keep whole exchanges only
    if turns and turns[-1].speaker == "client":
        turns = turns[:-1]
    failed = state.get("status") == "failed"
    sc = ctx.scenario
    final_state = ctx.views.model(EmotionalState, state["hidden"]) if state.get("hidden") else None
    completed = ctx.arc.completed(state.get("progress", 0.0))
    moves = [ArcMove.model_validate(m) for m in state.get("arc_moves", [])]
    arc_outcome, arc_reason = _arc_outcome(ctx, state, moves, completed)
    record = ConversationRecord(
        id=ctx.conversation_id,
        schema_version=SCHEMA_VERSION,
        created_at=now,
        provenance=Provenance(
            source="simulated",
            engine_version=__version__,
            backends=ctx.agents.backends,
            prompt_hashes=ctx.agents.prompt_hashes,
            scenario_hash=ctx.scenario_hash,
            random_seed=ctx.seed,
            run_id=ctx.run_id,
        ),
        scenario=ScenarioInfo(
            scenario_id=sc.id,
            topic=sc.topic,
            subcategory=sc.subcategory,
            client_persona_id=ctx.persona.id,
            client_persona=ctx.persona,
            advisor_persona_id=ctx.catalog.advisor.id,
            advisor_persona_version=ctx.catalog.advisor.version,
            length_class=sc.length_class,
            phase=sc.phase,
            situation=sc.situation,
            planned_arc=ctx.arc.arc,
        ),
        lineage=sc.lineage,
        turns=turns,
        outcome=Outcome(
            status="failed" if failed else "completed",
            failure_reason=state.get("failure") if failed else None,
            arc_completed=completed,
            arc_outcome=arc_outcome,
            arc_reason=arc_reason,
            arc_moves=moves,
            final_state=final_state,
            resolution_summary=_summary(ctx, turns, final_state, failed, completed),
        ),
        quality=Quality(
            scores=quality_scores(turns) | ctx.agents.accounting.scores(ctx.conversation_id)
        ),
        label_events=model_label_events(
            ctx.conversation_id,
            turns,
            now,
            ctx.agents.sentence_observer.name,
            observer_sources(ctx.agents),
        ),
    )
    return record


def _arc_outcome(
    ctx: SimContext, state: SimState, moves: list[ArcMove], completed: bool
) -> tuple[str | None, str | None]:
    if not moves:
        return None, None
    steps = len(ctx.arc.arc)
    at = min(steps - 1, round(state.get("progress", 0.0))) + 1
    missed = [m for m in moves if m.movement != "advanced"]
    if completed:
        return "completed", f"reached step {steps} of {steps}" + (
            f" despite {len(missed)} reply(ies) that did not help" if missed else ""
        )
    worst = missed[-1] if missed else moves[-1]
    where = f"the arc ended at step {at} of {steps}"
    if any(m.client_left for m in moves) or state.get("leaving"):
        return "failed", (
            f"the client left after {len(missed)} setback(s); last: exchange {worst.exchange}, "
            f"{worst.reason}; {where}"
        )
    if state.get("progress", 0.0) < state.get("peak", 0.0) or moves[-1].movement == "regressed":
        return "regressed", f"exchange {worst.exchange}: {worst.reason}; {where}"
    reasons = "; ".join(f"exchange {m.exchange}: {m.reason}" for m in missed[-2:])
    return "stalled", f"{len(missed)} of {len(moves)} replies did not move it ({reasons}); {where}"


def _summary(
    ctx: SimContext, turns: list, final: EmotionalState | None, failed: bool, completed: bool
) -> str:
    name = ctx.persona.name.split()[0]
    clients = [t for t in turns if isinstance(t, ClientTurn) and t.ground_truth]
    advisors = [t for t in turns if isinstance(t, AdvisorTurn)]
    if not clients or final is None:
        return f"The conversation with {name} ended before a full exchange."
    start = clients[0].ground_truth
    rejected = sum(len(t.rejected_drafts) for t in advisors)
    arc_done = "reached" if completed else "did not reach"
    status = " The run failed before the planned length." if failed else ""
    return (
        f"{name} started {start.intensity_level} in {start.emotion.replace('_', ' ')} and ended "
        f"{final.intensity_level} in {final.emotion.replace('_', ' ')} after {len(advisors)} "
        f"exchanges and {arc_done} the end of the planned arc. The critic rejected {rejected} draft(s).{status}"
    )


def quality_scores(turns: list) -> dict[str, float]:
    clients = [t for t in turns if isinstance(t, ClientTurn) and t.ground_truth and t.annotation]
    advisors = [t for t in turns if isinstance(t, AdvisorTurn)]
    scores: dict[str, float] = {}
    if clients:
        n = len(clients)
        scores["observer_emotion_accuracy"] = round(
            sum(t.annotation.primary == t.ground_truth.emotion for t in clients) / n, 3
        )
        scores["observer_family_accuracy"] = round(
            sum(t.annotation.family == t.ground_truth.family for t in clients) / n, 3
        )
        scores["observer_intensity_mae"] = round(
            sum(abs(t.annotation.intensity - t.ground_truth.intensity) for t in clients) / n, 3
        )
    if advisors:
        scores["critic_first_pass_rate"] = round(
            sum(not t.rejected_drafts for t in advisors) / len(advisors), 3
        )
        scores["critic_mean_overall"] = round(
            sum(t.critic.scores.overall for t in advisors if t.critic) / len(advisors), 3
        )
        scores["trainable_share"] = round(
            sum(t.training_weight > 0 for t in advisors) / len(advisors), 3
        )
    return scores


def observer_sources(agents: Any) -> dict[str, LabelSource]:
    """Trained observers' provenance (model file, training data hash, license) by the name
    their labels carry; an observer without `label_source` (lexicons, rules, LLMs) is
    recorded by its name and version alone."""
    out: dict[str, LabelSource] = {}
    for role in ("emotion_observer", "strategy_observer", "sentence_observer"):
        source = getattr(getattr(agents, role, None), "label_source", None)
        if isinstance(source, LabelSource):
            out[f"{source.name}/{source.version}" if source.version else source.name] = source
    return out


def model_label_events(
    conversation_id: str,
    turns: list,
    now: datetime,
    sentence_observer: str,
    sources: dict[str, LabelSource] | None = None,
) -> list[LabelEvent]:
    """Every observer label enters the label history as a `model` event (validated in one
    batch: one call into pydantic's core instead of one per event and nested object).
    `sources` (observer_sources) gives trained observers' labels their model's provenance."""
    events: list[dict[str, Any]] = []
    known = sources or {}

    def add(
        turn: int,
        field: str,
        value: Any,
        source: str,
        confidence: float | None,
        sentence: int | None = None,
    ) -> None:
        suffix = f"s{sentence}" if sentence is not None else ""
        name, _, version = source.partition("/")
        provenance = known.get(source)
        events.append(
            {
                "event_id": f"{conversation_id}:t{turn}{suffix}:{field}:model",
                "created_at": now,
                "target": {
                    "conversation_id": conversation_id,
                    "turn_index": turn,
                    "sentence_index": sentence,
                    "field": field,
                },
                "value": value,
                "source": provenance.model_dump()
                if provenance is not None
                else {"kind": "model", "name": name, "version": version},
                "action": "suggest",
                "confidence": confidence,
                "reason": "observer annotation from the text alone",
            }
        )

    for t in turns:
        if isinstance(t, ClientTurn) and t.annotation:
            a = t.annotation
            add(t.index, "emotion", a.primary, a.observer, a.confidence)
            if a.secondary:
                add(t.index, "secondary_emotion", a.secondary, a.observer, a.confidence)
            add(t.index, "intensity", a.intensity, a.observer, a.confidence)
        elif isinstance(t, AdvisorTurn):
            if t.strategies:
                add(
                    t.index,
                    "strategy",
                    t.strategies.primary,
                    t.strategies.source,
                    t.strategies.confidence,
                )
            for s in t.sentences:
                add(
                    t.index,
                    "sentence_function",
                    s.function,
                    sentence_observer,
                    None,
                    sentence=s.index,
                )
    return _EVENTS.validate_python(events)


_EVENTS: TypeAdapter[list[LabelEvent]] = TypeAdapter(list[LabelEvent])
