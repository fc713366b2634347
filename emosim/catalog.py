"""The loaded, cross-checked data folders: taxonomies, personas and their indexes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError
from .files import load_yaml_model
from .paths import project_root
from .schemas import (
    AdvisorPersona,
    AntiPattern,
    ArcStep,
    ClientPersona,
    Emotion,
    EmotionTaxonomy,
    Scenario,
    SentenceFunctionTaxonomy,
    Strategy,
    StrategyTaxonomy,
    TopicTaxonomy,
)
from .schemas.common import intensity_level
from .schemas.record import EmotionalState
from .schemas.taxonomy import SentenceFunction, Topic

if TYPE_CHECKING:
    from .grounding.facts import FactBase

# A fact file to use instead of the newest one in `facts/` (see Catalog.facts).
FACTS_ENV = "EMOSIM_FACTS"
# The domain folder whose data is used (a name under `domains/` or a path); unset: finance,
# the data folders at the project root. `emosim --domain` sets it for the whole process.
DOMAIN_ENV = "EMOSIM_DOMAIN"
DOMAINS_DIR = "domains"
# Paths a domain always owns: a domain without them has none (no finance facts in telecom).
DOMAIN_ONLY = ("facts",)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_sha256(paths: list[Path]) -> str:
    """One hash over several files' hashes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


