"""Per-conversation values derived once from the run context: the situation in the client's
voice, the fact base and the date figures are checked on."""

from __future__ import annotations

import datetime as dt
import functools
import re

from emosim.grounding.facts import FactBase
from emosim.grounding.figures import find_figures
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


def told_so_far(story: list[str], said: str) -> int:
    """How many of the situation's sentences the client has told, read off their words: up
    to the last sentence whose figures all appear in what they said (a model client tells
    the story in its own words, so its figures are the trace)."""
    told = 0
    for i, sentence in enumerate(story, start=1):
        figures = [f.text for f in find_figures(sentence)]
        if figures and all(f in said for f in figures):
            told = i
    return told
