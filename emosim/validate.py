"""`emosim validate`: check records and data files, including cross-references."""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .agents.classifier.mappings import EmotionMappings, mapping_problems
from .agents.llm.settings import LLMSettings
from .agents.scripted.asked_as import AskedAsFile
from .agents.scripted.limits import LimitsFile
from .agents.scripted.ranker import RankerFile
from .agents.scripted.retrieval import ConceptFile
from .agents.scripted.templates import (
    AdvisorTemplates,
    ClientFeelings,
    ClientLives,
    ClientReactionBank,
    ClientTellings,
    ClientTemplates,
    NegativeTemplates,
    ObserverMarkers,
    TopicAnswers,
    feeling_problems,
)
from .catalog import Catalog
from .errors import DataError
from .files import format_validation_error, iter_json_documents, load_yaml_node
from .grounding.facts import fact_file_problems
from .importers import IMPORTED_CLIENT
from .preferences.models import CANDIDATES_FILE
from .schemas import (
    AdvisorPersona,
    AdvisorTurn,
    ClientPersona,
    ClientTurn,
    ConversationRecord,
    EmotionTaxonomy,
    Scenario,
    SentenceFunctionTaxonomy,
    StrategyTaxonomy,
    TopicTaxonomy,
)
from .schemas.facts import FactFile
from .seeds import SeedSource

# Which model a YAML file is, told by the keys only that kind of file has (most specific first).
_YAML_KINDS: list[tuple[Callable[[dict], bool], type[BaseModel]]] = [
    (lambda d: "facts" in d and "tax_year" in d, FactFile),
    (lambda d: "families" in d, EmotionTaxonomy),
    (lambda d: "turns" in d and "arc" in d, SeedSource),
    (lambda d: isinstance(d.get("strategies"), list), StrategyTaxonomy),
    (lambda d: isinstance(d.get("strategies"), dict), AdvisorTemplates),
    (lambda d: isinstance(d.get("types"), dict) and "version" in d, NegativeTemplates),
    (lambda d: "topic" in d and "answers" in d, TopicAnswers),
    (lambda d: "asked_as" in d, AskedAsFile),
    (lambda d: {"concepts"} <= set(d) <= {"concepts", "sayings"}, ConceptFile),
    (lambda d: "weights" in d and "threshold" in d and "features" in d, RankerFile),
    (lambda d: "admit" in d and "next_step" in d, LimitsFile),
    (lambda d: "functions" in d, SentenceFunctionTaxonomy),
    (lambda d: "compliance_boundaries" in d, AdvisorPersona),
    (lambda d: "default_arc" in d, ClientPersona),
    (lambda d: "exchanges" in d, Scenario),
    (lambda d: "topics" in d, TopicTaxonomy),
    (lambda d: "reactions" in d, ClientTemplates),
    (lambda d: "intensifiers" in d, ObserverMarkers),
    (lambda d: "roles" in d and "retry" in d, LLMSettings),
    (lambda d: "goemotions" in d and "esconv" in d, EmotionMappings),
    (lambda d: "emotions" in d and "families" not in d, ClientFeelings),
    (lambda d: "sign_off_unresolved" in d, ClientReactionBank),
    (
        lambda d: (
            set(d) == {"version", "personas"}
            and any(isinstance(v, dict) for v in (d["personas"] or {}).values())
        ),
        ClientLives,
    ),
    (lambda d: set(d) == {"version", "personas"}, ClientTellings),
]


@dataclass
class Report:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _yaml_kind(data: Any) -> type[BaseModel] | None:
    if not isinstance(data, dict):
        return None
    for matches, model in _YAML_KINDS:
        if matches(data):
            return model
    return None


