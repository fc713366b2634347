"""Agent roles as small protocols: a backend is a swap, not a fork."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from emosim.schemas import CriticVerdict, EmotionAnnotation, Sentence, StrategyUse

from .messages import (
    AdvisorInput,
    AdvisorOutput,
    ClientInput,
    ClientOutput,
    CriticInput,
    EmotionObserverInput,
)


@runtime_checkable
class ClientAgent(Protocol):
    name: str

    def speak(self, request: ClientInput, *, seed: int) -> ClientOutput: ...


@runtime_checkable
class AdvisorAgent(Protocol):
    name: str

    def draft(self, request: AdvisorInput, *, seed: int) -> AdvisorOutput: ...


@runtime_checkable
class EmotionObserver(Protocol):
    name: str

    def observe(self, request: EmotionObserverInput) -> EmotionAnnotation: ...


@runtime_checkable
class StrategyObserver(Protocol):
    name: str

    def observe(self, text: str) -> StrategyUse: ...


def observe_strategies(observer: StrategyObserver, text: str, context: str | None) -> StrategyUse:
    """The observer's reading of a reply; one that reads the client's turn before it (a
    `reads_context` attribute, e.g. the trained ESConv observer) is given that turn."""
    if context and getattr(observer, "reads_context", False):
        return observer.observe(text, context=context)  # type: ignore[call-arg]
    return observer.observe(text)


@runtime_checkable
class SentenceObserver(Protocol):
    name: str

    def label(self, text: str) -> list[Sentence]: ...


@runtime_checkable
class Critic(Protocol):
    name: str

    def review(self, request: CriticInput) -> CriticVerdict: ...
