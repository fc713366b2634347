"""Usage of a run's model calls, read back from its cassette: calls, failures, tokens, cache
share, cost and latency per role."""

from __future__ import annotations

import statistics
from pathlib import Path

from pydantic import Field

from emosim.schemas.common import StrictModel

from .accounting import Totals
from .build import load_resolved
from .cassette import CASSETTE, Cassette
from .settings import price_for


class RoleUsage(StrictModel):
    role: str
    model: str
    calls: int
    failed_calls: int = Field(description="Attempts that ended in an error (retried or not).")
    repairs: int = Field(description="Repair requests sent after an invalid answer.")
    tokens_in: int
    tokens_out: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_read_share: float
    cost_usd: float | None = Field(
        description="USD; null when a model of these calls has no price in the table."
    )
    latency_p50_ms: float
    latency_p95_ms: float


class UsageReport(StrictModel):
    run: str
    conversations: int
    roles: list[RoleUsage]
    total: RoleUsage


def _row(role: str, model: str, totals: Totals, repairs: int, latencies: list[float]) -> RoleUsage:
    ordered = sorted(latencies) or [0.0]
    return RoleUsage(
        role=role,
        model=model,
        calls=totals.calls,
        failed_calls=totals.failed_calls,
        repairs=repairs,
        tokens_in=totals.tokens_in,
        tokens_out=totals.output_tokens,
        cache_read_tokens=totals.cache_read_tokens,
        cache_write_tokens=totals.cache_write_tokens,
        cache_read_share=round(totals.cache_read_share, 4),
        cost_usd=round(totals.cost_usd, 6) if totals.cost_known else None,
        latency_p50_ms=round(statistics.median(ordered), 1),
        latency_p95_ms=round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
    )


def usage_report(run_dir: Path) -> UsageReport:
    cassette = Cassette(run_dir / CASSETTE)
    resolved = load_resolved(run_dir)
    pricing = resolved.pricing if resolved else {}
    discount = resolved.batch_discount if resolved else 0.5
    totals: dict[str, Totals] = {}
    models: dict[str, str] = {}
    repairs: dict[str, int] = {}
    latencies: dict[str, list[float]] = {}
    for call in cassette.calls:
        model = str(call.request.get("model", ""))
        models[call.role] = model
        totals.setdefault(call.role, Totals()).add(
            call.reply.usage if call.reply else None,
            price_for(pricing, model),
            failed=call.error is not None,
            factor=discount if call.reply is not None and call.reply.batch else 1.0,
        )
        repairs[call.role] = repairs.get(call.role, 0) + int(
            len(call.request.get("messages", [])) > 1
        )
        latencies.setdefault(call.role, []).append(call.latency_ms)
    rows = [
        _row(role, models[role], t, repairs[role], latencies[role]) for role, t in totals.items()
    ]
    everything = Totals()
    for t in totals.values():
        everything.merge(t)
    all_latencies = [x for values in latencies.values() for x in values]
    return UsageReport(
        run=str(run_dir),
        conversations=len({c.conversation for c in cassette.calls}),
        roles=rows,
        total=_row("total", "", everything, sum(repairs.values()), all_latencies),
    )
