"""Coverage: targets (what a dataset must hold), the planner that turns them into a scenario
matrix, and the measurement of what a set of records actually holds.

Targets live in YAML (`targets.yaml` at the project root is the default). The planner is a
greedy multi-cover: it keeps the expected shortfall of every target and adds the
conversation (length, arc, topic, persona) that removes the most of it, until none is left.
A conversation's expected counts follow the engine: a client turn's true emotion is the arc
step the arc controller is at (it advances one step-share per helpful reply, regresses half a
share on a harmful one), the scripted advisor leads with a strategy that helps the emotion it
reads, and a share `anti_pattern_rate` of first drafts is built on an anti-pattern (mostly one
that is harmful for the emotion), which the critic rejects into a negative.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from .agents.scripted.text import rng_for
from .catalog import Catalog
from .diversity import DiversityReport, diversity
from .errors import DataError, EmosimError
from .files import dump_yaml, load_yaml_model, write_text_atomic
from .labels.apply import LabelsApplied
from .paths import project_root
from .schemas import ArcStep, ConversationRecord, Scenario
from .schemas.common import (
    LENGTH_CLASS_EXCHANGES,
    Identifier,
    IntensityLevel,
    StrictModel,
    Unit,
    length_class_for,
)
from .variations import (
    LEVELS,
    arc_fits,
    arc_step_range,
    compose_situation,
    fits,
    intensity_for,
    startable,
    subcategory_ids,
    transitions,
)

if TYPE_CHECKING:
    from .graphs.runner import Job

DEFAULT_TARGETS = "targets.yaml"

# --- targets --------------------------------------------------------------------------------


class EmotionTurnTargets(StrictModel):
    emotions: list[Identifier] | Literal["all"] = Field(
        default="all", description="Emotion ids to cover, or 'all' (every primary emotion)."
    )
    levels: list[IntensityLevel] = Field(
        default_factory=lambda: list(LEVELS), description="Intensity levels to cover."
    )
    min: int = Field(default=50, ge=0, description="Client turns per emotion and level.")


class StrategyTurnTargets(StrictModel):
    strategies: list[Identifier] | Literal["all"] = Field(
        default="all", description="Strategy ids to cover, or 'all'."
    )
    min: int = Field(default=20, ge=0, description="Advisor turns that use each strategy.")


class LengthTargets(StrictModel):
    short: int = Field(default=50, ge=0, description="Conversations of 2-3 exchanges.")
    medium: int = Field(default=30, ge=0, description="Conversations of 4-6 exchanges.")
    long: int = Field(default=10, ge=0, description="Conversations of 7-10 exchanges.")


class AntiPatternTargets(StrictModel):
    anti_patterns: list[Identifier] | Literal["all"] = Field(
        default="all", description="Anti-pattern ids to cover, or 'all'."
    )
    min: int = Field(default=1, ge=0, description="Rejected drafts built on each anti-pattern.")


class PlanningAssumptions(StrictModel):
    advance_rate: Unit = Field(
        default=0.83, description="Share of replies that help (the arc advances)."
    )
    regress_rate: Unit = Field(
        default=0.05, description="Share of replies that hurt (the arc regresses)."
    )
    margin: float = Field(
        default=1.25, ge=1.0, le=3.0, description="Plan this multiple of every turn target."
    )
    anti_pattern_rate: Unit = Field(
        default=0.15, description="Share of first drafts built on an anti-pattern."
    )
    boosted_anti_pattern_rate: Unit = Field(
        default=0.5,
        description="Rate given to some conversations when the default rate leaves an "
        "anti-pattern short.",
    )
    max_conversations: int = Field(default=5000, ge=1, description="Refuse larger plans.")

    @model_validator(mode="after")
    def _rates_fit(self) -> PlanningAssumptions:
        if self.advance_rate + self.regress_rate > 1.0:
            raise ValueError("advance_rate + regress_rate must not exceed 1")
        return self


class Targets(StrictModel):
    """What a dataset must hold. Counts are minimums."""

    emotion_turns: EmotionTurnTargets = Field(
        default_factory=EmotionTurnTargets,
        description="Client turns per true emotion x intensity level.",
    )
    strategy_turns: StrategyTurnTargets = Field(
        default_factory=StrategyTurnTargets,
        description="Advisor turns per strategy (intended primary or combination).",
    )
    length_classes: LengthTargets = Field(
        default_factory=LengthTargets, description="Completed conversations per length class."
    )
    anti_pattern_negatives: AntiPatternTargets = Field(
        default_factory=AntiPatternTargets,
        description="Rejected drafts (preference negatives) per anti-pattern.",
    )
    planning: PlanningAssumptions = Field(
        default_factory=PlanningAssumptions, description="Assumptions the planner plans with."
    )

    def emotions(self, catalog: Catalog) -> list[str]:
        ids = self.emotion_turns.emotions
        if ids != "all":
            return list(dict.fromkeys(ids))
        # "all": the feelings some client of the catalog can be given (grief needs a persona
        # whose story holds a loss; a domain without one leaves it out rather than fail)
        return [
            e
            for e in catalog.emotions
            if any(catalog.grounded(p, e) for p in catalog.clients.values())
        ]

    def strategies(self, catalog: Catalog) -> list[str]:
        ids = self.strategy_turns.strategies
        return list(catalog.strategies) if ids == "all" else list(dict.fromkeys(ids))

    def anti_patterns(self, catalog: Catalog) -> list[str]:
        ids = self.anti_pattern_negatives.anti_patterns
        return list(catalog.anti_patterns) if ids == "all" else list(dict.fromkeys(ids))

    def problems(self, catalog: Catalog, where: object) -> list[str]:
        out = []
        for section, name, ids, known in (
            ("emotion_turns", "emotions", self.emotion_turns.emotions, catalog.emotions),
            ("strategy_turns", "strategies", self.strategy_turns.strategies, catalog.strategies),
            (
                "anti_pattern_negatives",
                "anti_patterns",
                self.anti_pattern_negatives.anti_patterns,
                catalog.anti_patterns,
            ),
        ):
            if ids == "all":
                continue
            for i, value in enumerate(ids):
                if value not in known:
                    out.append(
                        f"{where}: {section}.{name}.{i}: unknown {name[:-1].replace('_', '-')} "
                        f"id {value!r} (expected one of: {', '.join(known)})"
                    )
        return out


def default_targets_path() -> Path:
    return project_root() / DEFAULT_TARGETS


def load_targets(catalog: Catalog, path: Path | None = None) -> Targets:
    path = path or default_targets_path()
    targets = load_yaml_model(path, Targets)
    problems = targets.problems(catalog, path)
    if problems:
        raise DataError(problems)
    return targets


# --- keys of what is counted ----------------------------------------------------------------

Kind = Literal["emotion_turns", "strategy_turns", "length_class", "anti_pattern_negatives"]
Key = tuple[str, str]  # (kind, name); emotion names are "emotion/level"


def emotion_key(emotion: str, level: str) -> Key:
    return ("emotion_turns", f"{emotion}/{level}")


def required(targets: Targets, catalog: Catalog) -> dict[Key, int]:
    """Every target as key -> minimum count."""
    out: dict[Key, int] = {}
    et = targets.emotion_turns
    for e in targets.emotions(catalog):
        for level in et.levels:
            out[emotion_key(e, level)] = et.min
    for s in targets.strategies(catalog):
        out[("strategy_turns", s)] = targets.strategy_turns.min
    for cls in LENGTH_CLASS_EXCHANGES:
        out[("length_class", cls)] = getattr(targets.length_classes, cls)
    for a in targets.anti_patterns(catalog):
        out[("anti_pattern_negatives", a)] = targets.anti_pattern_negatives.min
    return {k: v for k, v in out.items() if v > 0}


# --- the plan file --------------------------------------------------------------------------


class PlanJob(StrictModel):
    scenario: Scenario = Field(description="The scenario to play (validated).")
    seed: int = Field(description="Random seed of the conversation.")

    def scenario_hash(self) -> str:
        """sha256 of the scenario's canonical JSON: the scenario_hash of the runner's Job."""
        canonical = json.dumps(
            self.scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class PlanSummary(StrictModel):
    conversations: int = Field(description="Conversations planned.")
    by_length_class: dict[str, int] = Field(description="Planned conversations per length class.")
    client_turns: int = Field(description="Client turns planned (= advisor turns).")
    boosted_anti_pattern_rate: int = Field(
        description="Conversations given the boosted anti-pattern rate."
    )
    expected: dict[str, float] = Field(
        description="Expected count per target ('kind:name') when the plan is run."
    )


class Plan(StrictModel):
    """A scenario matrix meant to meet coverage targets; `emosim batch` plays its jobs."""

    targets: Targets = Field(description="The targets the plan was made for.")
    generated_at: datetime = Field(description="When the plan was made (UTC).")
    seed: int = Field(default=0, description="Planner seed.")
    summary: PlanSummary | None = Field(default=None, description="What the planner expects.")
    jobs: list[PlanJob] = Field(description="Conversations to play, in order.")

    @classmethod
    def load(cls, path: Path, catalog: Catalog | None = None) -> Plan:
        """Read and check a plan file; every scenario is cross-checked against the catalog."""
        from .catalog import get_catalog

        catalog = catalog or get_catalog()
        plan = load_yaml_model(path, cls)
        problems = plan.targets.problems(catalog, f"{path}: targets")
        seen: dict[tuple[str, int], int] = {}
        for i, job in enumerate(plan.jobs):
            problems.extend(catalog.scenario_problems(job.scenario, f"{path}: jobs.{i}.scenario"))
            key = (job.scenario.id, job.seed)
            if key in seen:
                problems.append(
                    f"{path}: jobs.{i}: scenario {job.scenario.id!r} with seed {job.seed} "
                    f"repeats jobs.{seen[key]}"
                )
            seen[key] = i
        if problems:
            raise DataError(problems)
        return plan

    def save(self, path: Path) -> None:
        header = (
            f"# Coverage plan: {len(self.jobs)} conversations (emosim plan). Play it with "
            "`emosim batch`.\n"
        )
        write_text_atomic(path, header + dump_yaml(self.model_dump(mode="json", exclude_none=True)))

    def runner_jobs(self, source: str = "") -> list[Job]:
        """The jobs as the runner plays them (`run_jobs`)."""
        from .graphs.runner import Job

        return [Job(j.scenario, j.scenario_hash(), j.seed, source) for j in self.jobs]


# --- expectations ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def occupancy(steps: int, exchanges: int, advance: float, regress: float) -> tuple[float, ...]:
    """Expected client turns at each arc step, following the arc controller: progress starts at
    0, a helpful reply adds (steps-1)/(exchanges-1), a harmful one takes half of that back, and
    a turn is at step round(progress)."""
    share = (steps - 1) / max(1, exchanges - 1)
    dist: dict[float, float] = {0.0: 1.0}
    occ = [0.0] * steps
    for turn in range(exchanges):
        for progress, p in dist.items():
            occ[min(steps - 1, max(0, round(progress)))] += p
        if turn == exchanges - 1:
            break
        nxt: dict[float, float] = defaultdict(float)
        for progress, p in dist.items():
            nxt[min(steps - 1, progress + share)] += p * advance
            nxt[max(0.0, progress - share / 2)] += p * regress
            nxt[progress] += p * (1.0 - advance - regress)
        dist = nxt
    return tuple(occ)


class Model:
    """Expected counts of one client turn (and the advisor turn answering it) at each
    (emotion, level), as rows of a matrix over the target keys: the emotion cell itself, the
    strategies (a lower bound: only the lead strategy, drawn from the emotion's helpful ones),
    and per unit of anti-pattern rate the negatives (70% one harmful for the emotion, 30% any)."""

    def __init__(self, catalog: Catalog, keys: list[Key]):
        self.keys = keys
        self.column = {k: i for i, k in enumerate(keys)}
        self.options = [(e, lv) for e in catalog.emotions for lv in LEVELS]
        self.row = {o: i for i, o in enumerate(self.options)}
        self.base = np.zeros((len(self.options), len(keys)))
        self.anti = np.zeros((len(self.options), len(keys)))
        anti_ids = list(catalog.anti_patterns)
        for (emotion_id, level), r in self.row.items():
            emotion = catalog.emotions[emotion_id]
            self._put(self.base, r, emotion_key(emotion_id, level), 1.0)
            helpful = [s for s in emotion.helpful_strategies if s in catalog.strategies]
            for s in helpful:
                self._put(self.base, r, ("strategy_turns", s), 1 / len(helpful))
            harmful = [a for a in emotion.harmful_strategies if a in catalog.anti_patterns]
            for a in anti_ids:
                share = (
                    0.3 / len(anti_ids) + (0.7 / len(harmful) if a in harmful else 0.0)
                    if harmful
                    else 1 / len(anti_ids)
                )
                self._put(self.anti, r, ("anti_pattern_negatives", a), share)
        self._rates: dict[float, np.ndarray] = {}

    def _put(self, matrix: np.ndarray, row: int, key: Key, value: float) -> None:
        if key in self.column:
            matrix[row, self.column[key]] = value

    def per_turn(self, rate: float) -> np.ndarray:
        if rate not in self._rates:
            self._rates[rate] = self.base + rate * self.anti
        return self._rates[rate]

    def rows(self, options: Iterable[tuple[str, str]]) -> np.ndarray:
        return np.array([self.row[o] for o in options], dtype=int)


@dataclass
class PlannedConversation:
    exchanges: int
    arc: list[tuple[str, str]]
    occ: tuple[float, ...]
    rate: float
    adds: np.ndarray


def _gain(need: np.ndarray, adds: np.ndarray) -> float:
    return float(np.minimum(adds, np.maximum(need, 0.0)).sum())


class Planner:
    """Greedy multi-cover over expected counts (see the module docstring)."""

    EPS = 0.05

    def __init__(self, catalog: Catalog, targets: Targets, seed: int = 0):
        self.catalog = catalog
        self.targets = targets
        self.a = targets.planning
        initial = self._initial_need()
        self.keys = list(initial)
        self.need = np.array([initial[k] for k in self.keys])
        self.model = Model(catalog, self.keys)
        rng = rng_for("plan", seed)
        self.noise = np.random.default_rng(rng.randrange(2**32))
        self.starts = self.model.rows(
            (e, lv) for e in catalog.emotions if startable(catalog, e) for lv in LEVELS
        )
        self.next_rows = {o: self.model.rows(transitions(catalog, *o)) for o in self.model.options}

    def _initial_need(self) -> dict[Key, float]:
        margin = self.a.margin
        need: dict[Key, float] = {}
        for key, t in required(self.targets, self.catalog).items():
            kind = key[0]
            if kind == "length_class":
                need[key] = float(t)
            elif kind == "emotion_turns":
                need[key] = t * margin
            else:  # counts that vary from seed to seed: a Poisson-style safety band
                need[key] = t * margin + 2 * math.sqrt(t) + 2
        return need

    def short(self) -> list[Key]:
        return [k for k, v in zip(self.keys, self.need, strict=True) if v > self.EPS]

    def expected(self, planned: list[PlannedConversation]) -> dict[Key, float]:
        total = sum((c.adds for c in planned), np.zeros(len(self.keys)))
        return dict(zip(self.keys, (float(v) for v in total), strict=True))

    # one conversation ---------------------------------------------------------------------

    def _build(self, exchanges: int, steps: int, rate: float) -> PlannedConversation:
        occ = occupancy(steps, exchanges, self.a.advance_rate, self.a.regress_rate)
        per_turn = self.model.per_turn(rate)
        left = np.maximum(self.need, 0.0)
        total = np.zeros(len(self.keys))
        arc: list[tuple[str, str]] = []
        for j in range(steps):
            rows = self.starts if j == 0 else self.next_rows[arc[-1]]
            contrib = per_turn[rows] * occ[j]
            gains = np.minimum(contrib, left).sum(axis=1)
            gains += self.noise.random(len(rows)) * 1e-6  # seeded tie-breaking
            best = int(rows[int(np.argmax(gains))])
            arc.append(self.model.options[best])
            adds = per_turn[best] * occ[j]
            total += adds
            left = np.maximum(left - adds, 0.0)
        length = self.model.column.get(("length_class", length_class_for(exchanges)))
        if length is not None:
            total[length] += 1.0
        return PlannedConversation(exchanges, arc, occ, rate, total)

    def _next(self, rate: float) -> PlannedConversation | None:
        open_classes = [
            cls
            for cls in LENGTH_CLASS_EXCHANGES
            if (i := self.model.column.get(("length_class", cls))) is not None and self.need[i] > 0
        ]
        best: PlannedConversation | None = None
        best_gain = 0.0
        for cls in open_classes or list(LENGTH_CLASS_EXCHANGES):
            lo, hi = LENGTH_CLASS_EXCHANGES[cls]
            for n in range(lo, hi + 1):
                for steps in arc_step_range(n):
                    candidate = self._build(n, steps, rate)
                    gain = _gain(self.need, candidate.adds)
                    if gain > best_gain + 1e-9:  # ties keep the shorter, simpler conversation
                        best, best_gain = candidate, gain
        return best if best_gain > self.EPS / 10 else None

    # the plan -----------------------------------------------------------------------------

    def plan(self) -> list[PlannedConversation]:
        out: list[PlannedConversation] = []
        limit = self.a.max_conversations
        boosted = self.a.boosted_anti_pattern_rate
        while self.short() and len(out) < limit:
            only_anti = all(k[0] == "anti_pattern_negatives" for k in self.short())
            if only_anti and self._boost(out):
                continue  # a planned conversation got a higher anti-pattern rate instead
            conversation = self._next(boosted if only_anti else self.a.anti_pattern_rate)
            if conversation is None:
                break
            self.need -= conversation.adds
            out.append(conversation)
        if self.short() and len(out) >= limit:
            raise EmosimError(
                f"the targets need more than planning.max_conversations={limit} conversations"
            )
        if self.short():
            missing = ", ".join(f"{k[0]}:{k[1]}" for k in sorted(self.short()))
            raise EmosimError(f"no scenario the catalog allows can reach: {missing}")
        return out

    def _boost(self, planned: list[PlannedConversation]) -> bool:
        """Raise the anti-pattern rate of the planned conversation whose negatives help most;
        False when none is left to raise (or none helps)."""
        boosted = self.a.boosted_anti_pattern_rate
        best, best_gain, best_delta = None, self.EPS / 10, None
        for c in planned:
            if c.rate >= boosted:
                continue
            rows = self.model.rows(c.arc)
            delta = (self.model.anti[rows] * np.array(c.occ)[:, None]).sum(axis=0)
            delta *= boosted - c.rate
            gain = _gain(self.need, delta)
            if gain > best_gain:
                best, best_gain, best_delta = c, gain, delta
        if best is None or best_delta is None:
            return False
        best.rate = boosted
        best.adds = best.adds + best_delta
        self.need -= best_delta
        return True


# --- from planned conversations to scenarios --------------------------------------------------


class Assigner:
    """Topic, sub-category and persona for each planned arc: the least-used topic the starting
    emotion fits, then its least-used persona and sub-category."""

    def __init__(self, catalog: Catalog, rng: random.Random):
        self.catalog = catalog
        self.rng = rng
        self.topics: Counter[str] = Counter()
        self.personas: Counter[str] = Counter()
        self.subs: Counter[tuple[str, str]] = Counter()

    def assign(self, emotion: str, arc: Sequence[str] = ()) -> tuple[str, str, str]:
        """`arc`: every emotion of the planned arc; only a persona whose story grounds each
        of them is chosen (no grief for a persona who lost no one and nothing)."""
        options = [
            (t, p.id)
            for p in self.catalog.clients.values()
            for t in p.topics
            if fits(self.catalog, p, t, emotion) and arc_fits(self.catalog, p, arc)
        ]
        if not options:
            raise EmosimError(
                f"no persona fits an arc of {', '.join(dict.fromkeys(arc or [emotion]))}: "
                "a feeling of it needs a ground no persona's story holds (`grounds` in "
                "personas/clients/*.yaml)"
            )
        topics = sorted({t for t, _ in options})
        fewest = min(self.topics[t] for t in topics)
        topic = self.rng.choice([t for t in topics if self.topics[t] == fewest])
        personas = sorted(p for t, p in options if t == topic)
        fewest = min(self.personas[p] for p in personas)
        persona = self.rng.choice([p for p in personas if self.personas[p] == fewest])
        subs = subcategory_ids(self.catalog, topic)
        fewest = min(self.subs[(topic, s)] for s in subs)
        sub = self.rng.choice([s for s in subs if self.subs[(topic, s)] == fewest])
        self.topics[topic] += 1
        self.personas[persona] += 1
        self.subs[(topic, sub)] += 1
        return topic, sub, persona


def make_plan(catalog: Catalog, targets: Targets, seed: int = 0) -> Plan:
    """The scenario matrix for the targets; the same seed gives the same jobs."""
    if not required(targets, catalog):
        raise EmosimError("the targets ask for nothing: every minimum is 0")
    planner = Planner(catalog, targets, seed)
    planned = planner.plan()
    rng = rng_for("plan-scenarios", seed)
    assigner = Assigner(catalog, rng)
    jobs = []
    for i, c in enumerate(planned, start=1):
        arc = [ArcStep(emotion=e, intensity=intensity_for(lv, rng)) for e, lv in c.arc]
        start, level = c.arc[0]
        topic, sub, persona = assigner.assign(start, [e for e, _ in c.arc])
        base = f"plan_{i:04d}_{start}_{level}"
        scenario_id = f"{base}_{topic}" if len(base) + len(topic) < 64 else base
        persona_name = catalog.clients[persona].name.split()[0]
        scenario = Scenario(
            id=scenario_id,
            title=(
                f"{catalog.topics[topic].name}: {persona_name}, "
                f"{catalog.emotions[start].name.lower()} at {level} intensity"
            ),
            topic=topic,
            subcategory=sub,
            client_persona=persona,
            advisor_persona=catalog.advisor.id,
            length_class=length_class_for(c.exchanges),
            exchanges=c.exchanges,
            phase="scenario_driven",
            situation=compose_situation(catalog, persona, topic, sub, arc[0], rng),
            arc=arc,
            anti_pattern_rate=c.rate,
            seed=seed + i,
        )
        jobs.append(PlanJob(scenario=scenario, seed=seed + i))
    expected = planner.expected(planned)
    needed = required(targets, catalog)
    by_length = Counter(j.scenario.length_class for j in jobs)
    summary = PlanSummary(
        conversations=len(jobs),
        by_length_class={cls: by_length.get(cls, 0) for cls in LENGTH_CLASS_EXCHANGES},
        client_turns=sum(j.scenario.exchanges for j in jobs),
        boosted_anti_pattern_rate=sum(
            1 for c in planned if c.rate >= targets.planning.boosted_anti_pattern_rate
        ),
        expected={f"{k[0]}:{k[1]}": round(expected.get(k, 0.0), 2) for k in needed},
    )
    return Plan(
        targets=targets,
        generated_at=datetime.now(UTC),
        seed=seed,
        summary=summary,
        jobs=jobs,
    )


# --- measuring coverage ---------------------------------------------------------------------

COUNTING = {
    "emotion_turns": "client turns by ground-truth emotion and intensity level (the hidden "
    "arc state); the observer's reading is reported beside it as 'observed' and does not count",
    "strategy_turns": "advisor turns whose intended strategies (primary or combination) include "
    "the strategy, once per turn; the strategy observer's reading is reported as 'observed'",
    "length_class": "completed conversations by their number of exchanges",
    "anti_pattern_negatives": "rejected drafts built on the anti-pattern",
}


class Counts(StrictModel):
    conversations: int = Field(description="Conversations read.")
    completed: int = Field(description="Completed conversations.")
    failed: int = Field(description="Failed conversations.")
    client_turns: int = Field(description="Client turns read.")
    advisor_turns: int = Field(description="Advisor turns read.")
    emotion_truth: dict[str, int] = Field(description="'emotion/level' -> client turns (truth).")
    emotion_observed: dict[str, int] = Field(description="'emotion/level' -> turns (observer).")
    strategy_intended: dict[str, int] = Field(description="Strategy -> advisor turns (intended).")
    strategy_primary: dict[str, int] = Field(description="Strategy -> turns it led (intended).")
    strategy_observed: dict[str, int] = Field(description="Strategy -> turns (observer).")
    length_classes: dict[str, int] = Field(description="Length class -> completed conversations.")
    anti_patterns: dict[str, int] = Field(description="Anti-pattern -> rejected drafts.")


def count(records: Iterable[ConversationRecord]) -> Counts:
    c: dict[str, Counter[str]] = defaultdict(Counter)
    n = completed = failed = client = advisor = 0
    for r in records:
        n += 1
        if r.outcome.status == "completed":
            completed += 1
            exchanges = len(r.advisor_turns)
            if 2 <= exchanges <= 10:
                c["length"][length_class_for(exchanges)] += 1
        else:
            failed += 1
        for t in r.client_turns:
            client += 1
            if t.ground_truth:
                c["truth"][f"{t.ground_truth.emotion}/{t.ground_truth.intensity_level}"] += 1
            if t.annotation:
                c["obs"][f"{t.annotation.primary}/{t.annotation.intensity_level}"] += 1
        for t in r.advisor_turns:
            advisor += 1
            intended = t.intended_strategies or t.strategies
            if intended:
                c["primary"][intended.primary] += 1
                for s in dict.fromkeys([intended.primary, *intended.combination]):
                    c["intended"][s] += 1
            if t.strategies:
                for s in dict.fromkeys([t.strategies.primary, *t.strategies.combination]):
                    c["observed"][s] += 1
            for d in t.rejected_drafts:
                if d.anti_pattern:
                    c["anti"][d.anti_pattern] += 1
    return Counts(
        conversations=n,
        completed=completed,
        failed=failed,
        client_turns=client,
        advisor_turns=advisor,
        emotion_truth=dict(c["truth"]),
        emotion_observed=dict(c["obs"]),
        strategy_intended=dict(c["intended"]),
        strategy_primary=dict(c["primary"]),
        strategy_observed=dict(c["observed"]),
        length_classes=dict(c["length"]),
        anti_patterns=dict(c["anti"]),
    )


class TargetResult(StrictModel):
    kind: Kind = Field(description="What is counted (see the report's 'counting').")
    name: str = Field(description="Emotion/level, strategy, length class or anti-pattern.")
    target: int = Field(description="Minimum required.")
    actual: int = Field(description="Count that decides whether the target is met.")
    observed: int | None = Field(
        default=None, description="The observers' count, for comparison (does not decide)."
    )
    met: bool = Field(description="actual >= target.")

    @property
    def short_by(self) -> int:
        return max(0, self.target - self.actual)


class CoverageReport(StrictModel):
    sources: list[str] = Field(description="Runs or files the records came from.")
    targets_file: str = Field(description="Targets file used.")
    counting: dict[str, str] = Field(description="What each kind of target counts.")
    counts: Counts = Field(description="Raw counts.")
    results: list[TargetResult] = Field(description="One row per target.")
    met: bool = Field(description="Whether every target is met.")
    diversity: DiversityReport | None = Field(default=None, description="Diversity measures.")
    labels: LabelsApplied | None = Field(
        default=None, description="The label store applied to the records (None: not asked)."
    )

    @property
    def short(self) -> list[TargetResult]:
        return [r for r in self.results if not r.met]


def evaluate(targets: Targets, catalog: Catalog, counts: Counts) -> list[TargetResult]:
    sources: dict[str, tuple[dict[str, int], dict[str, int] | None]] = {
        "emotion_turns": (counts.emotion_truth, counts.emotion_observed),
        "strategy_turns": (counts.strategy_intended, counts.strategy_observed),
        "length_class": (counts.length_classes, None),
        "anti_pattern_negatives": (counts.anti_patterns, None),
    }
    out = []
    for (kind, name), target in required(targets, catalog).items():
        actual_map, observed_map = sources[kind]
        actual = actual_map.get(name, 0)
        out.append(
            TargetResult(
                kind=kind,  # type: ignore[arg-type]
                name=name,
                target=target,
                actual=actual,
                observed=observed_map.get(name, 0) if observed_map is not None else None,
                met=actual >= target,
            )
        )
    return out


def coverage_report(
    catalog: Catalog,
    targets: Targets,
    records: Sequence[ConversationRecord],
    sources: list[str],
    targets_file: str,
    with_diversity: bool = True,
) -> CoverageReport:
    counts = count(records)
    results = evaluate(targets, catalog, counts)
    return CoverageReport(
        sources=sources,
        targets_file=targets_file,
        counting=COUNTING,
        counts=counts,
        results=results,
        met=all(r.met for r in results),
        diversity=diversity(records) if with_diversity and records else None,
    )
