"""The simulation graph's state and run context.

The state is the small working set of the current exchange: finished turns live in the
ledger, and everything fixed for the conversation (scenario, persona, agents) lives in the
run context, which is not checkpointed.

LangGraph keeps the working set in one channel (`GraphState.work`), and each node's update is
merged into it. A channel per field costs a checkpoint write, a version and a trigger check
per changed field (about 20 per exchange), and one channel measured ~0.06x less engine
overhead against the bare chain (`python -m benchmarks engine`). Checkpoints hold the same
values either way, so resume and step history are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from typing_extensions import TypedDict  # pydantic (Studio's schemas) needs it before 3.12

from emosim.agents.arc import ArcController
from emosim.agents.backends import AgentSet
from emosim.catalog import Catalog
from emosim.schemas import ClientPersona, Scenario

from .ledger import Ledger
from .views import Views


class SimState(TypedDict, total=False):
    exchange: int  # current exchange, 1-based
    turn_count: int  # turns committed to the ledger
    progress: float  # position along the arc (0 .. len(arc)-1)
    hidden: dict[str, Any]  # the client's true EmotionalState (only the client agent reads it)
    movement: str | None  # how the last reply landed: advanced, stalled, regressed
    movement_reason: str
    facts_used: list[str]
    client_text: str | None  # the client's message of this exchange, until observed
    observed: dict[str, Any] | None  # the emotion observer's reading of it
    attempt: int  # advisor draft number within this exchange
    draft: dict[str, Any] | None  # the current AdvisorOutput
    verdict: dict[str, Any] | None  # the critic's verdict on it
    rejected: list[dict[str, Any]]  # rejected drafts of this exchange
    redraft: bool
    strategies_history: list[str]  # primary strategy of each sent reply
    done: bool  # the last exchange has been played
    status: Literal["running", "completed", "failed"]
    failure: str | None
    # grounding and the arc's reading of what was said
    told: int  # situation sentences the client has told
    open_questions: list[dict[str, Any]]  # OpenQuestion
    observed_strategies: list[str]  # what the strategy observer found in the sent reply
    reading: dict[str, Any] | None  # ReplyReading of the sent reply
    findings: list[str]  # the critic's finding codes on the sent reply
    why: str | None  # what in the last reply moved the arc
    setbacks: int  # replies in a row that stalled or regressed
    peak: float  # furthest progress reached
    arc_moves: list[dict[str, Any]]  # ArcMove per sent reply
    leaving: bool  # the client has decided to leave
    closing: bool  # the next client message is their last


def merged(work: SimState, update: SimState) -> SimState:
    return {**work, **update}


WORK = "work"


class GraphState(TypedDict, total=False):
    """What LangGraph checkpoints: the working set, as one channel."""

    work: Annotated[SimState, merged]


def working_set(values: dict[str, Any]) -> SimState:
    """The working set out of a checkpoint's channel values (empty before the first step)."""
    return values.get(WORK) or {}


@dataclass
class SimContext:
    """Everything fixed for one conversation. Rebuilt from the manifest on resume or replay."""

    catalog: Catalog
    scenario: Scenario
    persona: ClientPersona
    agents: AgentSet
    arc: ArcController
    ledger: Ledger
    conversation_id: str
    run_id: str
    seed: int
    scenario_hash: str
    log: Any  # a structlog logger bound to the run's events file
    views: Views = field(default_factory=Views)  # models behind this conversation's state values
    # running facts and their numbers block, by turn count: read once per exchange, not in
    # every node (derived from the ledger, so a resume recomputes them identically)
    grounding_memo: dict[int, Any] = field(default_factory=dict)
