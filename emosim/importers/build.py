"""Turn a read conversation into a ConversationRecord: merge, anonymize, observe, label.

Turns must alternate client-first and end with the advisor, so: system messages are dropped;
consecutive messages of one speaker are merged into one turn (joined with a space); advisor
messages before the client's first message (greetings) are dropped, and so are client
messages after the advisor's last reply (they have no answer to learn from). Each drop is
counted in the import report.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emosim import __version__
from emosim.agents.backends import AgentSet
from emosim.agents.classifier.provenance import ESCONV_LICENSE
from emosim.agents.messages import EmotionObserverInput, Line
from emosim.agents.protocols import observe_strategies
from emosim.anonymize import ConversationAnonymizer
from emosim.anonymize.report import METHOD as ANONYMIZER
from emosim.catalog import Catalog
from emosim.graphs.finalize import model_label_events, observer_sources
from emosim.schemas import (
    AdvisorTurn,
    BackendInfo,
    ClientTurn,
    ConversationRecord,
    EmotionAnnotation,
    LabelEvent,
    LabelSource,
    LabelTarget,
    LineageInfo,
    Outcome,
    Provenance,
    Quality,
    ScenarioInfo,
)
from emosim.schemas.common import LengthClass, Split
from emosim.schemas.scenario import Phase

from .config import EsconvConfig, TopicChoice
from .raw import RawConversation, RawMessage
from .topics import infer_topic

IMPORTED_CLIENT = "imported_client"
"""Persona id of every imported record: not a catalog persona (there is no hidden persona)."""

ESCONV_SOURCE = LabelSource(
    kind="human_bulk_review",
    name="esconv-annotators",
    version="ESConv-2021",
    license=ESCONV_LICENSE,  # a model retrained on these labels inherits it
)


@dataclass
class BuildOptions:
    format: str
    topic: TopicChoice | None = None
    consent: str = "unknown"
    license: str = "unknown"
    anonymize: bool = True
    phase: Phase = "scenario_driven"
    split: Split | None = None
    training_weight: float = 1.0
    source_sha256: str = ""


@dataclass
class BuildStats:
    """What building changed, summed over the batch (for the import report)."""

    merged_messages: int = 0
    dropped_leading_advisor: int = 0
    dropped_trailing_client: int = 0
    dropped_system: int = 0
    strategy_labels: Counter[str] = field(default_factory=Counter)
    unmapped_labels: Counter[str] = field(default_factory=Counter)
    topics_inferred: int = 0
    topics_default: int = 0


@dataclass
class _Turn:
    role: str
    text: str
    labels: list[str]


def length_class(exchanges: int) -> LengthClass:
    """short 2-3, medium 4-6, long 7+: real conversations are not capped at 10 exchanges,
    and a one-exchange conversation is filed as short."""
    if exchanges <= 3:
        return "short"
    return "medium" if exchanges <= 6 else "long"


def shape_turns(messages: list[RawMessage], stats: BuildStats) -> list[_Turn]:
    turns: list[_Turn] = []
    for m in messages:
        if m.role == "system":
            stats.dropped_system += 1
            continue
        if not m.text:
            continue
        if not turns and m.role == "advisor":
            stats.dropped_leading_advisor += 1
            continue
        if turns and turns[-1].role == m.role:
            turns[-1].text = f"{turns[-1].text} {m.text}"
            turns[-1].labels += m.labels
            stats.merged_messages += 1
        else:
            turns.append(_Turn(m.role, m.text, list(m.labels)))
    while turns and turns[-1].role == "client":
        turns.pop()
        stats.dropped_trailing_client += 1
    return turns


def record_id(fmt: str, source_sha256: str, source_id: str) -> str:
    """Stable, and free of whatever the source id holds (ids can carry names or emails)."""
    digest = hashlib.sha256(f"{source_sha256}:{source_id}".encode()).hexdigest()[:16]
    return f"real-{fmt}-{digest}"


def _esconv_events(
    cid: str,
    turns: list[AdvisorTurn],
    labels: dict[int, list[str]],
    cfg: EsconvConfig,
    now: datetime,
    stats: BuildStats,
) -> list[LabelEvent]:
    events = []
    for turn in turns:
        mapped: list[str] = []
        names: list[str] = []
        for raw in labels.get(turn.index, []):
            name, sid = cfg.canonical(raw)
            names.append(name or raw)
            if sid:
                mapped.append(sid)
            else:
                stats.unmapped_labels[name or raw] += 1
        if not mapped:
            continue
        counts = Counter(mapped)
        primary = max(mapped, key=lambda s: (counts[s], -mapped.index(s)))
        stats.strategy_labels[primary] += 1
        events.append(
            LabelEvent(
                event_id=f"{cid}:t{turn.index}:strategy:esconv",
                created_at=now,
                target=LabelTarget(conversation_id=cid, turn_index=turn.index, field="strategy"),
                value=primary,
                source=ESCONV_SOURCE,
                action="suggest",
                confidence=None,
                reason="ESConv supporter label(s) "
                + "; ".join(names)
                + " -> canonical strategy (emosim/importers/data/esconv.yaml)",
            )
        )
    return events


class RecordBuilder:
    def __init__(self, catalog: Catalog, agents: AgentSet, esconv: EsconvConfig | None):
        self.catalog = catalog
        self.agents = agents
        self.esconv = esconv
        self.anonymizer = ConversationAnonymizer()

    def build(
        self,
        raw: RawConversation,
        opts: BuildOptions,
        stats: BuildStats,
        now: datetime | None = None,
    ) -> tuple[ConversationRecord | None, Counter[str], int, str | None]:
        """(record or None, PII counts, turns changed, why None)."""
        now = now or datetime.now(UTC)
        shaped = shape_turns(raw.messages, stats)
        if len(shaped) < 2:
            return (
                None,
                Counter(),
                0,
                "no client message answered by the advisor (empty after merging)",
            )
        texts = [(t.role, t.text) for t in shaped]
        situation = raw.situation
        counts: Counter[str] = Counter()
        changed = 0
        if opts.anonymize:
            extra = [("client", situation)] if situation else []
            result = self.anonymizer.anonymize(extra + texts)
            out = result.texts
            counts = result.counts()
            changed = len({r.turn for r in result.replacements})
            if situation:
                situation, out = out[0], out[1:]
            texts = [(role, text) for (role, _), text in zip(texts, out, strict=True)]
        cid = record_id(opts.format, opts.source_sha256, raw.source_id)
        turns: list[ClientTurn | AdvisorTurn] = []
        transcript: list[Line] = []
        previous: EmotionAnnotation | None = None
        labels: dict[int, list[str]] = {}
        for index, ((role, text), shaped_turn) in enumerate(zip(texts, shaped, strict=True)):
            exchange = index // 2 + 1
            if role == "client":
                previous = self.agents.emotion_observer.observe(
                    EmotionObserverInput(text=text, previous=previous, context=transcript[-4:])
                )
                turns.append(
                    ClientTurn(index=index, exchange=exchange, text=text, annotation=previous)
                )
            else:
                turns.append(
                    AdvisorTurn(
                        index=index,
                        exchange=exchange,
                        text=text,
                        strategies=observe_strategies(
                            self.agents.strategy_observer,
                            text,
                            next(
                                (t.text for t in reversed(transcript) if t.speaker == "client"),
                                None,
                            ),
                        ),
                        sentences=self.agents.sentence_observer.label(text),
                        training_weight=opts.training_weight,
                    )
                )
                labels[index] = shaped_turn.labels
            transcript.append(Line(speaker=role, text=text))  # type: ignore[arg-type]
        topic, inferred = self._topic(raw, turns, opts)
        if inferred:
            stats.topics_inferred += 1
        elif opts.topic is None:
            stats.topics_default += 1
        events = model_label_events(
            cid, turns, now, self.agents.sentence_observer.name, observer_sources(self.agents)
        )
        if self.esconv is not None:
            advisor_turns = [t for t in turns if isinstance(t, AdvisorTurn)]
            events += _esconv_events(cid, advisor_turns, labels, self.esconv, now, stats)
        exchanges = len(turns) // 2
        record = ConversationRecord(
            id=cid,
            created_at=now,
            provenance=self._provenance(opts),
            scenario=ScenarioInfo(
                scenario_id=f"import_{opts.format.replace('-', '_')}",
                topic=topic.topic,
                subcategory=topic.subcategory,
                client_persona_id=IMPORTED_CLIENT,
                client_persona=None,
                advisor_persona_id=self.catalog.advisor.id,
                advisor_persona_version=self.catalog.advisor.version,
                length_class=length_class(exchanges),
                phase=opts.phase,
                situation=situation or f"Real conversation imported from a {opts.format} file.",
                planned_arc=[],
            ),
            lineage=LineageInfo(seed_id=cid),
            turns=turns,
            outcome=Outcome(
                status="completed",
                arc_completed=False,
                final_state=None,
                resolution_summary=(
                    f"Imported real conversation of {exchanges} exchange(s); it has no hidden "
                    "ground truth, only observer and imported labels."
                ),
            ),
            quality=Quality(review_status="unreviewed"),
            label_events=events,
        )
        return record, counts, changed, None

    def _topic(
        self, raw: RawConversation, turns: list, opts: BuildOptions
    ) -> tuple[TopicChoice, bool]:
        if opts.topic is not None:
            return opts.topic, False
        if self.esconv and raw.problem_type in self.esconv.problem_types:
            return self.esconv.problem_types[raw.problem_type], True
        client_text = " ".join(
            [raw.situation or ""] + [t.text for t in turns if isinstance(t, ClientTurn)]
        )
        return infer_topic(self.catalog, client_text)

    def _provenance(self, opts: BuildOptions) -> Provenance:
        backends = {
            role: info
            for role, info in self.agents.backends.items()
            if role in ("emotion_observer", "strategy_observer", "sentence_observer")
        }
        if opts.anonymize:
            backends["anonymizer"] = BackendInfo(backend="rules", model=ANONYMIZER)
        hashes = {k: v for k, v in self.agents.prompt_hashes.items() if k == "observers"}
        hashes["import_source"] = opts.source_sha256
        return Provenance(
            source="real",
            engine_version=__version__,
            backends=backends,
            prompt_hashes=hashes,
            license=opts.license,
            consent=opts.consent,  # type: ignore[arg-type]
            anonymization="anonymized" if opts.anonymize else "pending",
            split=opts.split,
        )
