"""The run context of a Studio step, rebuilt from the thread's state.

Studio passes JSON, not the Python objects nodes need, so each node builds its `SimContext`
from the thread's `job` (the scenario as a run manifest lists it, seed, backend, observer,
run id) the way `emosim run` does (`make_context`). Agents are built once per backend and
observer and shared, as in a batch; the turn ledger is the thread's own `turns`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import structlog

from emosim.catalog import Catalog, get_catalog
from emosim.graphs.ledger import TURN
from emosim.graphs.runner import Job, make_agents, make_context
from emosim.graphs.state import SimContext
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord, LineageInfo, Scenario

LOG = structlog.get_logger("emosim.studio")

_catalog: list[Catalog] = []
_jobs: dict[str, Job] = {}
_agents: dict[str, Any] = {}
_agents_lock = threading.Lock()  # runs start on several threads; agents are built once
# id(turn dict) -> (dict, model): a run's steps hand the same dicts on, validated once
_turn_models: dict[int, tuple[dict[str, Any], ClientTurn | AdvisorTurn]] = {}


def catalog() -> Catalog:
    """The project's catalog, loaded once: the server calls reducers and routes on its event
    loop, where file access is refused (`langgraph dev` checks), so the graph loads it when
    it is built."""
    if not _catalog:
        _catalog.append(get_catalog())
    return _catalog[0]


class StateLedger:
    """The ledger interface nodes use, over a thread's `turns` (and what a step adds)."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self._models: list[ClientTurn | AdvisorTurn] | None = None
        self.start: int | None = None  # first turn index this step wrote
        self.built: ConversationRecord | None = None

    def _all(self) -> list[ClientTurn | AdvisorTurn]:
        if self._models is None:
            self._models = [_turn(row) for row in self.rows]
        return self._models

    def turns(self, conversation_id: str, upto: int) -> list[ClientTurn | AdvisorTurn]:
        return self._all()[:upto]

    def put_turn(self, conversation_id: str, index: int, turn: ClientTurn | AdvisorTurn) -> None:
        models = self._all()
        del models[index:]
        models.append(turn)
        self.start = index if self.start is None else min(self.start, index)

    def put_record(self, conversation_id: str, record: ConversationRecord) -> None:
        self.built = record

    def written(self) -> list[dict[str, Any]]:
        """The turns this step committed, as state values."""
        if self.start is None:
            return []
        return [t.model_dump(mode="json") for t in self._all()[self.start :]]


def _turn(row: dict[str, Any]) -> ClientTurn | AdvisorTurn:
    held = _turn_models.get(id(row))
    if held is not None and held[0] is row:
        return held[1]
    if len(_turn_models) > 20_000:
        _turn_models.clear()
    model = TURN.validate_python(row)
    _turn_models[id(row)] = (row, model)
    return model


def job_of(entry: dict[str, Any]) -> Job:
    key = json.dumps(entry, sort_keys=True)
    job = _jobs.get(key)
    if job is None:
        job = _jobs[key] = Job(
            Scenario.model_validate(entry["scenario"]),
            entry["scenario_hash"],
            int(entry["seed"]),
            entry.get("scenario_source", ""),
        )
    return job


def agents_for(job: Job, backend: Any, observer: str) -> Any:
    """Shared agents per backend spec, observer and anti-pattern rate (a scenario's own
    backend wins, as in `emosim run`)."""
    spec = job.scenario.backend or backend
    return _shared_agents(spec, observer, job.scenario.anti_pattern_rate)


def _shared_agents(spec: Any, observer: str, anti_pattern_rate: float) -> Any:
    key = json.dumps([spec, observer, anti_pattern_rate], sort_keys=True)
    with _agents_lock:
        if key not in _agents:
            _agents[key] = make_agents(catalog(), spec, observer, anti_pattern_rate)
        return _agents[key]


def warm_up() -> threading.Thread:
    """Build the default (scripted, lexicon) agents in the background, so that the first
    run started from Studio does not wait for them."""
    rate = Scenario.model_fields["anti_pattern_rate"].default
    thread = threading.Thread(
        target=_shared_agents, args=("scripted", "lexicon", rate), name="emosim-warm-up"
    )
    thread.daemon = True
    thread.start()
    return thread


def sim_context(
    entry: dict[str, Any],
    conversation: str,
    lineage: dict[str, Any] | None,
    ledger: StateLedger,
) -> SimContext:
    job = job_of(entry)
    if lineage:
        scenario = job.scenario.model_copy(update={"lineage": LineageInfo.model_validate(lineage)})
        job = dataclasses.replace(job, scenario=scenario)
    agents = agents_for(job, entry["backend"], entry["observer"])
    return make_context(catalog(), job, agents, ledger, entry["run_id"], LOG, conversation)
