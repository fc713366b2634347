"""Play scenarios through the simulation graph into a run folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosim.agents.arc import ArcController
from emosim.agents.backends import AgentSet, build_agents, check_backend
from emosim.catalog import Catalog, file_sha256
from emosim.errors import EmosimError
from emosim.heap import settle_long_lived
from emosim.runs import RunFolder, conversation_id, flush_events, package_versions
from emosim.schemas import ConversationRecord, Scenario

from .simulation import build_graph, routed_update
from .state import WORK, SimContext, SimState, working_set

DURABILITY = "sync"


@dataclass
class Job:
    """One conversation to play: a scenario (validated), where it came from, and a seed."""

    scenario: Scenario
    scenario_hash: str
    seed: int
    source: str = ""

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.scenario.id, self.seed, self.scenario_hash)


def load_job(catalog: Catalog, path: Path, seed: int | None) -> Job:
    scenario = catalog.load_scenario(path)
    return Job(scenario, file_sha256(path), scenario.seed if seed is None else seed, str(path))


class Simulator:
    """Owns a run folder's checkpointer and ledger; plays jobs and returns validated records.

    The checkpointer and ledger are the run's store (`RunFolder.open_store`: its SQLite file,
    or PostgreSQL); a conversation's thread is `store.thread(conversation)`.

    `settle_heap` freezes the loaded agents out of the garbage collector's sight and widens its
    young generation, process-wide (see `emosim.heap`); an application that tunes its own
    collector passes False."""

    def __init__(
        self,
        catalog: Catalog,
        run: RunFolder,
        backend: str = "scripted",
        observer: str = "lexicon",
        *,
        settle_heap: bool = True,
    ):
        self.catalog = catalog
        self.settle_heap = settle_heap
        self.run = run
        self.backend = backend
        self.observer = check_observer(observer)
        self.store = run.open_store()
        self.conn = self.store.conn
        self.saver = self.store.saver
        self.ledger = self.store.ledger
        self.graph = build_graph(self.saver)
        self._agents: dict[tuple[float, str], AgentSet] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def agents_for(self, scenario: Scenario) -> AgentSet:
        backend = scenario.backend or self.backend
        key = (scenario.anti_pattern_rate, json.dumps(backend, sort_keys=True))
        if key not in self._agents:
            self._agents[key] = make_agents(
                self.catalog, backend, self.observer, scenario.anti_pattern_rate, self.run
            )
            if self.settle_heap:
                settle_long_lived()
        return self._agents[key]

    def context(self, job: Job, log: Any, conversation: str | None = None) -> SimContext:
        return make_context(
            self.catalog,
            job,
            self.agents_for(job.scenario),
            self.ledger,
            self.run.run_id,
            log,
            conversation,
        )

    def config(self, conversation: str) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": self.store.thread(conversation)},
            "recursion_limit": 200,
        }

    def play(self, job: Job, log: Any) -> ConversationRecord:
        """Play (or resume) one conversation to its record."""
        ctx = self.context(job, log)
        config = self.config(ctx.conversation_id)
        snapshot = self.graph.get_state(config)
        if snapshot.values and not snapshot.next:
            if self.ledger.record(ctx.conversation_id) is None:
                self._recover_stalled(snapshot, config, ctx)
        elif snapshot.values and snapshot.next:
            self.graph.invoke(None, config, context=ctx, durability=DURABILITY)  # resume
        else:  # new, or killed before its first step was saved: start from the input
            initial = initial_work(ctx)
            self.graph.invoke({WORK: initial}, config, context=ctx, durability=DURABILITY)
        flush_events(log)
        return self.finished_record(ctx.conversation_id)

    def _recover_stalled(self, snapshot: Any, config: dict[str, Any], ctx: SimContext) -> None:
        """A kill between a step's saved writes and its checkpoint can leave a thread that
        LangGraph reports as finished (no next node) although its last task's writes were never
        folded in, so `invoke(None)` does nothing. Commit those writes as that node's update,
        which lets the graph's edges pick the next node, then continue."""
        done = [t for t in snapshot.tasks if t.result is not None and t.error is None]
        if not done:
            raise EmosimError(
                f"conversation {ctx.conversation_id}: checkpoints end without a record and "
                "without pending writes; inspect it with `emosim inspect`"
            )
        work = working_set(snapshot.values)
        for task in done:
            update = routed_update(task.name, work, working_set(task.result))
            self.graph.update_state(config, update, as_node=task.name)
        self.graph.invoke(None, config, context=ctx, durability=DURABILITY)

    def resume_from(self, job: Job, checkpoint_id: str, log: Any) -> ConversationRecord:
        """Re-execute a conversation from one of its checkpoints (replay)."""
        ctx = self.context(job, log)
        config = self.config(ctx.conversation_id)
        config["configurable"]["checkpoint_id"] = checkpoint_id
        self.graph.invoke(None, config, context=ctx, durability=DURABILITY)
        flush_events(log)
        return self.finished_record(ctx.conversation_id)

    def finished_record(self, conversation: str) -> ConversationRecord:
        self.ledger.forget(conversation)
        record = self.ledger.take_built(conversation)
        if record is not None:
            return record
        raw = self.ledger.record(conversation)
        if raw is None:
            raise EmosimError(f"conversation {conversation}: finished without a record")
        return ConversationRecord.model_validate_json(raw)


def make_agents(
    catalog: Catalog, backend: Any, observer: str, anti_pattern_rate: float, run: Any = None
) -> AgentSet:
    """The agents for a backend spec and an emotion observer (`run` receives a cassette)."""
    agents = build_agents(catalog, backend, anti_pattern_rate=anti_pattern_rate, run=run)
    emotion, strategy = parse_observers(observer)
    if emotion == "classifier":
        use_classifier_observer(catalog, agents)
    if strategy == "trained":
        use_trained_strategy_observer(catalog, agents)
    return agents


