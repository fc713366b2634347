"""Token and cost totals per conversation and per role, for records and reports."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from .settings import Price
from .wire import Usage


@dataclass
class Totals:
    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    """Answered calls of a model the price table does not list: their cost is unknown."""

    @property
    def tokens_in(self) -> int:
        """Every prompt token: uncached, read from the cache and written to it."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def cache_read_share(self) -> float:
        return self.cache_read_tokens / self.tokens_in if self.tokens_in else 0.0

    @property
    def cost_known(self) -> bool:
        return self.unpriced_calls == 0

    def add(
        self, usage: Usage | None, price: Price | None, failed: bool = False, factor: float = 1.0
    ) -> None:
        """`factor` scales the price (0.5 for the Message Batches API)."""
        self.calls += 1
        self.failed_calls += int(failed)
        if usage is None:
            return
        if price is None:
            self.unpriced_calls += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        if price is not None:
            self.cost_usd += (
                (
                    usage.input_tokens * price.input
                    + usage.output_tokens * price.output
                    + usage.cache_write_tokens * price.cache_write
                    + usage.cache_read_tokens * price.cache_read
                )
                * factor
                / 1_000_000
            )

    def merge(self, other: Totals) -> None:
        for name in (
            "calls",
            "failed_calls",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost_usd",
            "unpriced_calls",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def scores(self) -> dict[str, float]:
        """The `quality.scores` entries a record carries. A cost is given only when every
        answered call was priced: an unknown model's calls give `unpriced_calls`, never $0."""
        out = {
            "model_calls": float(self.calls),
            "tokens_in": float(self.tokens_in),
            "tokens_out": float(self.output_tokens),
            "cache_read_tokens": float(self.cache_read_tokens),
            "cache_write_tokens": float(self.cache_write_tokens),
        }
        if self.cost_known:
            out["cost_usd"] = round(self.cost_usd, 6)
        else:
            out["unpriced_calls"] = float(self.unpriced_calls)
        return out


@dataclass
class Accounting:
    """Thread-safe totals keyed by conversation and by role."""

    by_conversation: dict[str | None, Totals] = field(default_factory=dict)
    by_role: dict[str, Totals] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        conversation: str | None,
        role: str,
        usage: Usage | None,
        price: Price | None,
        failed: bool = False,
        factor: float = 1.0,
    ) -> None:
        with self._lock:
            self.by_conversation.setdefault(conversation, Totals()).add(
                usage, price, failed, factor
            )
            self.by_role.setdefault(role, Totals()).add(usage, price, failed, factor)

    def conversation(self, conversation: str) -> Totals:
        with self._lock:
            return self.by_conversation.get(conversation, Totals())

    def replace(self, conversation: str, totals: Totals) -> None:
        """Set one conversation's totals (a worker resuming a conversation another process
        began counts its calls from the cassette, not from its own memory)."""
        with self._lock:
            self.by_conversation[conversation] = totals

    def scores(self, conversation: str) -> dict[str, float]:
        """Token and cost scores of one conversation; empty when no model was called."""
        totals = self.conversation(conversation)
        return totals.scores() if totals.calls else {}

    def total(self) -> Totals:
        out = Totals()
        with self._lock:
            for totals in self.by_role.values():
                out.merge(totals)
        return out


def load_recorded(
    accounting: Accounting,
    cassette: Path,
    pricing: dict[str, Price],
    discount: float,
    conversation: str | None = None,
) -> int:
    """Add the calls a run's cassette already holds (a resumed run's work before the kill), so
    that a resumed conversation's record counts all its calls; with `conversation`, only that
    conversation's. Returns the calls added."""
    from .cassette import Cassette
    from .settings import price_for

    calls = Cassette(cassette).calls
    if conversation is not None:
        calls = [c for c in calls if c.conversation == conversation]
    for call in calls:
        reply = call.reply
        accounting.add(
            call.conversation,
            call.role,
            reply.usage if reply else None,
            price_for(pricing, str(call.request.get("model", ""))) if reply else None,
            failed=call.error is not None,
            factor=discount if reply is not None and reply.batch else 1.0,
        )
    return len(calls)