def record_problems(record: ConversationRecord, where: str, catalog: Catalog) -> list[str]:
    """Cross-references and span checks that the JSON Schema alone cannot express."""
    out: list[str] = []

    def need(path: str, value: str | None, known: dict, what: str) -> None:
        if value is not None and value not in known:
            out.append(f"{where}: {path}: unknown {what} id {value!r}")

    sc = record.scenario
    need("scenario.topic", sc.topic, catalog.topics, "topic")
    topic = catalog.topics.get(sc.topic)
    if topic and sc.subcategory not in {s.id for s in topic.subcategories}:
        out.append(
            f"{where}: scenario.subcategory: {sc.subcategory!r} is not in topic {sc.topic!r}"
        )
    imported = record.provenance.source == "real" and sc.client_persona_id == IMPORTED_CLIENT
    if not imported:  # real transcripts have no persona file
        need("scenario.client_persona_id", sc.client_persona_id, catalog.clients, "persona")
    for i, step in enumerate(sc.planned_arc):
        need(f"scenario.planned_arc.{i}.emotion", step.emotion, catalog.emotions, "emotion")

    def check_state(path: str, emotion: str, family: str) -> None:
        if emotion not in catalog.emotions:
            out.append(f"{where}: {path}.emotion: unknown emotion id {emotion!r}")
        elif catalog.emotions[emotion].family != family:
            out.append(
                f"{where}: {path}.family: {family!r} but emotion {emotion!r} belongs to "
                f"{catalog.emotions[emotion].family!r}"
            )

    for t in record.turns:
        base = f"turns.{t.index}"
        if isinstance(t, ClientTurn):
            if t.ground_truth:
                check_state(f"{base}.ground_truth", t.ground_truth.emotion, t.ground_truth.family)
            if t.annotation:
                a = t.annotation
                if a.primary not in catalog.emotions:
                    out.append(
                        f"{where}: {base}.annotation.primary: unknown emotion id {a.primary!r}"
                    )
                elif catalog.emotions[a.primary].family != a.family:
                    out.append(
                        f"{where}: {base}.annotation.family: {a.family!r} does not match {a.primary!r}"
                    )
                need(f"{base}.annotation.secondary", a.secondary, catalog.emotions, "emotion")
                for j, cue in enumerate(a.cues):
                    if t.text[cue.start : cue.end] != cue.text:
                        out.append(
                            f"{where}: {base}.annotation.cues.{j}: span {cue.start}-{cue.end} "
                            f"is {t.text[cue.start : cue.end]!r}, not {cue.text!r}"
                        )
        elif isinstance(t, AdvisorTurn):
            for label, use in (
                ("intended_strategies", t.intended_strategies),
                ("strategies", t.strategies),
            ):
                if use:
                    need(f"{base}.{label}.primary", use.primary, catalog.strategies, "strategy")
                    for j, s in enumerate(use.combination):
                        need(f"{base}.{label}.combination.{j}", s, catalog.strategies, "strategy")
            for j, s in enumerate(t.sentences):
                need(f"{base}.sentences.{j}.function", s.function, catalog.functions, "function")
                need(f"{base}.sentences.{j}.strategy", s.strategy, catalog.strategies, "strategy")
                if t.text[s.start : s.end] != s.text:
                    out.append(
                        f"{where}: {base}.sentences.{j}: span {s.start}-{s.end} does not hold "
                        f"the sentence text {s.text[:40]!r}"
                    )
            for j, d in enumerate(t.rejected_drafts):
                known = {**catalog.anti_patterns}
                need(
                    f"{base}.rejected_drafts.{j}.anti_pattern",
                    d.anti_pattern,
                    known,
                    "anti-pattern",
                )
    seen: set[str] = set()
    for j, ev in enumerate(record.label_events):
        if ev.event_id in seen:
            out.append(f"{where}: label_events.{j}.event_id: duplicate {ev.event_id!r}")
        seen.add(ev.event_id)
    return out


def _validate_records(path: Path, catalog: Catalog, report: Report, ids: dict[str, str]) -> None:
    for where, doc in iter_json_documents(path):
        report.checked += 1
        if not isinstance(doc, dict):
            report.problems.append(f"{where}: expected a record object, got {type(doc).__name__}")
            continue
        try:
            record = ConversationRecord.model_validate(doc)
        except ValidationError as exc:
            report.problems.extend(format_validation_error(exc, where))
            continue
        if record.id in ids:
            report.problems.append(
                f"{where}: id: duplicate record id {record.id!r} (first in {ids[record.id]})"
            )
        ids.setdefault(record.id, where)
        report.problems.extend(record_problems(record, where, catalog))


def _validate_candidates(path: Path, catalog: Catalog, report: Report) -> None:
    """A run's candidate replies (`emosim candidates`): the format, then every strategy and
    emotion id against the taxonomies."""
    from .preferences.store import load_candidate_sets

    sets = load_candidate_sets(path)
    report.checked += len(sets)
    for item in sets:
        where = f"{path}: {item.conversation_id} turn {item.turn_index}"
        if item.client_state and item.client_state.primary not in catalog.emotions:
            report.problems.append(
                f"{where}: client_state.primary: unknown emotion id {item.client_state.primary!r}"
            )
        for c in item.candidates:
            used = [c.origin.lead_strategy] if c.origin.lead_strategy else []
            for plan in (c.planned, c.observed):
                if plan is not None:
                    used += [plan.primary, *plan.combination]
            for strategy in dict.fromkeys(used):
                if strategy not in catalog.strategies and strategy not in catalog.anti_patterns:
                    report.problems.append(
                        f"{where}: candidate {c.candidate_id}: unknown strategy id {strategy!r}"
                    )


