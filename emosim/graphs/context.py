"""Per-conversation values derived once from the run context: the situation in the client's
voice, the fact base and the date figures are checked on."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

from emosim.grounding.facts import FactBase, load_fact_base, newest_fact_file
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


@functools.lru_cache(maxsize=8)
def _fact_base(root: Path) -> FactBase | None:
    path = newest_fact_file(root / "facts")
    return load_fact_base(path) if path else None


def fact_base(ctx: SimContext) -> FactBase | None:
    return _fact_base(ctx.catalog.root)


def checked_on(ctx: SimContext) -> dt.date:
    """The date figures are checked against the fact base: the run's own date (its id starts
    with it), so that a replay next year judges the same draft the same way."""
    try:
        return dt.datetime.strptime(ctx.run_id[:8], "%Y%m%d").date()
    except ValueError:
        return dt.date.today()
