"""The figure gate: every draft, from any backend, is held to the same rule before it is
sent: no figure without an origin. The graph applies it after the critic's own review, and
`emosim eval critic` scores the critic with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from emosim.schemas import CriticFinding, CriticVerdict
from emosim.schemas.grounding import CalculationUse, StatedFact

from .facts import FactBase
from .trace import trace_figures


def figure_findings(
    draft: str,
    facts: Sequence[StatedFact],
    numbers: Sequence[CalculationUse],
    fact_base: FactBase | None,
    on: dt.date | None,
) -> list[CriticFinding]:
    trace = trace_figures(draft, facts=facts, calculations=numbers, fact_base=fact_base, on=on)
    return [
        CriticFinding(code=p.code, message=p.detail, severity="blocker", evidence=p.figure)
        for p in trace.problems
    ]


def gated(verdict: CriticVerdict, findings: list[CriticFinding]) -> CriticVerdict:
    """The critic's verdict with the figure findings added (rejected when there are any)."""
    if not findings:
        return verdict
    return verdict.model_copy(
        update={"accepted": False, "findings": [*verdict.findings, *findings]}
    )