def _validate_yaml(path: Path, catalog: Catalog, report: Report) -> None:
    report.checked += 1
    data, node = load_yaml_node(path)
    model = _yaml_kind(data)
    if model is None:
        report.problems.append(f"{path}: not a known emosim file (no identifying key at top level)")
        return
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        report.problems.extend(format_validation_error(exc, str(path), node))
        return
    if isinstance(obj, FactFile):
        report.problems.extend(fact_file_problems(obj, path, catalog.topics, node=node))
    elif isinstance(obj, Scenario):
        report.problems.extend(catalog.scenario_problems(obj, path))
    elif isinstance(obj, ClientPersona):
        report.problems.extend(catalog.persona_problems(obj, path))
    elif isinstance(obj, EmotionMappings):
        report.problems.extend(mapping_problems(catalog, path))
    elif isinstance(obj, ClientFeelings):
        problems = feeling_problems(obj, set(catalog.emotions))
        report.problems.extend(f"{path}: {p}" for p in problems)
    elif isinstance(obj, ClientTellings | ClientLives):
        report.problems.extend(
            f"{path}: personas: unknown persona id {pid!r}"
            for pid in sorted(set(obj.personas) - set(catalog.clients))
        )
    elif isinstance(obj, EmotionTaxonomy):
        own = {e.id for e in obj.emotions}
        strategy_like = set(catalog.strategies) | set(catalog.anti_patterns)
        for i, e in enumerate(obj.emotions):
            for key, known, what in (
                ("helpful_strategies", set(catalog.strategies), "strategy"),
                ("harmful_strategies", strategy_like, "strategy or anti-pattern"),
                ("likely_next", own, "emotion"),
            ):
                for j, value in enumerate(getattr(e, key)):
                    if value not in known:
                        report.problems.append(
                            f"{path}: emotions.{i}.{key}.{j}: unknown {what} id {value!r}"
                        )
    elif isinstance(obj, TopicAnswers):
        topic = catalog.topics.get(obj.topic)
        if topic is None:
            report.problems.append(f"{path}: topic: unknown topic id {obj.topic!r}")
            return
        asked = set(topic.client_questions).union(
            *(sub.client_questions for sub in topic.subcategories)
        )
        for i, answer in enumerate(obj.answers):
            if answer.question not in asked:
                report.problems.append(
                    f"{path}: answers.{i}.question: not a client question of topic "
                    f"{obj.topic!r}: {answer.question!r}"
                )
    elif isinstance(obj, NegativeTemplates):
        for kind, spec in obj.types.items():
            if kind not in catalog.anti_patterns:
                report.problems.append(f"{path}: types.{kind}: unknown anti-pattern id {kind!r}")
            for field, fid in (
                ("function", spec.function),
                ("extra_function", spec.extra_function),
            ):
                if fid is not None and fid not in catalog.functions:
                    report.problems.append(
                        f"{path}: types.{kind}.{field}: unknown function id {fid!r}"
                    )
    elif isinstance(obj, AdvisorTemplates):
        for sid in obj.strategies:
            if sid not in catalog.strategies:
                report.problems.append(f"{path}: strategies.{sid}: unknown strategy id {sid!r}")
            for j, tpl in enumerate(obj.strategies[sid]):
                if tpl.function not in catalog.functions:
                    report.problems.append(
                        f"{path}: strategies.{sid}.{j}.function: unknown function id {tpl.function!r}"
                    )
        for i, answer in enumerate(obj.answers):
            if answer.strategy not in catalog.strategies:
                report.problems.append(
                    f"{path}: answers.{i}.strategy: unknown strategy id {answer.strategy!r}"
                )
            for j, tpl in enumerate(answer.replies):
                if tpl.function not in catalog.functions:
                    report.problems.append(
                        f"{path}: answers.{i}.replies.{j}.function: unknown function id "
                        f"{tpl.function!r}"
                    )
        for aid in obj.anti_patterns:
            if aid not in catalog.anti_patterns:
                report.problems.append(
                    f"{path}: anti_patterns.{aid}: unknown anti-pattern id {aid!r}"
                )


# Files that live among data but are not records or data files: run-folder artifacts
# (the records of a run are its conversations.jsonl) and tool configuration.
NOT_DATA = frozenset(
    {
        "langgraph.json",
        "manifest.json",
        "events.jsonl",
        "cassette.jsonl",
        "backends.json",
        "figures.json",
        "coverage.json",
        "import_report.json",
        "anonymization_report.json",
    }
)


def expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.suffix in {".yaml", ".yml", ".json", ".jsonl"}
                and not any(part.startswith(".") for part in f.parts)
                and f.name not in NOT_DATA
            )
            if not found:
                raise DataError([f"{p}: no data files (*.yaml, *.json, *.jsonl) in this folder"])
            files.extend(found)
        else:
            files.append(p)
    return files


def _missing(path: Path) -> str:
    """Why a path cannot be read: not there, or a symbolic link that never ends."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symbolic link loop"
    return f"{path}: file not found"


def validate_paths(paths: Iterable[Path], catalog: Catalog) -> Report:
    report = Report()
    ids: dict[str, str] = {}
    try:
        listed = expand(paths)
    except DataError as exc:
        report.problems.extend(exc.problems)
        return report
    # a file named twice (a run folder and its parent) is checked once
    unique = {(p.resolve() if p.exists() else p): p for p in reversed(listed)}
    for path in reversed(unique.values()):
        try:
            if not path.exists():
                report.problems.append(_missing(path))
            elif path.name == CANDIDATES_FILE:
                _validate_candidates(path, catalog, report)
            elif path.suffix in {".json", ".jsonl"}:
                _validate_records(path, catalog, report, ids)
            elif path.suffix in {".yaml", ".yml"}:
                _validate_yaml(path, catalog, report)
            else:
                report.problems.append(f"{path}: unsupported file type {path.suffix!r}")
        except DataError as exc:
            report.problems.extend(exc.problems)
    return report
