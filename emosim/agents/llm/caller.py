"""One role's model calls: retries, one repair request, recording and accounting.

    ask(request, parse)
      send -> transient error? back off and retry (bounded) -> still failing: AgentFailure
           -> fatal error (key, bad request, unreachable): EmosimError, the run stops
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
from .settings import Price, RetrySettings, RoleSettings
from .wire import ModelReply, ModelRequest

T = TypeVar("T")


class ReplyError(ValueError):
    """A reply that is not a valid answer; the message is sent back in the repair request."""


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
    ):
        self.role = role
        self.transport = transport
        self.settings = settings
        self.retry = retry
        self.price = price
        self.accounting = accounting
        self.cassette = cassette
        self.sleep: Callable[[float], None] = _no_sleep if transport.replaying else time.sleep

    def site(self, turn: int | None) -> CallSite:
        return CallSite(self.role, current_conversation(), turn)

    def ask(self, site: CallSite, request: ModelRequest, parse: Callable[[ModelReply], T]) -> T:
        reply = self._send(site, request)
        try:
            return parse(reply)
        except ReplyError as exc:
            problem = str(exc)
        reply = self._send(site, request.with_repair(reply.text, problem))
        try:
            return parse(reply)
        except ReplyError as exc:
            raise AgentFailure(
                f"{site.label}: invalid answer after one repair request: {exc}"
            ) from None

    def _send(self, site: CallSite, request: ModelRequest) -> ModelReply:
        try:
            return with_retries(
                lambda: self._attempt(site, request),
                self.retry,
                self.settings.retries,
                sleep=self.sleep,
            )
        except TransientCallError as exc:
            raise AgentFailure(f"{site.label}: model call failed, retries spent: {exc}") from None
        except FatalCallError as exc:
            raise EmosimError(f"{self.role} ({request.model}): {exc}") from None

    def _attempt(self, site: CallSite, request: ModelRequest) -> ModelReply:
        site.attempt += 1
        started = time.perf_counter()
        try:
            reply = self.transport.send(request, site)
        except CallError as exc:
            self._record(site, request, None, exc, started)
            self.accounting.add(site.conversation, self.role, None, None, failed=True)
            raise
        self._record(site, request, reply, None, started)
        self.accounting.add(site.conversation, self.role, reply.usage, self.price)
        return reply

    def _record(
        self,
        site: CallSite,
        request: ModelRequest,
        reply: ModelReply | None,
        error: CallError | None,
        started: float,
    ) -> None:
        if self.cassette is None:
            return
        self.cassette.record(
            site,
            self.transport.provider,
            request,
            reply=reply,
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
            replayed=self.transport.replaying,
        )
