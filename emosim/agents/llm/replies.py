"""What each role's model must answer (JSON schemas from pydantic), and how an answer becomes
the same validated model the scripted backend returns.

Ids are enums built from the taxonomies, so the schema itself lists what is allowed. What a
schema cannot say (a cue must be words from the message, one label per sentence) is checked
here; a `ReplyError` goes back to the model in the one repair request.
"""

from functools import cache
from typing import Any, Literal

import anthropic
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emosim.catalog import Catalog
from emosim.files import format_validation_error
from emosim.schemas import (
    ClientPersona,
    CriticFinding,
    CriticScores,
    CriticVerdict,
    EmotionAnnotation,
    Sentence,
    StrategyUse,
    TextCue,
    intensity_level,
)

from ..messages import AdvisorOutput, ClientOutput, PlannedSentence
from .caller import ReplyError
from .wire import ModelReply

# Finding codes the critic may use besides the anti-pattern ids.
CRITIC_CODES = (
    "forbidden_phrase",
    "forbidden_pattern",
    "compliance",
    "unexplained_jargon",
    "missing_validation",
    "too_long",
    "too_short",
    "off_topic",
    "other",
)
_FORBID = ConfigDict(extra="forbid")


def _enum(values: list[str] | tuple[str, ...]) -> Any:
    return Literal.__getitem__(tuple(values))  # type: ignore[attr-defined]


class ReplyModels:
    """The reply models of one catalog, with their API-ready JSON schemas."""

    def __init__(self, catalog: Catalog):
        EmotionId = _enum(list(catalog.emotions))  # noqa: N806 - types
        StrategyId = _enum(list(catalog.strategies))  # noqa: N806
        FunctionId = _enum(list(catalog.functions))  # noqa: N806
        CodeId = _enum([*catalog.anti_patterns, *CRITIC_CODES])  # noqa: N806
        SignalId = _enum([*catalog.emotions, "intensity"])  # noqa: N806

        class ClientMessage(BaseModel):
            """The client's next message to Elena."""

            model_config = _FORBID
            message: str = Field(description="What you write to Elena, in your own voice.")
            shared_fact_ids: list[str] = Field(
                description="Ids of your facts this message shares for the first time."
            )

        class DraftSentence(BaseModel):
            model_config = _FORBID
            text: str = Field(description="One sentence of the reply.")
            function: FunctionId = Field(description="Sentence-function id.")
            strategy: StrategyId | None = Field(description="Strategy id it serves, or null.")

        class AdvisorDraft(BaseModel):
            """Elena's reply, sentence by sentence, with the strategies it uses."""

            model_config = _FORBID
            sentences: list[DraftSentence] = Field(description="The reply, in order.")
            primary_strategy: StrategyId = Field(description="Main strategy id.")
            other_strategies: list[StrategyId] = Field(description="Further strategy ids used.")
            learning_objective: str = Field(
                description="One sentence: what a model should learn from this reply."
            )

        class Cue(BaseModel):
            model_config = _FORBID
            text: str = Field(description="Words copied exactly from the message.")
            signals: SignalId = Field(description="Emotion id it signals, or 'intensity'.")

        class EmotionReading(BaseModel):
            """What the client's message shows, from its words alone."""

            model_config = _FORBID
            primary: EmotionId = Field(description="Primary emotion id.")
            secondary: EmotionId | None = Field(description="Secondary emotion id, or null.")
            intensity: float = Field(ge=0, le=1, description="Intensity 0..1.")
            confidence: float = Field(ge=0, le=1, description="Your confidence 0..1.")
            cues: list[Cue] = Field(description="Evidence: words from the message.")

        class StrategyReading(BaseModel):
            """The strategies an advisor reply uses, from its words alone."""

            model_config = _FORBID
            primary: StrategyId = Field(description="Main strategy id.")
            others: list[StrategyId] = Field(description="Up to 3 further strategy ids.")
            confidence: float = Field(ge=0, le=1, description="Your confidence 0..1.")

        class SentenceLabel(BaseModel):
            model_config = _FORBID
            function: FunctionId = Field(description="Sentence-function id.")
            strategy: StrategyId | None = Field(description="Strategy id it serves, or null.")

        class SentenceLabels(BaseModel):
            """One label per numbered sentence, in order."""

            model_config = _FORBID
            labels: list[SentenceLabel] = Field(description="Exactly one label per sentence.")

        class Finding(BaseModel):
            model_config = _FORBID
            code: CodeId = Field(description="Finding code.")
            severity: Literal["info", "minor", "major", "blocker"]
            message: str = Field(description="Why, in one sentence.")
            evidence: str | None = Field(description="The offending words, or null.")

        class CriticReview(BaseModel):
            """The critic's review of a draft."""

            model_config = _FORBID
            findings: list[Finding] = Field(description="Problems found; empty when none.")
            voice: float = Field(ge=0, le=1, description="Fit with Elena's voice 0..1.")
            empathy: float = Field(ge=0, le=1, description="Attunement 0..1.")
            compliance: float = Field(ge=0, le=1, description="1 when no boundary is crossed.")
            clarity: float = Field(ge=0, le=1, description="Plain, explained, right length 0..1.")

        self.client = ClientMessage
        self.advisor = AdvisorDraft
        self.emotion = EmotionReading
        self.strategy = StrategyReading
        self.sentences = SentenceLabels
        self.critic = CriticReview

    @staticmethod
    @cache
    def schema(model: type[BaseModel]) -> dict[str, Any]:
        """The model's JSON schema as the Messages API takes it (unsupported bounds in text)."""
        return anthropic.transform_schema(model)


