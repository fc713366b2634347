"""One role's model calls: retries, one repair request, recording and accounting.

    ask(request, parse)
      send -> transient error? back off and retry (bounded) -> still failing: AgentFailure
           -> fatal error (key, bad request, unknown model): EmosimError, the run stops
      stop_reason refusal -> ModelRefusal (an AgentFailure: the conversation ends as refused,
                             with the model's reason; no repair request: it would be refused
                             again and cost a call)
      stop_reason max_tokens -> the same request once more with the role's larger budget
                                (max_tokens_retry, default twice max_tokens); cut off again:
                                AgentFailure naming the setting to raise
      parse the reply -> invalid? send one repair request with the validation error
                      -> still invalid: AgentFailure("<role> turn N: ...")

Every attempt, failed or not, is a line in the run's cassette; every answered call adds its
tokens and cost to the accounting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from emosim.errors import AgentFailure, EmosimError

from .accounting import Accounting
from .cassette import CassetteWriter
from .context import CallSite, current_conversation
from .faults import CallError, FatalCallError, TransientCallError, with_retries
from .ratelimit import Gate
from .settings import Price, RetrySettings, RoleSettings
from .wire import ModelReply, ModelRequest

T = TypeVar("T")


class ReplyError(ValueError):
    """A reply that is not a valid answer; the message is sent back in the repair request."""


class ModelRefusal(AgentFailure):
    """The model declined to answer (stop_reason `refusal`): the turn ends as refused."""


def refusal_reason(reply: ModelReply) -> str:
    details = reply.stop_details or {}
    parts = [str(details[k]) for k in ("category", "explanation") if details.get(k)]
    if not parts and reply.text.strip():
        parts.append(reply.text.strip()[:200])
    return "; ".join(parts) or "no reason given"


class Transport(Protocol):
    provider: str
    replaying: bool

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply: ...


def _no_sleep(_: float) -> None:
    return None


class ModelCaller:
    def __init__(
        self,
        role: str,
        transport: Transport,
        settings: RoleSettings,
        retry: RetrySettings,
        *,
        price: Price | None,
        accounting: Accounting,
        cassette: CassetteWriter | None,
        batch_discount: float = 0.5,
        gate: Gate | None = None,
    ):
        self.role = role
        self.gate = gate
        """The provider key's rate limit (emosim/agents/llm/ratelimit.py), or None."""
        self.transport = transport
        self.settings = settings
        self.retry = retry
        self.price = price
        self.accounting = accounting
        self.cassette = cassette
        self.batch_discount = batch_discount
        # a replay has nothing to wait for; a batch round is the wait between attempts
        idle = transport.replaying or getattr(transport, "batched", False)
        self.sleep: Callable[[float], None] = _no_sleep if idle else time.sleep

    def site(self, turn: int | None) -> CallSite:
        return CallSite(self.role, current_conversation(), turn)

    def ask(self, site: CallSite, request: ModelRequest, parse: Callable[[ModelReply], T]) -> T:
        reply, request = self._answer(site, request)
        try:
            return parse(reply)
        except ReplyError as exc:
            problem = str(exc)
        reply, _ = self._answer(site, request.with_repair(reply.text, problem))
        try:
            return parse(reply)
        except ReplyError as exc:
            raise AgentFailure(
                f"{site.label}: invalid answer after one repair request: {exc}"
            ) from None

    def larger_budget(self, max_tokens: int) -> int:
        asked = self.settings.max_tokens_retry or 2 * max_tokens
        return min(128_000, max(asked, max_tokens + 1))

    def _answer(self, site: CallSite, request: ModelRequest) -> tuple[ModelReply, ModelRequest]:
        """A complete answer: refusals end the turn; a cut-off answer is asked again once with
        the larger budget, which the request keeps (for its repair request too)."""
        reply = self._send(site, request)
        if reply.stop_reason == "max_tokens":
            first = request.max_tokens
            request = request.model_copy(update={"max_tokens": self.larger_budget(first)})
            reply = self._send(site, request)
            if reply.stop_reason == "max_tokens":
                raise AgentFailure(
                    f"{site.label}: answer cut off at max_tokens twice ({first}, then "
                    f"{request.max_tokens} tokens, thinking included): raise max_tokens for "
                    f"{self.role} in agents/llm/defaults.yaml"
                )
        if reply.stop_reason == "refusal":
            raise ModelRefusal(f"{site.label}: refused by the model: {refusal_reason(reply)}")
        return reply, request

    def _send(self, site: CallSite, request: ModelRequest) -> ModelReply:
        try:
            return with_retries(
                lambda: self._attempt(site, request),
                self.retry,
                self.settings.retries,
                sleep=self.sleep,
            )
        except TransientCallError as exc:
            why = "retries spent" if exc.retry else "not retried (x-should-retry: false)"
            raise AgentFailure(f"{site.label}: model call failed, {why}: {exc}") from None
        except FatalCallError as exc:
            raise EmosimError(f"{self.role} ({request.model}): {exc}") from None

    def _attempt(self, site: CallSite, request: ModelRequest) -> ModelReply:
        site.attempt += 1
        reserved = self.gate.wait(request) if self.gate is not None else 0
        started = time.perf_counter()
        try:
            reply = self.transport.send(request, site)
        except CallError as exc:
            if self.gate is not None:
                self.gate.settle(reserved, None)
            if self._record(site, request, None, exc, started):
                self.accounting.add(site.conversation, self.role, None, None, failed=True)
            raise
        if self.gate is not None:
            self.gate.settle(reserved, reply.usage)
        # a call the cassette already held (a resumed batch run re-asking what it asked before
        # the kill) was counted when the run's accounting was loaded from the cassette
        if self._record(site, request, reply, None, started):
            self.accounting.add(
                site.conversation,
                self.role,
                reply.usage,
                self.price,
                factor=self.batch_discount if reply.batch else 1.0,
            )
        return reply

    def _record(
        self,
        site: CallSite,
        request: ModelRequest,
        reply: ModelReply | None,
        error: CallError | None,
        started: float,
    ) -> bool:
        """Write the call's cassette line; False when the cassette already held it."""
        if self.cassette is None:
            return True
        return self.cassette.record(
            site,
            self.transport.provider,
            request,
            reply=reply,
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
            replayed=self.transport.replaying,
        )
