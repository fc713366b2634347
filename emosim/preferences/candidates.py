"""Candidate replies for an advisor turn, generated from the turn's checkpoint.

Each alternative is played through the simulation graph itself, from the checkpoint taken
just before Elena drafted the original (client observed, nothing drafted yet): the same
transcript, observed emotion, open questions and running facts. It runs the advisor ->
critic -> observers steps and stops before the arc would move, so a candidate is drafted,
critic-reviewed (redrafted within the scenario's budget, then kept with its verdict) and
observer-labelled exactly as a sent reply is. Alternatives differ in approach: each leads with
another strategy that fits the client's observed emotion (taxonomy order, the original's lead
excluded), optionally on another backend.

The run itself is never changed: candidates play in a scratch copy of its checkpoints, and
only RUN/candidates/ is written (the sets, and the model calls of model backends, one
cassette per backend spec, so that `--replay` answers them again with no calls).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosim.agents.backends import AgentSet, backend_plan
from emosim.agents.messages import AdvisorInput, AdvisorOutput
from emosim.agents.scripted.advisor import RETROSPECTIVE
from emosim.catalog import Catalog
from emosim.debugging import Checkpoint, RunInspector, scratch_copy
from emosim.errors import EmosimError
from emosim.graphs.runner import Job, Simulator, check_backends, make_agents, make_context
from emosim.graphs.simulation import routed_update
from emosim.graphs.state import working_set
from emosim.runs import RunFolder
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord, EmotionAnnotation
from emosim.schemas.record import StrategyUse

from .models import (
    CANDIDATES_DIR,
    Candidate,
    CandidateOrigin,
    CandidateSet,
    ContextTurn,
    EmotionFit,
    candidate_id,
)
from .store import load_run_candidates

MODELS_DIR = "models"
REDRAWS = 3
"""Draws per alternative asked for, at most: a draft whose words repeat another candidate's
(model backends can say the same thing twice), or that an agent failed on, gives way to one led
by the next fitting strategy."""


# --- choosing turns and plans --------------------------------------------------------------


def parse_turns(text: str | None) -> list[int] | None:
    """`all` (or nothing) -> None; `1,3` -> [1, 3]."""
    if text is None or text.strip().lower() == "all":
        return None
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise EmosimError(
                f"--turns: expected 'all' or advisor turn indices such as 1,3; got {text!r}"
            )
        out.append(int(part))
    return sorted(set(out))


def lead_strategies(
    catalog: Catalog, observed: EmotionAnnotation, exchange: int, exclude: set[str], k: int
) -> list[str]:
    """Up to k strategies to lead alternatives with: those the taxonomy lists as helpful for
    the observed emotion (its order), then the emotion family's lead strategies, then the rest
    of the taxonomy; never a harmful one, nothing retrospective in the first exchange."""
    emotion = catalog.emotions[observed.primary]
    adaptation = next((a for a in catalog.advisor.adaptations if a.family == emotion.family), None)
    order = [
        *emotion.helpful_strategies,
        *(adaptation.lead_strategies if adaptation else []),
        *catalog.strategies,
    ]
    banned = set(emotion.harmful_strategies) | exclude
    if exchange == 1:
        banned |= RETROSPECTIVE
    return [s for s in dict.fromkeys(order) if s not in banned and s in catalog.strategies][:k]


def emotion_fit(
    catalog: Catalog, observed: EmotionAnnotation | None, strategies: StrategyUse | None
) -> EmotionFit | None:
    if observed is None or strategies is None or observed.primary not in catalog.emotions:
        return None
    emotion = catalog.emotions[observed.primary]
    used = [strategies.primary, *strategies.combination]
    helpful = [s for s in used if s in emotion.helpful_strategies]
    harmful = [s for s in used if s in emotion.harmful_strategies]
    return EmotionFit(
        emotion=observed.primary,
        intensity_level=observed.intensity_level,
        fit="harmful" if harmful else "helpful" if helpful else "neutral",
        helpful=helpful,
        harmful=harmful,
    )


def candidate_seed(seed: int, conversation: str, turn: int, slot: int, draw: int) -> int:
    """A candidate's own seed: same set seed -> same candidates, in any run."""
    key = f"{seed}:{conversation}:{turn}:{slot}:{draw}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def models_folder(run: RunFolder, spec: str) -> Path:
    """Where the model calls of one backend spec are kept: RUN/candidates/models/<hash>/."""
    return run.path / CANDIDATES_DIR / MODELS_DIR / hashlib.sha256(spec.encode()).hexdigest()[:12]


# --- the advisor with a given lead -----------------------------------------------------------


