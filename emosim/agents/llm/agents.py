"""The six agent roles played by a model: prompt in, validated pydantic model out.

Each agent renders its role's templates into a cached system prefix (stable for every call,
then stable for the conversation) and a per-call turn message, asks through its
`ModelCaller`, and turns the answer into the model the scripted agent would return. Only the
client's prompt sees the hidden state and the unspoken concern: the other roles' inputs do
not carry them (emosim/agents/messages.py), and their templates get nothing else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from emosim.catalog import Catalog
from emosim.files import format_validation_error
from emosim.schemas import CriticVerdict, EmotionAnnotation, Sentence, StrategyUse

from ..messages import (
    AdvisorInput,
    AdvisorOutput,
    ClientInput,
    ClientOutput,
    CriticInput,
    EmotionObserverInput,
)
from ..scripted.text import rng_for, split_sentences
from . import replies
from .caller import ModelCaller, ReplyError
from .context import CallSite, TurnTracker
from .prompts import Prompts
from .settings import thinking_for
from .wire import Message, ModelReply, ModelRequest, SystemBlock


class LLMAgent:
    """Shared plumbing: prompt rendering with cached prefixes, the request, the parse."""

    role = ""
    tag = ""

    def __init__(
        self,
        catalog: Catalog,
        prompts: Prompts,
        caller: ModelCaller,
        tracker: TurnTracker,
        provider: str,
    ):
        self.catalog = catalog
        self.prompts = prompts
        self.caller = caller
        self.tracker = tracker
        self.model = caller.settings.model
        self.name = f"{provider}-{self.tag}/{self.model}"
        self.replies = replies.reply_models(catalog)
        name = f"{self.role}.system.md"
        self._global = SystemBlock(
            text=prompts.cached(name, (id(catalog),), catalog=catalog), cache=True
        )

    def _context_block(self, key: tuple[Any, ...], **context: Any) -> SystemBlock:
        """Rendered once per key (persona, conversation setting): the second cached block."""
        name = f"{self.role}.context.md"
        text = self.prompts.cached(name, (id(self.catalog), *key), catalog=self.catalog, **context)
        return SystemBlock(text=text, cache=True)

    def system(self, key: tuple[Any, ...] | None = None, **context: Any) -> list[SystemBlock]:
        if key is None or not self.prompts.has(f"{self.role}.context.md"):
            return [self._global]
        return [self._global, self._context_block(key, **context)]

    def request(
        self, output: type[BaseModel], system: list[SystemBlock], turn: str
    ) -> ModelRequest:
        settings = self.caller.settings
        return ModelRequest(
            model=settings.model,
            system=system,
            messages=[Message(role="user", text=turn)],
            schema_name=output.__name__,
            output_schema=self.replies.schema(output),
            max_tokens=settings.max_tokens,
            effort=settings.effort,
            thinking=thinking_for(settings.model, settings.thinking),
        )

    def render_turn(self, **context: Any) -> str:
        return self.prompts.render(f"{self.role}.turn.md", catalog=self.catalog, **context)

    @staticmethod
    def parser(output: type[BaseModel], convert: Any) -> Any:
        """reply -> validated result, or ReplyError for the repair request."""

        def parse(reply: ModelReply) -> Any:
            data = replies.load(output, reply)
            try:
                return convert(data)
            except ValidationError as exc:
                raise ReplyError("\n".join(format_validation_error(exc, "answer")[:12])) from None

        return parse

    def ask(
        self,
        site: CallSite,
        output: type[BaseModel],
        system: list[SystemBlock],
        turn: str,
        convert: Any,
    ) -> Any:
        return self.caller.ask(
            site, self.request(output, system, turn), self.parser(output, convert)
        )


class LLMClient(LLMAgent):
    role = tag = "client"

    def speak(self, request: ClientInput, *, seed: int) -> ClientOutput:
        site = self.caller.site(len(request.transcript))
        self.tracker.note(site.conversation, "client", site.turn or 0)
        persona = request.persona
        rng = rng_for(seed, persona.id, request.exchange, "llm-client")
        system = self.system(
            (persona.model_dump_json(), request.topic, request.subcategory, request.situation),
            persona=persona,
            topic=self.catalog.topics[request.topic],
            subcategory=request.subcategory,
            situation=request.situation,
        )
        turn = self.render_turn(
            request=request,
            feeling=self.catalog.emotion(request.hidden_state.emotion),
            shared=[f for f in persona.facts if f.id in request.facts_used],
            unshared=[f for f in persona.facts if f.id not in request.facts_used],
            opener=rng.choice(persona.speaking_style.openers),
            last_strategy=self.catalog.strategies.get(request.last_advisor_strategy or ""),
        )
        out = self.replies.client
        return self.ask(
            site, out, system, turn, lambda d: replies.client_output(d, persona, request.facts_used)
        )


class LLMAdvisor(LLMAgent):
    role = tag = "advisor"

    def __init__(self, *args: Any, anti_pattern_rate: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.anti_pattern_rate = anti_pattern_rate

    def _anti_pattern(self, request: AdvisorInput, seed: int) -> str | None:
        """A first draft that deliberately commits an anti-pattern, at the scenario's rate."""
        rng = rng_for(seed, request.exchange, request.attempt, "llm-advisor")
        if request.attempt != 1 or rng.random() >= self.anti_pattern_rate:
            return None
        emotion = self.catalog.emotions[request.observed.primary]
        harmful = [a for a in emotion.harmful_strategies if a in self.catalog.anti_patterns]
        return rng.choice(harmful or sorted(self.catalog.anti_patterns))

    def draft(self, request: AdvisorInput, *, seed: int) -> AdvisorOutput:
        site = self.caller.site(len(request.transcript))
        self.tracker.note(site.conversation, "advisor", site.turn or 0)
        anti = self._anti_pattern(request, seed)
        system = self.system(
            (request.client_name, request.topic, request.subcategory),
            client_name=request.client_name,
            topic=self.catalog.topics[request.topic],
            subcategory=request.subcategory,
        )
        turn = self.render_turn(
            request=request,
            observed_emotion=self.catalog.emotions[request.observed.primary],
            anti_pattern=self.catalog.anti_patterns[anti] if anti else None,
        )
        return self.ask(
            site,
            self.replies.advisor,
            system,
            turn,
            lambda d: replies.advisor_output(d, self.name, anti),
        )


