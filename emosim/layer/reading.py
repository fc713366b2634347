"""The layer at chat time: a conversation so far in, what to do next out.

`Layer.read(messages)` takes any domain's conversation as chat messages (role user/assistant,
system ignored) and returns a `LayerReading`:

- the client's current emotion, read by the trained emotion observer from the client's last
  turn (consecutive user messages joined), chained through their earlier turns;
- strategies ranked for the next reply: the next-strategy model (learned from ESConv's human
  supporters, see model.py) gives each ESConv strategy a probability; each taxonomy strategy
  gets its ESConv strategy's probability, shared among the taxonomy strategies it stands for by
  their fit to the emotion (helpful for it in the taxonomy: x2; an improvement rate learned
  from emosim records, when the model has one: x rate/0.5; harmful for it: left out);
- the anti-patterns to avoid now, the sentence-function plan of the top strategies, and a
  short guidance text a host model can prepend to its system prompt.

The assistant's earlier messages are read by the trained strategy observer (their ESConv
strategies are the history the model conditions on).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from emosim.agents.classifier.esconv_train import StrategyExample
from emosim.catalog import Catalog, get_catalog
from emosim.errors import DataError
from emosim.schemas import EmotionAnnotation, TextCue
from emosim.schemas.common import StrictModel

from .model import EmotionFeatures, NextStrategyModel
from .outcomes import improvement_rate
from .turns import from_messages

MAX_MESSAGES = 400
MAX_CHARS = 20_000
CHAINED_TURNS = 3  # earlier client turns the emotion reading is chained through
HIGH = 0.7


class ChatMessage(StrictModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_CHARS)


class Conversation(StrictModel):
    """The request body: the conversation so far, oldest message first."""

    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


class EmotionReading(StrictModel):
    family: str = Field(description="Goleman family of the emotion.")
    emotion: str = Field(description="Emotion id (taxonomies/emotions.yaml).")
    name: str
    secondary: str | None = None
    intensity: float = Field(ge=0, le=1)
    intensity_level: str
    confidence: float = Field(ge=0, le=1)
    text: str = Field(description="The client turn read (consecutive user messages joined).")
    evidence: list[TextCue] = Field(description="Spans in `text` (exact offsets).")


class RankedStrategy(StrictModel):
    id: str = Field(description="Taxonomy strategy id.")
    name: str
    esconv: str = Field(description="The ESConv strategy it realises.")
    score: float = Field(description="Share of the next reply's probability (sums to 1).")
    rationale: str


class AvoidNow(StrictModel):
    id: str = Field(description="Anti-pattern id (taxonomies/strategies.yaml).")
    name: str
    why: str


class PlannedSentence(StrictModel):
    function: str = Field(description="Sentence-function id.")
    name: str
    purpose: str


class LayerReading(StrictModel):
    emotion: EmotionReading
    strategies: list[RankedStrategy]
    esconv: dict[str, float] = Field(description="Next-strategy probability per ESConv strategy.")
    history: list[str] = Field(description="ESConv strategy read from each assistant message.")
    avoid: list[AvoidNow]
    plan: list[PlannedSentence]
    guidance: str
    models: dict[str, str] = Field(description="Model versions and the license they carry.")


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


class Layer:
    """The loaded observers and models; `read` is cheap (a few ms), loading is not."""

    def __init__(
        self,
        catalog: Catalog,
        emotion_observer,  # noqa: ANN001 - ClassifierEmotionObserver
        strategy_model,  # noqa: ANN001 - the ESConv strategy classifier (reads history)
        next_model: NextStrategyModel,
        *,
        top: int = 5,
    ):
        self.catalog = catalog
        self.observer = emotion_observer
        self.strategy_model = strategy_model
        self.model = next_model
        self.top = top
        self.members: dict[str, list[str]] = {}
        for strategy in catalog.strategies.values():
            self.members.setdefault(strategy.esconv, []).append(strategy.id)
        self.models = {
            "emotion_observer": emotion_observer.name,
            "strategy_observer": f"esconv-strategy:{strategy_model.version}",
            "next_strategy": next_model.version,
            "license": next_model.meta.license,
        }

    @classmethod
    def load(
        cls,
        catalog: Catalog | None = None,
        *,
        model_path: Path | None = None,
        emotion_model: Path | None = None,
        strategy_model: Path | None = None,
    ) -> Layer:
        """The cached models (built on first use), or the given files as they are."""
        from emosim.agents.classifier.strategy_store import ensure_strategy_model

        from .fast import speed_up, speed_up_evidence
        from .store import emotion_observer, ensure_model

        catalog = catalog or get_catalog()
        observer = emotion_observer(catalog, emotion_model)
        strategies = ensure_strategy_model(strategy_model)
        next_model = ensure_model(observer, catalog, model_path)
        speed_up(observer.model, strategies, next_model)
        speed_up_evidence(observer)
        return cls(catalog, observer, strategies, next_model)

    # --- reading --------------------------------------------------------------------------

    def read(self, messages: Sequence[ChatMessage | dict]) -> LayerReading:
        chat = [
            (m.role, m.content)
            for m in (ChatMessage.model_validate(m) if isinstance(m, dict) else m for m in messages)
            if m.role != "system"
        ]
        client_turns = _client_turns(chat)
        if not client_turns:
            raise DataError(["messages: no user message with text (nothing to read)"])
        history = self._history(chat)
        turn = from_messages(chat, history)
        annotation, masses = self._emotion(client_turns[-CHAINED_TURNS:])
        emotions = EmotionFeatures(masses.reshape(1, -1), [annotation.primary])
        log_p = self.model.log_proba([turn], emotions)[0]
        esconv = {
            label: float(np.exp(v)) for label, v in zip(self.model.labels, log_p, strict=True)
        }
        ranked = self._rank(esconv, annotation)
        avoid = self._avoid(annotation, history)
        plan = self._plan(ranked, annotation)
        emotion = self.catalog.emotions[annotation.primary]
        reading = EmotionReading(
            family=annotation.family,
            emotion=annotation.primary,
            name=emotion.name,
            secondary=annotation.secondary,
            intensity=annotation.intensity,
            intensity_level=annotation.intensity_level,
            confidence=annotation.confidence,
            text=client_turns[-1],
            evidence=[c for c in annotation.cues if c.signals != "intensity"][:6],
        )
        return LayerReading(
            emotion=reading,
            strategies=ranked,
            esconv={k: round(v, 4) for k, v in esconv.items()},
            history=history,
            avoid=avoid,
            plan=plan,
            guidance=self._guidance(reading, emotion.adjective, ranked, avoid, plan),
            models=self.models,
        )

    def _history(self, chat: list[tuple[str, str]]) -> list[str]:
        examples, client = [], ""
        for role, content in chat:
            if role == "user":
                client = content
            elif content.strip():
                examples.append(StrategyExample(text=content, context=client))
        if not examples:
            return []
        named, _ = self.strategy_model.predict(examples)
        return named

    def _emotion(self, turns: list[str]) -> tuple[EmotionAnnotation, np.ndarray]:
        margins = self.observer.model.margins(turns)
        previous = None
        for text, row in zip(turns[:-1], margins[:-1], strict=True):
            reading = self.observer.read(text, row, previous)
            previous = self.observer.annotate(text, row, reading, previous, evidence=False)
        last, row = turns[-1], margins[-1]
        plain = self.observer.read(last, row)  # the model's features: no chaining
        masses = np.array([plain.families[f] for f in self.observer.family_ids] + [plain.neutral])
        reading = self.observer.read(last, row, previous)
        return self.observer.annotate(last, row, reading, previous), masses

    def _fit(self, strategy_id: str, annotation: EmotionAnnotation) -> float:
        emotion = self.catalog.emotions[annotation.primary]
        if strategy_id in emotion.harmful_strategies:
            return 0.0
        weight = 2.0 if strategy_id in emotion.helpful_strategies else 1.0
        rate = improvement_rate(self.model.meta.outcomes, annotation.family, strategy_id)
        return weight * (rate / 0.5 if rate is not None else 1.0)

    def _rank(
        self, esconv: dict[str, float], annotation: EmotionAnnotation
    ) -> list[RankedStrategy]:
        emotion = self.catalog.emotions[annotation.primary]
        scored: list[tuple[float, str]] = []
        for label, members in self.members.items():
            fits = [self._fit(m, annotation) for m in members]
            total = sum(fits)
            for member, fit in zip(members, fits, strict=True):
                if fit > 0:
                    scored.append((esconv.get(label, 0.0) * fit / total, member))
        norm = sum(s for s, _ in scored) or 1.0
        scored.sort(key=lambda x: -x[0])
        out = []
        for score, member in scored[: self.top]:
            strategy = self.catalog.strategies[member]
            parts = [
                f"human supporters at this point chose {strategy.esconv} "
                f"{esconv[strategy.esconv]:.0%} of the time"
            ]
            if member in emotion.helpful_strategies:
                parts.append(
                    f"the taxonomy lists it as helpful when a client is {emotion.adjective}"
                )
            rate = improvement_rate(self.model.meta.outcomes, annotation.family, member)
            if rate is not None:
                parts.append(
                    f"in emosim records it moved a client in {annotation.family} on "
                    f"{rate:.0%} of the time"
                )
            out.append(
                RankedStrategy(
                    id=member,
                    name=strategy.name,
                    esconv=strategy.esconv,
                    score=round(score / norm, 4),
                    rationale="; ".join(parts) + ".",
                )
            )
        return out

    def _avoid(self, annotation: EmotionAnnotation, history: list[str]) -> list[AvoidNow]:
        emotion = self.catalog.emotions[annotation.primary]
        ids = [h for h in emotion.harmful_strategies if h in self.catalog.anti_patterns]
        if annotation.intensity >= HIGH:  # information will not land yet
            ids += ["premature_advice", "wrong_timing", "jargon_dump"]
        if history[-2:] == ["Affirmation and Reassurance"] * 2:
            ids.append("over_validation")
        if history[-1:] == ["Question"]:
            ids.append("question_stack")
        out = []
        for anti_id in dict.fromkeys(i for i in ids if i in self.catalog.anti_patterns):
            anti = self.catalog.anti_patterns[anti_id]
            out.append(AvoidNow(id=anti.id, name=anti.name, why=_first_sentence(anti.why_harmful)))
        return out[:6]

    def _plan(
        self, ranked: list[RankedStrategy], annotation: EmotionAnnotation
    ) -> list[PlannedSentence]:
        functions: list[str] = []
        if annotation.intensity_level != "low" and annotation.family != "enjoyment":
            functions.append("acknowledge_emotion")
        for k, strategy in enumerate(ranked[:2]):
            typical = self.catalog.strategies[strategy.id].typical_functions
            functions += typical[:2] if k == 0 else typical[:1]
        out = []
        for function_id in list(dict.fromkeys(functions))[:4]:
            function = self.catalog.functions[function_id]
            out.append(
                PlannedSentence(
                    function=function.id,
                    name=function.name,
                    purpose=_first_sentence(function.definition),
                )
            )
        return out

    def _guidance(
        self,
        emotion: EmotionReading,
        adjective: str,
        ranked: list[RankedStrategy],
        avoid: list[AvoidNow],
        plan: list[PlannedSentence],
    ) -> str:
        lines = [
            f"The user sounds {adjective} ({emotion.family}, {emotion.intensity_level} "
            f"intensity; confidence {emotion.confidence:.2f})."
        ]
        if ranked:
            lead = self.catalog.strategies[ranked[0].id]
            lines.append(f"Lead with {lead.name.lower()}: {_first_sentence(lead.definition)}")
            if len(ranked) > 1:
                lines.append(
                    "Then consider " + ", ".join(s.name.lower() for s in ranked[1:3]) + "."
                )
        if plan:
            lines.append("Shape the reply as: " + " -> ".join(p.name.lower() for p in plan) + ".")
        if avoid:
            lines.append("Avoid: " + ", ".join(a.name.lower() for a in avoid) + ".")
        return " ".join(lines)


def _client_turns(chat: list[tuple[str, str]]) -> list[str]:
    turns: list[str] = []
    last = None
    for role, content in chat:
        words = " ".join(content.split())
        if role == "user" and words:
            if last == "user":
                turns[-1] = f"{turns[-1]} {words}"
            else:
                turns.append(words)
        if words:
            last = role
    return turns


_DEFAULT: Layer | None = None


def read_conversation(
    messages: Sequence[ChatMessage | dict], layer: Layer | None = None
) -> LayerReading:
    """Read a conversation with `layer` (default: the cached models, loaded on first call)."""
    global _DEFAULT
    if layer is None:
        if _DEFAULT is None:
            _DEFAULT = Layer.load()
        layer = _DEFAULT
    return layer.read(messages)