class LeadAdvisor:
    """The backend's advisor, told which strategy to lead with (on every draft of the turn)."""

    def __init__(self, inner: Any, lead: str | None):
        self.inner = inner
        self.lead = lead
        self.name = getattr(inner, "name", "advisor")

    def draft(self, request: AdvisorInput, *, seed: int) -> AdvisorOutput:
        if self.lead is not None:
            request = request.model_copy(update={"lead_strategy": self.lead})
        return self.inner.draft(request, seed=seed)


# --- results -----------------------------------------------------------------------------


@dataclass
class Skipped:
    conversation: str
    turn_index: int
    reason: str


@dataclass
class CandidateRun:
    """What one `emosim candidates` call made."""

    sets: list[CandidateSet] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    generated: int = 0  # alternatives kept (originals not counted)
    redrawn: int = 0  # draws that repeated another candidate's words
    failed: int = 0  # draws an agent failed on
    seconds: float = 0.0


@dataclass(frozen=True)
class Target:
    """One advisor turn to make candidates for."""

    record: ConversationRecord
    job: Job
    turn: AdvisorTurn
    client: ClientTurn
    checkpoint: Checkpoint


# --- the maker -----------------------------------------------------------------------------


class CandidateMaker:
    """Generates candidate sets for a run's advisor turns (use as a context manager).

    `backends`: the spec each alternative's advisor is played by, in turn (default: the run's
    own). The critic and the observers are always the run's own, so every candidate of a set
    is judged and labelled alike. `replay`: model backends answer from the cassettes an
    earlier call recorded under RUN/candidates/models/, and nothing is recorded."""

    def __init__(
        self,
        catalog: Catalog,
        run: RunFolder,
        backends: list[str] | None = None,
        *,
        replay: bool = False,
    ):
        self.catalog = catalog
        self.run = run
        self.inspector = RunInspector(catalog, run)
        manifest = self.inspector.manifest
        self.run_backend: str = manifest.get("backend", "scripted")
        if not isinstance(self.run_backend, str):
            self.run_backend = json.dumps(self.run_backend, sort_keys=True)
        self.observer: str = manifest.get("observer", "lexicon")
        self.backends = list(backends or [self.run_backend])
        self.replay = replay
        self._agents: dict[str, AgentSet] = {}
        self._stack = ExitStack()
        self._sim: Simulator | None = None
        self._log: Any = None
        self._threads = 0

    def __enter__(self) -> CandidateMaker:
        if not self.run.storage().postgres and not self.run.checkpoints_path.exists():
            raise EmosimError(f"run {self.run.run_id}: no checkpoints to generate candidates from")
        if not self.replay:
            jobs = [self.inspector.job(c) for c in list(self.inspector.jobs)[:1]]
            for spec in dict.fromkeys([self.run_backend, *self.backends]):
                check_backends(self.catalog, jobs, spec)
        copy = self._stack.enter_context(scratch_copy(self.run))
        self._sim = self._stack.enter_context(
            Simulator(self.catalog, copy, self.run_backend, self.observer)
        )
        self._log = self._stack.enter_context(copy.events())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("CandidateMaker is used as a context manager")
        return self._sim

    # --- agents ----------------------------------------------------------------------------

    def _spec(self, spec: str) -> str:
        """The spec as played: a model spec answers from its recorded cassette on replay."""
        if self.replay and backend_plan(spec).uses_models():
            return f"replay:{models_folder(self.run, spec)}"
        return spec

    def agents(self, spec: str) -> AgentSet:
        if spec not in self._agents:
            record_to = None
            if not self.replay and backend_plan(spec).uses_models():
                folder = models_folder(self.run, spec)
                folder.mkdir(parents=True, exist_ok=True)
                record_to = RunFolder(folder)
            self._agents[spec] = make_agents(
                self.catalog, self._spec(spec), self.observer, 0.0, record_to
            )
        return self._agents[spec]

    def agent_set(self, spec: str, lead: str | None) -> AgentSet:
        """The run's critic and observers, with `spec`'s advisor leading with `lead`."""
        base = self.agents(self.run_backend)
        writer = self.agents(spec)
        backends = {**base.backends, "advisor": writer.backends["advisor"]}
        return dataclasses.replace(
            base, advisor=LeadAdvisor(writer.advisor, lead), backends=backends
        )

    # --- targets ---------------------------------------------------------------------------

    @functools.cached_property
    def records(self) -> dict[str, ConversationRecord]:
        """The run's records, read once (the file holds every conversation of the run)."""
        return self.inspector.records()

    def record(self, conversation: str) -> ConversationRecord:
        self.inspector.job(conversation)  # an unknown id is one clear error
        record = self.records.get(conversation)
        if record is None:
            raise EmosimError(
                f"run {self.run.run_id}: conversation {conversation!r} has no record yet"
            )
        return record

    def conversations(self, wanted: list[str] | None) -> list[str]:
        """The conversations asked for (each checked), or every finished one of the run."""
        if wanted:
            for conversation in wanted:
                self.record(conversation)
            return list(dict.fromkeys(wanted))
        return [
            c
            for c in self.inspector.jobs
            if c in self.records and self.records[c].outcome.status == "completed"
        ]

    def targets(
        self, conversation: str, turns: list[int] | None, *, named: bool = True
    ) -> list[Target | Skipped]:
        """The advisor turns to make candidates for. A client turn is one clear error, and so
        is a turn past the end of a `named` conversation (one of a whole run is skipped)."""
        record = self.record(conversation)
        job = self.inspector.job(conversation)
        advisor = [t.index for t in record.advisor_turns]
        for index in turns or []:
            if index % 2 == 0:
                raise EmosimError(
                    f"--turns: turn {index} is a client turn; candidates replace advisor turns "
                    f"(odd indices; {conversation}: {_listed(advisor)})"
                )
            if index >= len(record.turns) and named:
                raise EmosimError(
                    f"--turns: conversation {conversation} has turns 0..{len(record.turns) - 1}; "
                    f"turn {index} is not one of them (advisor turns: {_listed(advisor)})"
                )
        out: list[Target | Skipped] = []
        if turns is not None:
            out += [
                Skipped(conversation, i, "the conversation is shorter")
                for i in turns
                if i >= len(record.turns)
            ]
            turns = [i for i in turns if i < len(record.turns)]
        history = self.inspector.history(conversation, self.sim)
        for index in turns if turns is not None else advisor:
            turn = record.turns[index]
            client = record.turns[index - 1]
            assert isinstance(turn, AdvisorTurn) and isinstance(client, ClientTurn)
            cp = next(
                (
                    c
                    for c in history
                    if c.node == "observe_client"
                    and c.next == ("advisor_drafts",)
                    and c.turn_count == index
                ),
                None,
            )
            if cp is None:
                out.append(Skipped(conversation, index, "no checkpoint before this reply"))
            elif cp.values.get("closing"):
                out.append(
                    Skipped(conversation, index, "the client signs off: a goodbye has one approach")
                )
            else:
                out.append(Target(record, job, turn, client, cp))
        return out

    # --- generation ------------------------------------------------------------------------

    def draft_at(
        self,
        target: Target,
        *,
        lead: str | None,
        seed: int,
        spec: str,
        anti_pattern_rate: float = 0.0,
    ) -> tuple[AdvisorTurn | None, str | None, str]:
        """Play advisor -> critic -> observers from the target's checkpoint on a new thread.
        Returns (the turn, or None with the failure reason, and the checkpoint's thread)."""
        sim = self.sim
        conversation = target.record.id
        index = target.turn.index
        self._threads += 1
        thread = f"{conversation}--cand-t{index}-{self._threads}"
        for position, turn in enumerate(target.record.turns[:index]):
            sim.ledger.put_turn(thread, position, turn)
        sim.conn.commit()
        agents = self.agent_set(spec, lead)
        if anti_pattern_rate:  # the original's own settings: only `draft_at` callers use it
            agents = dataclasses.replace(
                agents, advisor=LeadAdvisor(self._advisor_with_rate(spec, anti_pattern_rate), lead)
            )
        scenario = target.job.scenario.model_copy(update={"anti_pattern_rate": anti_pattern_rate})
        job = Job(scenario, target.job.scenario_hash, seed, target.job.source)
        ctx = make_context(
            self.catalog, job, agents, sim.ledger, self.run.run_id, self._log, thread
        )
        config = sim.config(thread)
        values = json.loads(json.dumps(target.checkpoint.values))
        sim.graph.update_state(
            config, routed_update("observe_client", values, values), as_node="observe_client"
        )
        sim.graph.invoke(
            None, config, context=ctx, durability="sync", interrupt_before=["update_arc"]
        )
        state = working_set(sim.graph.get_state(config).values)
        if state.get("status") == "failed":
            return None, str(state.get("failure") or "failed"), thread
        turns = sim.ledger.turns(thread, index + 1)
        sim.ledger.forget(thread)
        made = turns[-1] if len(turns) == index + 1 else None
        if not isinstance(made, AdvisorTurn):
            return None, "no reply was committed", thread
        return made, None, thread

    def _advisor_with_rate(self, spec: str, rate: float) -> Any:
        key = f"{spec}\n{rate}"
        if key not in self._agents:
            self._agents[key] = make_agents(self.catalog, self._spec(spec), self.observer, rate)
        return self._agents[key].advisor

    def make_set(
        self, target: Target, n: int, seed: int, result: CandidateRun
    ) -> CandidateSet | None:
        """The original and up to n-1 alternatives; None when no alternative could be made."""
        conversation = target.record.id
        index = target.turn.index
        observed = target.client.annotation
        original = self.original(target)
        exclude = {original.primary} if original.primary else set()
        if observed is not None and observed.primary in self.catalog.emotions:
            leads = lead_strategies(
                self.catalog, observed, target.turn.exchange, exclude, len(self.catalog.strategies)
            )
        else:
            leads = []
        candidates = [original]
        texts = {original.text}
        wanted = max(0, n - 1)
        draws = 0
        for lead in leads:  # a draw that fails or repeats words gives way to the next lead
            slot = len(candidates)
            if slot > wanted or draws >= wanted * REDRAWS:
                break
            spec = self.backends[(slot - 1) % len(self.backends)]
            cseed = candidate_seed(seed, conversation, index, slot, draws)
            draws += 1
            turn, _, _ = self.draft_at(target, lead=lead, seed=cseed, spec=spec)
            if turn is None:
                result.failed += 1
                continue
            if turn.text in texts:
                result.redrawn += 1
                continue
            texts.add(turn.text)
            candidates.append(self.candidate(target, turn, spec, cseed, "emotion_fit", lead))
            result.generated += 1
        if len(candidates) < 2:
            return None
        return CandidateSet(
            conversation_id=conversation,
            turn_index=index,
            run_id=self.run.run_id,
            checkpoint_id=target.checkpoint.checkpoint_id,
            seed=seed,
            n=n,
            backends=self.backends,
            context=[
                ContextTurn(index=t.index, speaker=t.speaker, text=t.text)
                for t in target.record.turns[:index]
            ],
            client_state=observed,
            candidates=candidates,
        )

    def original(self, target: Target) -> Candidate:
        info = target.record.provenance.backends.get("advisor")
        turn = target.turn
        origin = CandidateOrigin(
            backend=info.backend if info else self.run_backend,
            model=info.model if info else None,
            seed=target.job.seed,
            plan_source="original",
            checkpoint_id=target.checkpoint.checkpoint_id,
            attempts=len(turn.rejected_drafts) + 1,
        )
        return self._candidate(target, turn, origin, is_original=True)

    def candidate(
        self,
        target: Target,
        turn: AdvisorTurn,
        spec: str,
        seed: int,
        plan_source: str,
        lead: str | None,
    ) -> Candidate:
        info = self.agents(spec).backends.get("advisor")
        origin = CandidateOrigin(
            backend=spec,
            model=info.model if info else None,
            seed=seed,
            plan_source=plan_source,  # type: ignore[arg-type]
            lead_strategy=lead,
            checkpoint_id=target.checkpoint.checkpoint_id,
            attempts=len(turn.rejected_drafts) + 1,
        )
        return self._candidate(target, turn, origin, is_original=False)

    def _candidate(
        self, target: Target, turn: AdvisorTurn, origin: CandidateOrigin, *, is_original: bool
    ) -> Candidate:
        conversation = target.record.id
        return Candidate(
            candidate_id=candidate_id(conversation, turn.index, turn.text),
            conversation_id=conversation,
            turn_index=turn.index,
            text=turn.text,
            planned=turn.intended_strategies,
            observed=turn.strategies,
            emotion_fit=emotion_fit(self.catalog, target.client.annotation, turn.strategies),
            sentences=turn.sentences,
            critic=turn.critic,
            origin=origin,
            is_original=is_original,
        )