@dataclass
class Catalog:
    """Everything an agent may look up by id. Built once per process and shared."""

    root: Path
    emotions_file: EmotionTaxonomy
    strategies_file: StrategyTaxonomy
    functions_file: SentenceFunctionTaxonomy
    topics_file: TopicTaxonomy
    advisor: AdvisorPersona
    clients: dict[str, ClientPersona]
    sources: dict[str, Path] = field(default_factory=dict)
    facts_path: Path | None = None
    advisor_file: str = "personas/elena_morales.yaml"
    domain: Path | None = None
    """The domain folder laid over `root`: a file it has wins, one it lacks comes from `root`
    (taxonomies of emotion and strategy, observer markers are shared unless overridden)."""

    def file(self, rel: str | Path) -> Path:
        """Where data file or folder `rel` is read from: the domain's copy, else the root's."""
        return data_file(self.root, self.domain, rel)

    def home(self, rel: str | Path) -> Path:
        """The folder (domain or root) `rel` is read from, for loaders that take a root."""
        path = self.file(rel)
        return path.parents[len(Path(rel).parts) - 1]

    @property
    def domain_name(self) -> str:
        return self.domain.name if self.domain is not None else "finance"

    # --- indexes --------------------------------------------------------------------------

    @cached_property
    def emotions(self) -> dict[str, Emotion]:
        return {e.id: e for e in self.emotions_file.emotions}

    @cached_property
    def strategies(self) -> dict[str, Strategy]:
        return {s.id: s for s in self.strategies_file.strategies}

    @cached_property
    def anti_patterns(self) -> dict[str, AntiPattern]:
        return {a.id: a for a in self.strategies_file.anti_patterns}

    @cached_property
    def functions(self) -> dict[str, SentenceFunction]:
        return {f.id: f for f in self.functions_file.functions}

    @cached_property
    def topics(self) -> dict[str, Topic]:
        return {t.id: t for t in self.topics_file.topics}

    @cached_property
    def facts(self) -> FactBase:
        """The vetted fact base: `facts_path` (EMOSIM_FACTS, or the newest tax year in
        `facts/`), parsed and checked on first use (an empty base when there is none)."""
        from .grounding.facts import FactBase, load_fact_base

        if self.facts_path is None:
            return FactBase([])
        return load_fact_base(self.facts_path, self.topics)

    def emotion(self, emotion_id: str) -> Emotion:
        try:
            return self.emotions[emotion_id]
        except KeyError:
            raise DataError([f"unknown emotion id {emotion_id!r}"]) from None

    def content_hash(self) -> str:
        """One hash over every data file: part of a run's provenance."""
        digest = hashlib.sha256()
        for name in sorted(self.sources):
            digest.update(name.encode())
            digest.update(file_sha256(self.sources[name]).encode())
        return digest.hexdigest()

    # --- loading --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        root: Path | None = None,
        facts_path: Path | None = None,
        domain: str | Path | None = None,
    ) -> Catalog:
        """The data under `root` with `domain` laid over it (None: EMOSIM_DOMAIN, else none)."""
        root = root or project_root()
        domain = resolve_domain(root, domain)
        problems: list[str] = []
        sources: dict[str, Path] = {}

        def load(rel: str, model):  # noqa: ANN001, ANN202 - generic loader
            path = data_file(root, domain, rel)
            sources[rel] = path
            try:
                return load_yaml_model(path, model)
            except DataError as exc:
                problems.extend(exc.problems)
                return None

        emotions = load("taxonomies/emotions.yaml", EmotionTaxonomy)
        strategies = load("taxonomies/strategies.yaml", StrategyTaxonomy)
        functions = load("taxonomies/sentence_functions.yaml", SentenceFunctionTaxonomy)
        topics = load("taxonomies/topics.yaml", TopicTaxonomy)
        advisor_rel = _advisor_rel(root, domain)
        advisor = load(advisor_rel, AdvisorPersona)
        clients: dict[str, ClientPersona] = {}
        client_dir = data_file(root, domain, "personas/clients")
        for path in sorted(client_dir.glob("*.yaml")):
            rel = f"personas/clients/{path.name}"
            persona = load(rel, ClientPersona)
            if persona is None:
                continue
            if persona.id != path.stem:
                problems.append(
                    f"{path}: id: {persona.id!r} must match the file name {path.stem!r}"
                )
            clients[persona.id] = persona
        if problems:
            raise DataError(problems)
        catalog = cls(root, emotions, strategies, functions, topics, advisor, clients, sources)
        catalog.domain = domain
        catalog.advisor_file = advisor_rel
        catalog.facts_path = _facts_path(root, facts_path, domain)
        if catalog.facts_path is not None:  # part of the data hash; parsed on first use
            sources[_rel(catalog.facts_path, domain or root)] = catalog.facts_path
        catalog.check_references()
        return catalog

    # --- cross-references -----------------------------------------------------------------

    def check_references(self) -> None:
        problems: list[str] = []
        src = self.sources

        def need(where: str, field_path: str, value: str, known: dict, what: str) -> None:
            if value not in known:
                problems.append(
                    f"{where}: {field_path}: unknown {what} id {value!r} "
                    f"(expected one of: {', '.join(sorted(known))})"
                )

        for kind, items in (
            ("emotion", self.emotions_file.emotions),
            ("strategy", self.strategies_file.strategies),
            ("anti-pattern", self.strategies_file.anti_patterns),
            ("function", self.functions_file.functions),
            ("topic", self.topics_file.topics),
        ):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    problems.append(f"duplicate {kind} id {item.id!r}")
                seen.add(item.id)

        strategy_like = {**self.strategies, **self.anti_patterns}
        ef = src["taxonomies/emotions.yaml"]
        for i, e in enumerate(self.emotions_file.emotions):
            for j, s in enumerate(e.helpful_strategies):
                need(ef, f"emotions.{i}.helpful_strategies.{j}", s, self.strategies, "strategy")
            for j, s in enumerate(e.harmful_strategies):
                need(ef, f"emotions.{i}.harmful_strategies.{j}", s, strategy_like, "strategy")
            for j, n in enumerate(e.likely_next):
                need(ef, f"emotions.{i}.likely_next.{j}", n, self.emotions, "emotion")
        sf = src["taxonomies/strategies.yaml"]
        for i, s in enumerate(self.strategies_file.strategies):
            for j, f in enumerate(s.typical_functions):
                need(sf, f"strategies.{i}.typical_functions.{j}", f, self.functions, "function")
        tf = src["taxonomies/topics.yaml"]
        for i, t in enumerate(self.topics_file.topics):
            for j, e in enumerate(t.common_emotions):
                need(tf, f"topics.{i}.common_emotions.{j}", e, self.emotions, "emotion")
        af = src[self.advisor_file]
        for i, a in enumerate(self.advisor.adaptations):
            for j, s in enumerate(a.lead_strategies):
                need(af, f"adaptations.{i}.lead_strategies.{j}", s, self.strategies, "strategy")
            for j, s in enumerate(a.avoid):
                need(af, f"adaptations.{i}.avoid.{j}", s, strategy_like, "strategy")
        for persona in self.clients.values():
            pf = src[f"personas/clients/{persona.id}.yaml"]
            problems.extend(self.persona_problems(persona, pf))
        if problems:
            raise DataError(problems)

    def emotional_state(self, emotion_id: str, intensity: float) -> EmotionalState:
        """A client's state at `intensity` of a feeling, with the feeling's family, valence
        and arousal (the intensity kept within 0-1, to two places)."""
        emotion = self.emotion(emotion_id)
        intensity = round(min(1.0, max(0.0, intensity)), 2)
        return EmotionalState(
            emotion=emotion.id,
            family=emotion.family,
            intensity=intensity,
            intensity_level=intensity_level(intensity),
            valence=emotion.valence,
            arousal=emotion.arousal,
        )

    def grounded(self, persona: ClientPersona, emotion: str) -> bool:
        """Whether the persona's story holds what the feeling needs (grief: a loss): always,
        for a feeling without `needs_ground`."""
        known = self.emotions.get(emotion)
        return known is None or not known.needs_ground or emotion in persona.grounds

    def feelable(self, emotion: str) -> bool:
        """Whether some client of the catalog can be given the feeling (a domain whose
        personas tell no loss has no one to give grief to)."""
        return any(self.grounded(p, emotion) for p in self.clients.values())

    def _ungrounded(
        self, persona: ClientPersona, arc: list[ArcStep], where: object, field: str
    ) -> list[str]:
        return [
            f"{where}: {field}.{i}.emotion: {step.emotion!r} needs {needs} in the story, and "
            f"{persona.id} has none (add `grounds: {{{step.emotion}: ...}}` to "
            f"personas/clients/{persona.id}.yaml, or choose another emotion)"
            for i, step in enumerate(arc)
            if not self.grounded(persona, step.emotion)
            and (needs := self.emotions[step.emotion].needs_ground)
        ]

    def persona_problems(self, persona: ClientPersona, where: object) -> list[str]:
        problems = []
        for i, step in enumerate(persona.default_arc):
            if step.emotion not in self.emotions:
                problems.append(
                    f"{where}: default_arc.{i}.emotion: unknown emotion id {step.emotion!r}"
                )
        problems += self._ungrounded(persona, persona.default_arc, where, "default_arc")
        for emotion in persona.grounds:
            if emotion not in self.emotions:
                problems.append(f"{where}: grounds.{emotion}: unknown emotion id {emotion!r}")
            elif not self.emotions[emotion].needs_ground:
                problems.append(
                    f"{where}: grounds.{emotion}: {emotion!r} needs no ground (any persona can "
                    "feel it; taxonomies/emotions.yaml has no needs_ground for it)"
                )
        for i, topic in enumerate(persona.topics):
            if topic not in self.topics:
                problems.append(f"{where}: topics.{i}: unknown topic id {topic!r}")
        for i, fact in enumerate(persona.facts):
            for j, topic in enumerate(fact.topics):
                if topic not in self.topics:
                    problems.append(f"{where}: facts.{i}.topics.{j}: unknown topic id {topic!r}")
        return problems

    def scenario_problems(self, scenario: Scenario, where: object) -> list[str]:
        problems = []
        topic = self.topics.get(scenario.topic)
        if topic is None:
            problems.append(f"{where}: topic: unknown topic id {scenario.topic!r}")
        elif scenario.subcategory not in {s.id for s in topic.subcategories}:
            problems.append(
                f"{where}: subcategory: {scenario.subcategory!r} is not a sub-category of "
                f"{scenario.topic!r} (expected one of: "
                f"{', '.join(s.id for s in topic.subcategories)})"
            )
        if scenario.client_persona not in self.clients:
            problems.append(
                f"{where}: client_persona: unknown persona id {scenario.client_persona!r}"
            )
        if scenario.advisor_persona != self.advisor.id:
            problems.append(
                f"{where}: advisor_persona: unknown advisor persona {scenario.advisor_persona!r}"
            )
        for i, step in enumerate(scenario.arc or []):
            if step.emotion not in self.emotions:
                problems.append(f"{where}: arc.{i}.emotion: unknown emotion id {step.emotion!r}")
        persona = self.clients.get(scenario.client_persona)
        if persona is not None and scenario.arc:
            known = [s for s in scenario.arc if s.emotion in self.emotions]
            if len(known) == len(scenario.arc):
                problems += self._ungrounded(persona, scenario.arc, where, "arc")
        return problems

    def load_scenario(self, path: Path) -> Scenario:
        scenario = load_yaml_model(path, Scenario)
        problems = self.scenario_problems(scenario, path)
        if problems:
            raise DataError(problems)
        return scenario