_models: dict[int, ReplyModels] = {}


def reply_models(catalog: Catalog) -> ReplyModels:
    key = id(catalog)
    if key not in _models:
        _models[key] = ReplyModels(catalog)
    return _models[key]


def load(model: type[BaseModel], reply: ModelReply) -> Any:
    """The reply's JSON object validated by `model`, or a ReplyError saying what is wrong."""
    if reply.output is None:
        cut = (
            " (the answer was cut off at max_tokens: raise it in agents/llm/defaults.yaml)"
            if reply.stop_reason == "max_tokens"
            else ""
        )
        raise ReplyError(f"the answer is not one JSON object{cut}")
    try:
        return model.model_validate(reply.output)
    except ValidationError as exc:
        raise ReplyError("\n".join(format_validation_error(exc, "answer")[:12])) from None


# --- conversions to the models the graph takes ---------------------------------------------


def client_output(data: Any, persona: ClientPersona, facts_used: list[str]) -> ClientOutput:
    text = data.message.strip()
    if not text:
        raise ReplyError("answer: message: must not be empty")
    known = {f.id for f in persona.facts}
    unknown = [f for f in data.shared_fact_ids if f not in known]
    if unknown:
        raise ReplyError(
            f"answer: shared_fact_ids: unknown fact ids {unknown} (yours: {sorted(known)})"
        )
    used = list(facts_used) + [
        f for f in dict.fromkeys(data.shared_fact_ids) if f not in facts_used
    ]
    return ClientOutput(text=text, facts_used=used)


def advisor_output(data: Any, source: str, anti_pattern: str | None) -> AdvisorOutput:
    sentences = [s for s in data.sentences if s.text.strip()]
    if not sentences:
        raise ReplyError("answer: sentences: the reply needs at least one sentence")
    planned = [
        PlannedSentence(text=s.text.strip(), function=s.function, strategy=s.strategy)
        for s in sentences
    ]
    others = [s for s in dict.fromkeys(data.other_strategies) if s != data.primary_strategy]
    return AdvisorOutput(
        text=" ".join(p.text for p in planned),
        sentences=planned,
        strategies=StrategyUse(primary=data.primary_strategy, combination=others, source=source),
        learning_objective=data.learning_objective.strip(),
        anti_pattern=anti_pattern,
    )


def emotion_annotation(data: Any, catalog: Catalog, text: str, observer: str) -> EmotionAnnotation:
    lowered = text.lower()
    cues: list[TextCue] = []
    missing: list[str] = []
    for cue in data.cues:
        words = cue.text.strip()
        start = lowered.find(words.lower()) if words else -1
        if start < 0:
            missing.append(cue.text)
            continue
        cues.append(
            TextCue(
                text=text[start : start + len(words)],
                start=start,
                end=start + len(words),
                signals=cue.signals,
            )
        )
    if missing:
        raise ReplyError(
            f"answer: cues: {missing} are not words of the message; copy cue text exactly"
        )
    intensity = round(float(data.intensity), 2)
    return EmotionAnnotation(
        primary=data.primary,
        family=catalog.emotions[data.primary].family,
        secondary=data.secondary if data.secondary != data.primary else None,
        intensity=intensity,
        intensity_level=intensity_level(intensity),
        cues=sorted(cues, key=lambda c: c.start),
        confidence=round(float(data.confidence), 2),
        observer=observer,
    )


def strategy_use(data: Any, source: str) -> StrategyUse:
    others = [s for s in dict.fromkeys(data.others) if s != data.primary][:3]
    return StrategyUse(
        primary=data.primary,
        combination=others,
        confidence=round(float(data.confidence), 2),
        source=source,
    )


def sentences(data: Any, spans: list[tuple[int, int, str]]) -> list[Sentence]:
    if len(data.labels) != len(spans):
        raise ReplyError(
            f"answer: labels: {len(data.labels)} labels for {len(spans)} sentences; "
            "give exactly one label per numbered sentence, in order"
        )
    return [
        Sentence(
            index=i,
            text=text,
            start=start,
            end=end,
            function=label.function,
            strategy=label.strategy,
        )
        for i, ((start, end, text), label) in enumerate(zip(spans, data.labels, strict=True))
    ]


def critic_verdict(data: Any, critic: str) -> CriticVerdict:
    """Accepted exactly when no finding is major or blocker: the scripted critic's rule."""
    findings = [
        CriticFinding(
            code=f.code,
            message=f.message.strip() or f.code,
            severity=f.severity,
            evidence=f.evidence,
        )
        for f in data.findings
    ]
    scores = CriticScores(
        voice=round(data.voice, 2),
        empathy=round(data.empathy, 2),
        compliance=round(data.compliance, 2),
        clarity=round(data.clarity, 2),
        overall=round((data.voice + data.empathy + data.compliance + data.clarity) / 4, 2),
    )
    accepted = not any(f.severity in {"major", "blocker"} for f in findings)
    return CriticVerdict(accepted=accepted, scores=scores, findings=findings, critic=critic)