def make_context(
    catalog: Catalog,
    job: Job,
    agents: AgentSet,
    ledger: Any,
    run_id: str,
    log: Any,
    conversation: str | None = None,
) -> SimContext:
    """The run context of one conversation (also built by the Studio graph, per step)."""
    sc = job.scenario
    persona = catalog.clients[sc.client_persona]
    return SimContext(
        catalog=catalog,
        scenario=sc,
        persona=persona,
        agents=agents,
        arc=ArcController(catalog, sc.arc or persona.default_arc, sc.exchanges),
        ledger=ledger,
        conversation_id=conversation or job.conversation_id,
        run_id=run_id,
        seed=job.seed,
        scenario_hash=job.scenario_hash,
        log=log,
    )


def initial_work(ctx: SimContext) -> SimState:
    """The working set a new conversation starts from."""
    progress, hidden = ctx.arc.initial((ctx.seed, ctx.conversation_id))
    return {
        "exchange": 1,
        "turn_count": 0,
        "progress": progress,
        "hidden": hidden.model_dump(mode="json"),
        "movement": None,
        "facts_used": [],
        "strategies_history": [],
        "status": "running",
        "done": False,
    }


OBSERVERS = ("lexicon", "classifier")


STRATEGY_OBSERVERS = ("lexicon", "trained")


def observer_spec(emotion: str, strategy: str = "lexicon") -> str:
    """The run's observers as one string (kept in the manifest, so a resume uses the same):
    the emotion observer, then `,strategy=trained` when the strategy observer is not the
    lexicon."""
    if strategy not in STRATEGY_OBSERVERS:
        raise EmosimError(
            f"--strategy-observer: unknown strategy observer {strategy!r} "
            f"(available: {', '.join(STRATEGY_OBSERVERS)})"
        )
    return emotion if strategy == "lexicon" else f"{emotion},strategy={strategy}"


def parse_observers(spec: str) -> tuple[str, str]:
    """(emotion observer, strategy observer) of an observer spec (see `observer_spec`)."""
    emotion, _, rest = spec.partition(",")
    strategy = "lexicon"
    if rest:
        key, _, value = rest.partition("=")
        if key != "strategy" or value not in STRATEGY_OBSERVERS:
            raise EmosimError(
                f"observer spec {spec!r}: expected EMOTION[,strategy=STRATEGY] with STRATEGY "
                f"one of {', '.join(STRATEGY_OBSERVERS)}"
            )
        strategy = value
    if emotion not in OBSERVERS:
        raise EmosimError(
            f"--observer: unknown observer {emotion!r} (available: {', '.join(OBSERVERS)})"
        )
    return emotion, strategy


def check_observer(observer: str) -> str:
    parse_observers(observer)
    return observer


def use_classifier_observer(catalog: Catalog, agents: AgentSet) -> None:
    """Swap the emotion observer for the one trained on GoEmotions (built on first use)."""
    from emosim.agents.classifier import build_classifier_observer
    from emosim.schemas import BackendInfo

    observer = build_classifier_observer(catalog)
    agents.emotion_observer = observer
    agents.backends["emotion_observer"] = BackendInfo(backend="classifier", model=observer.name)


def use_trained_strategy_observer(catalog: Catalog, agents: AgentSet) -> None:
    """Swap the strategy observer for the one trained on ESConv (built on first use). Its labels
    inherit ESConv's CC BY-NC 4.0 license (the model's meta says so)."""
    from emosim.agents.classifier.strategy_observer import build_strategy_observer
    from emosim.schemas import BackendInfo

    observer = build_strategy_observer(catalog)
    agents.strategy_observer = observer
    agents.backends["strategy_observer"] = BackendInfo(backend="trained", model=observer.name)


def check_backends(catalog: Catalog, jobs: list[Job], backend: str) -> None:
    """Fail before a run folder exists: a bad backend spec or a missing key is one error."""
    for spec in {json.dumps(j.scenario.backend or backend, sort_keys=True) for j in jobs}:
        check_backend(catalog, json.loads(spec))


def job_entry(job: Job, conversation: str | None = None) -> dict[str, Any]:
    """A job as the manifest lists it: enough to replay, resume or fork it later."""
    return {
        "conversation_id": conversation or job.conversation_id,
        "scenario_id": job.scenario.id,
        "scenario_source": job.source,
        "scenario_hash": job.scenario_hash,
        "seed": job.seed,
        "scenario": job.scenario.model_dump(mode="json"),
    }


def manifest_for(
    catalog: Catalog, jobs: list[Job], backend: str, command: str, observer: str = "lexicon"
) -> dict[str, Any]:
    return {
        "command": command,
        "backend": backend,
        "observer": observer,
        "engine_version": package_versions()["emosim"],
        "versions": package_versions(),
        "data_hash": catalog.content_hash(),
        "jobs": [job_entry(j) for j in jobs],
    }


def run_jobs(
    catalog: Catalog,
    jobs: list[Job],
    runs_dir: Path,
    backend: str,
    label: str,
    command: str,
    observer: str = "lexicon",
) -> tuple[RunFolder, list[ConversationRecord]]:
    check_backends(catalog, jobs, backend)
    check_observer(observer)
    run = RunFolder.create(runs_dir, label)
    run.write_manifest(manifest_for(catalog, jobs, backend, command, observer))
    records = []
    with run.lock(command), Simulator(catalog, run, backend, observer) as sim, run.events() as log:
        for job in jobs:
            record = sim.play(job, log)
            run.append_records([record.model_dump_json()])
            records.append(record)
    return run, records
