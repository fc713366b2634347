"""Requests and tokens per minute per provider key, shared by every caller of that key.

Why: a provider limits each API key, not each process; with several workers (threads, or Ray
actors on several hosts) only a limiter they all ask keeps them together under the limit, so
the provider's 429s (and their retry-after waits) stay rare. The limit is set per backend in
agents/llm/defaults.yaml (`rate_limit:`), off by default.

How: GCRA, a token bucket kept as one "theoretical arrival time" per key and limit. A call
reserves its slot and the caller sleeps until then outside any lock, so the same arithmetic
(`Buckets`) serves threads in one process (`LocalLimiter`) and every worker of a Ray cluster
(one actor holding the buckets, emosim/executors/ray_executor.py): the limiter answers with a
wait in seconds, never a clock time, so hosts need not agree on the time. Tokens are not
known before the answer: a call reserves an estimate (its prompt's characters / 4 plus its
max_tokens) and settles the difference to the usage the provider reports (input, cache reads
and writes, output) after it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pydantic import Field

from emosim.schemas.common import StrictModel

from .wire import ModelRequest, Usage


class RateLimitSettings(StrictModel):
    requests_per_minute: float | None = Field(
        default=None, gt=0, description="Most model calls per minute per provider key (null: any)."
    )
    tokens_per_minute: float | None = Field(
        default=None,
        gt=0,
        description="Most tokens (input, cache reads and writes, output) per minute per "
        "provider key (null: any).",
    )
    burst_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Calls may bunch up to this many seconds' worth of the limit at once.",
    )

    @property
    def active(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None


class Buckets:
    """GCRA state per (key, dimension); the caller serializes access."""

    def __init__(self) -> None:
        self._tat: dict[tuple[str, str], float] = {}

    def reserve(self, key: str, limits: RateLimitSettings, tokens: int, now: float) -> float:
        """Seconds from `now` until a call costing one request and `tokens` may start; the
        slot is taken."""
        costs = self._costs(limits, tokens)
        start = now
        for dim, (cost, rate) in costs.items():
            tolerance = max(limits.burst_seconds * rate, cost) / rate
            tat = max(self._tat.get((key, dim), now), now)
            start = max(start, tat + cost / rate - tolerance)
        for dim, (cost, rate) in costs.items():
            self._tat[(key, dim)] = max(self._tat.get((key, dim), now), start) + cost / rate
        return start - now

    def settle(self, key: str, limits: RateLimitSettings, extra_tokens: int) -> None:
        """Charge (or give back) tokens a call used beyond (or below) what it reserved."""
        if limits.tokens_per_minute is None or not extra_tokens:
            return
        slot = (key, "tokens")
        if slot in self._tat:
            self._tat[slot] += extra_tokens / (limits.tokens_per_minute / 60)

    @staticmethod
    def _costs(limits: RateLimitSettings, tokens: int) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        if limits.requests_per_minute is not None:
            out["requests"] = (1.0, limits.requests_per_minute / 60)
        if limits.tokens_per_minute is not None:
            out["tokens"] = (float(max(tokens, 1)), limits.tokens_per_minute / 60)
        return out


class RateLimiter(Protocol):
    """Where callers reserve their calls: this process, or a cluster-wide service."""

    def reserve(self, key: str, limits: RateLimitSettings, tokens: int) -> float: ...

    def settle(self, key: str, limits: RateLimitSettings, extra_tokens: int) -> None: ...


class LocalLimiter:
    """The buckets of this process, shared by its threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.buckets = Buckets()
        self.clock = clock
        self._lock = threading.Lock()

    def reserve(self, key: str, limits: RateLimitSettings, tokens: int) -> float:
        with self._lock:
            return self.buckets.reserve(key, limits, tokens, self.clock())

    def settle(self, key: str, limits: RateLimitSettings, extra_tokens: int) -> None:
        with self._lock:
            self.buckets.settle(key, limits, extra_tokens)


_current: RateLimiter = LocalLimiter()


def use_limiter(limiter: RateLimiter) -> None:
    """Make `limiter` the one this process's model callers reserve with (a Ray worker sets the
    cluster's; agents built before keep the one they were built with)."""
    global _current
    _current = limiter


def current_limiter() -> RateLimiter:
    return _current


def key_for(provider: str, secret: str | None, where: str = "") -> str:
    """A provider key's name in the limiter: the provider and a fingerprint of the key (never
    the key itself, which would travel to a cluster-wide limiter)."""
    digest = hashlib.sha256(f"{where}\0{secret or ''}".encode()).hexdigest()[:16]
    return f"{provider}:{digest}"


def estimate_tokens(request: ModelRequest) -> int:
    """Tokens a request may cost, before its answer: ~4 characters a token, plus max_tokens."""
    chars = sum(len(b.text) for b in request.system) + sum(len(m.text) for m in request.messages)
    return chars // 4 + request.max_tokens


def used_tokens(usage: Usage | None) -> int:
    if usage is None:
        return 0
    return (
        usage.input_tokens
        + usage.cache_read_tokens
        + usage.cache_write_tokens
        + usage.output_tokens
    )


class Gate:
    """One caller's door to the limiter: wait for a slot before a call, settle tokens after."""

    def __init__(
        self,
        key: str,
        limits: RateLimitSettings,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.key = key
        self.limits = limits
        self.limiter = limiter or current_limiter()
        self.sleep = sleep

    def wait(self, request: ModelRequest) -> int:
        """Block until the call may go; returns the tokens reserved (for `settle`)."""
        tokens = estimate_tokens(request) if self.limits.tokens_per_minute else 0
        delay = self.limiter.reserve(self.key, self.limits, tokens)
        if delay > 0:
            self.sleep(delay)
        return tokens

    def settle(self, reserved: int, usage: Usage | None) -> None:
        """After the call: its real tokens replace the estimate (a failed call used none)."""
        if self.limits.tokens_per_minute:
            self.limiter.settle(self.key, self.limits, used_tokens(usage) - reserved)
