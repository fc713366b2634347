"""Hand-annotated seed conversations: authored in YAML, compiled into complete records.

A domain expert writes the words and the labels; the compiler computes what is tedious and
error-prone by hand (character offsets of cues and sentences, intensity bands, families, ids),
runs the rule critic for scores, and validates the result like any other record.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field

from . import __version__
from .agents.messages import CriticInput, Line
from .agents.scripted.critic import RuleCritic
from .agents.scripted.text import split_sentences
from .catalog import Catalog, file_sha256
from .errors import DataError
from .files import load_yaml_model, write_text_atomic
from .schemas import (
    AdvisorTurn,
    ArcStep,
    ClientTurn,
    ConversationRecord,
    CriticFinding,
    EmotionAnnotation,
    LabelEvent,
    LabelSource,
    LabelTarget,
    LineageInfo,
    Outcome,
    Provenance,
    Quality,
    RejectedDraft,
    ScenarioInfo,
    Sentence,
    StrategyUse,
    TextCue,
    intensity_level,
)
from .schemas.common import Identifier, LengthClass, StrictModel, Unit
from .schemas.scenario import Phase

AUTHOR = "seed-author"


class SeedState(StrictModel):
    emotion: Identifier = Field(description="Emotion id.")
    intensity: Unit = Field(description="Intensity 0..1.")


class SeedObservation(StrictModel):
    primary: Identifier = Field(description="Annotated primary emotion.")
    secondary: Identifier | None = Field(default=None, description="Annotated secondary emotion.")
    intensity: Unit = Field(description="Annotated intensity.")
    confidence: Unit = Field(default=0.9, description="Annotator confidence.")
    cues: list[str] = Field(
        default_factory=list, description="Exact words of the turn that signal the emotion."
    )


class SeedDraft(StrictModel):
    text: str = Field(description="A draft Elena must not send.")
    anti_pattern: Identifier = Field(description="Anti-pattern the draft commits.")
    reason: str = Field(description="Why the critic rejects it.")


class SeedClientTurn(StrictModel):
    client: str = Field(description="What the client writes.")
    true_state: SeedState = Field(description="The client's true state (ground truth).")
    observed: SeedObservation = Field(description="The annotation a reader makes from the text.")


class SeedAdvisorTurn(StrictModel):
    advisor: str = Field(description="Elena's reply.")
    strategies: list[Identifier] = Field(min_length=1, description="Primary strategy first.")
    functions: list[Identifier] = Field(
        min_length=1, description="Sentence function of each sentence of the reply, in order."
    )
    learning_objective: str = Field(description="What a model should learn from this turn.")
    rejected_drafts: list[SeedDraft] = Field(
        default_factory=list, description="Drafts rejected before this reply."
    )


class SeedSource(StrictModel):
    id: str = Field(description="Record id of the compiled seed.")
    title: str = Field(description="Human title.")
    topic: Identifier = Field(description="Topic id.")
    subcategory: Identifier = Field(description="Sub-category id.")
    client_persona: Identifier = Field(description="Client persona id.")
    length_class: LengthClass = Field(description="short, medium or long.")
    phase: Phase = Field(default="template", description="Generation phase.")
    situation: str = Field(description="What brings the client to Elena.")
    arc: list[ArcStep] = Field(min_length=2, description="Planned arc.")
    turns: list[SeedClientTurn | SeedAdvisorTurn] = Field(
        min_length=2, description="Alternating client and advisor turns, client first."
    )
    arc_completed: bool = Field(description="Whether the client reached the arc's end.")
    resolution_summary: str = Field(description="Where the client ended up.")
    created_at: datetime = Field(description="When the seed was authored.")


def compile_seed(catalog: Catalog, path: Path) -> ConversationRecord:
    src = load_yaml_model(path, SeedSource)
    problems: list[str] = []
    critic = RuleCritic(catalog)
    turns: list[ClientTurn | AdvisorTurn] = []
    events: list[LabelEvent] = []
    transcript: list[Line] = []
    last_observed: EmotionAnnotation | None = None
    persona = catalog.clients.get(src.client_persona)
    if persona is None:
        raise DataError([f"{path}: client_persona: unknown persona id {src.client_persona!r}"])

    def event(turn: int, field: str, value: object, sentence: int | None = None) -> None:
        suffix = f"s{sentence}" if sentence is not None else ""
        events.append(
            LabelEvent(
                event_id=f"{src.id}:t{turn}{suffix}:{field}:seed",
                created_at=src.created_at,
                target=LabelTarget(
                    conversation_id=src.id, turn_index=turn, sentence_index=sentence, field=field
                ),
                value=value,
                source=LabelSource(kind="human_bulk_review", name=AUTHOR, version="1"),
                action="suggest",
                confidence=None,
                reason="hand annotation of a seed conversation",
            )
        )

    for index, turn in enumerate(src.turns):
        where = f"{path}: turns.{index}"
        exchange = index // 2 + 1
        if isinstance(turn, SeedClientTurn):
            if index % 2:
                problems.append(f"{where}: expected an advisor turn here (turns alternate)")
                continue
            cues = []
            for cue in turn.observed.cues:
                at = turn.client.find(cue)
                if at < 0:
                    problems.append(f"{where}.observed.cues: {cue!r} is not in the client's text")
                    continue
                cues.append(
                    TextCue(text=cue, start=at, end=at + len(cue), signals=turn.observed.primary)
                )
            try:
                observed = EmotionAnnotation(
                    primary=turn.observed.primary,
                    family=catalog.emotion(turn.observed.primary).family,
                    secondary=turn.observed.secondary,
                    intensity=turn.observed.intensity,
                    intensity_level=intensity_level(turn.observed.intensity),
                    cues=cues,
                    confidence=turn.observed.confidence,
                    observer=AUTHOR,
                )
                truth = catalog.emotional_state(turn.true_state.emotion, turn.true_state.intensity)
            except DataError as exc:
                problems.extend(f"{where}: {p}" for p in exc.problems)
                continue
            turns.append(
                ClientTurn(
                    index=index,
                    exchange=exchange,
                    text=turn.client,
                    ground_truth=truth,
                    annotation=observed,
                )
            )
            event(index, "emotion", observed.primary)
            event(index, "intensity", observed.intensity)
            last_observed = observed
            transcript.append(Line(speaker="client", text=turn.client))
        else:
            if index % 2 == 0 or last_observed is None:
                problems.append(f"{where}: expected a client turn here (turns alternate)")
                continue
            spans = split_sentences(turn.advisor)
            if len(spans) != len(turn.functions):
                problems.append(
                    f"{where}.functions: {len(turn.functions)} functions for {len(spans)} "
                    f"sentences: {[s for _, _, s in spans]}"
                )
                continue
            sentences = [
                Sentence(
                    index=i,
                    text=text,
                    start=start,
                    end=end,
                    function=fn,
                    strategy=None,
                    intended_function=fn,
                )
                for i, ((start, end, text), fn) in enumerate(
                    zip(spans, turn.functions, strict=True)
                )
            ]
            verdict = critic.review(
                CriticInput(draft=turn.advisor, observed=last_observed, transcript=transcript)
            )
            if not verdict.accepted:
                reasons = "; ".join(
                    f"{f.code}: {f.evidence or f.message}" for f in verdict.findings
                )
                problems.append(f"{where}.advisor: the rule critic rejects this reply ({reasons})")
            rejected = []
            for j, draft in enumerate(turn.rejected_drafts, start=1):
                v = critic.review(
                    CriticInput(draft=draft.text, observed=last_observed, transcript=transcript)
                )
                v.accepted = False
                if not any(f.code == draft.anti_pattern for f in v.findings):
                    v.findings.append(
                        CriticFinding(
                            code=draft.anti_pattern, message=draft.reason, severity="major"
                        )
                    )
                rejected.append(
                    RejectedDraft(
                        attempt=j, text=draft.text, anti_pattern=draft.anti_pattern, verdict=v
                    )
                )
            use = StrategyUse(
                primary=turn.strategies[0],
                combination=turn.strategies[1:],
                confidence=None,
                source=AUTHOR,
            )
            turns.append(
                AdvisorTurn(
                    index=index,
                    exchange=exchange,
                    text=turn.advisor,
                    intended_strategies=use,
                    strategies=use,
                    sentences=sentences,
                    learning_objective=turn.learning_objective,
                    critic=verdict,
                    rejected_drafts=rejected,
                    training_weight=1.0,
                )
            )
            event(index, "strategy", use.primary)
            for s in sentences:
                event(index, "sentence_function", s.function, sentence=s.index)
            transcript.append(Line(speaker="advisor", text=turn.advisor))
    if problems:
        raise DataError(problems)

    from .graphs.finalize import quality_scores

    final = turns[-2].ground_truth if len(turns) >= 2 else None
    record = ConversationRecord(
        id=src.id,
        created_at=src.created_at,
        provenance=Provenance(
            source="hand_authored",
            engine_version=__version__,
            prompt_hashes={"seed_source": file_sha256(path)},
            license="CC-BY-4.0",
        ),
        scenario=ScenarioInfo(
            scenario_id=src.id,
            topic=src.topic,
            subcategory=src.subcategory,
            client_persona_id=persona.id,
            client_persona=persona,
            advisor_persona_id=catalog.advisor.id,
            advisor_persona_version=catalog.advisor.version,
            length_class=src.length_class,
            phase=src.phase,
            situation=src.situation,
            planned_arc=src.arc,
        ),
        lineage=LineageInfo(seed_id=src.id),
        turns=turns,
        outcome=Outcome(
            status="completed",
            arc_completed=src.arc_completed,
            final_state=final,
            resolution_summary=src.resolution_summary,
        ),
        quality=Quality(scores=quality_scores(turns), review_status="approved"),
        label_events=events,
    )
    return record


def compile_seeds(catalog: Catalog, sources: list[Path], out_dir: Path) -> list[Path]:
    from .validate import record_problems

    written = []
    problems: list[str] = []
    compiled = []
    for path in sources:
        try:
            record = compile_seed(catalog, path)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(record_problems(record, str(path), catalog))
        compiled.append((path, record))
    if problems:
        raise DataError(problems)  # nothing is written unless every seed compiles
    for path, record in compiled:
        target = out_dir / f"{path.stem}.json"
        write_text_atomic(target, record.model_dump_json(indent=2) + "\n")
        written.append(target)
    return written