def data_file(root: Path, domain: Path | None, rel: str | Path) -> Path:
    """`rel` in the domain folder when it has it (or always, for DOMAIN_ONLY), else in root."""
    if domain is None:
        return root / rel
    own = domain / rel
    if own.exists() or Path(rel).parts[0] in DOMAIN_ONLY:
        return own
    return root / rel


def _advisor_rel(root: Path, domain: Path | None) -> str:
    """The advisor persona: the one YAML file directly in `personas/` (elena_morales.yaml)."""
    folder = data_file(root, domain, "personas")
    found = sorted(folder.glob("*.yaml"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise DataError([f"{folder}: needs exactly one advisor persona YAML file (found: {names})"])
    return f"personas/{found[0].name}"


def resolve_domain(root: Path, given: str | Path | None = None) -> Path | None:
    """The domain folder named by `given` (else EMOSIM_DOMAIN): a folder under `domains/`
    or a path to one; None (or 'finance') is the project's own data folders."""
    name = str(given) if given is not None else os.environ.get(DOMAIN_ENV, "")
    if name in ("", "finance"):
        return None
    for candidate in (root / DOMAINS_DIR / name, Path(name), root / name):
        if (candidate / "taxonomies" / "topics.yaml").is_file():
            return candidate.resolve()
    known = sorted(p.name for p in (root / DOMAINS_DIR).glob("*") if p.is_dir())
    raise DataError(
        [
            f"domain {name!r}: no folder with taxonomies/topics.yaml under {root / DOMAINS_DIR} "
            f"or at that path (known: finance, {', '.join(known) or 'none'}; {DOMAIN_ENV} or "
            "--domain)"
        ]
    )


def _facts_path(root: Path, given: Path | None, domain: Path | None = None) -> Path | None:
    from .grounding.facts import FACTS_DIR, newest_fact_file

    chosen = given or (Path(os.environ[FACTS_ENV]) if os.environ.get(FACTS_ENV) else None)
    if chosen is not None:
        if not chosen.is_absolute() and not chosen.is_file():  # relative to cwd, else root
            chosen = root / chosen
        if not chosen.is_file():
            raise DataError([f"{chosen}: fact file not found ({FACTS_ENV} or facts_path)"])
        return chosen
    folder = data_file(root, domain, FACTS_DIR)
    return newest_fact_file(folder) if folder.is_dir() else None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


_cache: dict[tuple[Path, Path | None], Catalog] = {}


def get_catalog(root: Path | None = None) -> Catalog:
    """The catalog of `root` (the project root) with the domain EMOSIM_DOMAIN names."""
    root = (root or project_root()).resolve()
    domain = resolve_domain(root)
    key = (root, domain)
    if key not in _cache:
        _cache[key] = Catalog.load(root, domain=domain)
    return _cache[key]
