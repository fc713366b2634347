"""Per-conversation values derived once from the run context: the situation in the client's
voice, the fact base and the date figures are checked on."""

from __future__ import annotations

import datetime as dt
import functools
import re

from emosim.grounding.facts import FactBase
from emosim.grounding.situation import situation_sentences

from .state import SimContext

_NAME = re.compile(r"(?<![.!?] )(?<!^)\b[A-Z][a-z]+\b")


def situation_told(ctx: SimContext) -> list[str]:
    persona = ctx.persona
    return list(
        _told(ctx.scenario.situation, persona.name, persona.pronouns or "", persona.household)
    )


@functools.lru_cache(maxsize=256)
def _told(situation: str, name: str, pronouns: str, household: str) -> tuple[str, ...]:
    others = frozenset(_NAME.findall(household))
    return tuple(situation_sentences(situation, name, pronouns, others))


def fact_base(ctx: SimContext) -> FactBase | None:
    """The catalog's vetted fact base (loaded once per catalog)."""
    return ctx.catalog.facts


def checked_on(ctx: SimContext) -> dt.date:
    """The date figures are checked against the fact base: the run's own date (its id starts
    with it), so that a replay next year judges the same draft the same way."""
    try:
        return dt.datetime.strptime(ctx.run_id[:8], "%Y%m%d").date()
    except ValueError:
        return dt.date.today()