class LLMEmotionObserver(LLMAgent):
    role = "emotion_observer"
    tag = "emotion"

    def observe(self, request: EmotionObserverInput) -> EmotionAnnotation:
        site = self.caller.site(None)
        site.turn = self.tracker.last(site.conversation, "client")
        turn = self.render_turn(request=request)
        return self.ask(
            site,
            self.replies.emotion,
            self.system(),
            turn,
            lambda d: replies.emotion_annotation(d, self.catalog, request.text, self.name),
        )


class LLMStrategyObserver(LLMAgent):
    role = "strategy_observer"
    tag = "strategy"

    def observe(self, text: str) -> StrategyUse:
        site = self.caller.site(None)
        site.turn = self.tracker.last(site.conversation, "advisor")
        return self.ask(
            site,
            self.replies.strategy,
            self.system(),
            self.render_turn(text=text),
            lambda d: replies.strategy_use(d, self.name),
        )


class LLMSentenceObserver(LLMAgent):
    role = "sentence_observer"
    tag = "sentence"

    def label(self, text: str) -> list[Sentence]:
        site = self.caller.site(None)
        site.turn = self.tracker.last(site.conversation, "advisor")
        spans = split_sentences(text)
        if not spans:
            return []
        return self.ask(
            site,
            self.replies.sentences,
            self.system(),
            self.render_turn(text=text, sentences=[s for _, _, s in spans]),
            lambda d: replies.sentences(d, spans),
        )


class LLMCritic(LLMAgent):
    role = tag = "critic"

    def review(self, request: CriticInput) -> CriticVerdict:
        site = self.caller.site(len(request.transcript))
        turn = self.render_turn(
            request=request, observed_emotion=self.catalog.emotions[request.observed.primary]
        )
        return self.ask(
            site,
            self.replies.critic,
            self.system(),
            turn,
            lambda d: replies.critic_verdict(d, self.name),
        )