def _listed(indices: list[int]) -> str:
    return ", ".join(map(str, indices)) or "none"


def generate(
    catalog: Catalog,
    run: RunFolder,
    conversations: list[str] | None = None,
    *,
    n: int = 4,
    turns: list[int] | None = None,
    seed: int = 0,
    backends: list[str] | None = None,
    replay: bool = False,
) -> CandidateRun:
    """Candidate sets for the chosen advisor turns (not yet saved: see `store`)."""
    if n < 2:
        raise EmosimError(f"--n: a set needs the original and at least one alternative; got {n}")
    started = time.perf_counter()
    result = CandidateRun()
    with CandidateMaker(catalog, run, backends, replay=replay) as maker:
        for conversation in maker.conversations(conversations):
            for target in maker.targets(conversation, turns, named=bool(conversations)):
                if isinstance(target, Skipped):
                    result.skipped.append(target)
                    continue
                made = maker.make_set(target, n, seed, result)
                if made is None:
                    result.skipped.append(
                        Skipped(conversation, target.turn.index, "no alternative could be made")
                    )
                else:
                    result.sets.append(made)
    result.seconds = time.perf_counter() - started
    return result


def stored_sets(run: RunFolder) -> dict[tuple[str, int], CandidateSet]:
    return {s.key: s for s in load_run_candidates(run)}
