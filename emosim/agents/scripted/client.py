"""The scripted client: composes each message from its persona, topic and true state.

A message is [reaction to Elena's last reply] + [a line expressing the current emotion at
its intensity, from the taxonomy] + [a personal fact not yet shared] + [a question that fits
the stage]. Everything is drawn with a seeded RNG, so wording varies across seeds and is
identical for the same seed.
"""

from __future__ import annotations

import functools
import random

from emosim.catalog import Catalog

from ..messages import ClientInput, ClientOutput
from .templates import ClientTemplates
from .text import (
    as_phrase,
    ensure_period,
    fill,
    join_lead_ins,
    lower_first,
    proper_nouns,
    rng_for,
    sentence_case,
    split_sentences,
)

VERSION = "scripted-client-2"


@functools.lru_cache(maxsize=4096)
def _sentences(line: str) -> tuple[str, ...]:
    """The sentences of a line, lower-cased; cached because every turn re-scans the same
    template pools."""
    return tuple(sentence.lower() for _, _, sentence in split_sentences(line))


class ScriptedClient:
    name = VERSION

    def __init__(self, catalog: Catalog, templates: ClientTemplates):
        self.catalog = catalog
        self.templates = templates
        self._nouns: dict[str, frozenset[str]] = {}

    def speak(self, request: ClientInput, *, seed: int) -> ClientOutput:
        rng = rng_for(seed, request.persona.id, request.exchange, "client")
        # one string of every distinct line: what a new line must not repeat. Lines are joined
        # by newlines, which no sentence contains, so no match can straddle two lines and the
        # result does not depend on their order (set order varies with PYTHONHASHSEED).
        history = "\n".join({line.text for line in request.transcript})
        persona = request.persona
        style = persona.speaking_style
        parts: list[str] = []
        first = request.exchange == 1
        last = request.exchange == request.exchanges

        if first:
            parts.append(rng.choice(style.openers).strip())
        else:
            reaction = self._reaction(request, rng, history)
            if reaction and not (style.verbosity == "terse" and rng.random() < 0.4):
                parts.append(reaction)

        # what this message already says counts too ("Thanks." must not open and close it)
        parts.append(self._emotion_line(request, rng, "\n".join([history, *parts])))

        facts_used = list(request.facts_used)
        fact_chance = {"terse": 0.45, "medium": 0.65, "verbose": 0.85}[style.verbosity]
        if first or (not last and rng.random() < fact_chance):
            fact = self._next_fact(request, rng)
            if fact is not None:
                lead = rng.choice(self.templates.fact_lead_ins).strip() if not first else ""
                statement = ensure_period(fact.statement)
                keep = self._proper_nouns(request.persona)
                parts.append(
                    f"{lead} {lower_first(statement, keep)}".strip() if lead else statement
                )
                facts_used.append(fact.id)

        said = "\n".join([history, *parts])
        if last:
            parts.append(self._pick(rng, self.templates.closings, said))
        else:
            parts.append(self._question(request, rng, said, first))

        text = join_lead_ins(parts, self._proper_nouns(persona))
        return ClientOutput(text=text, facts_used=facts_used)

    # --- parts ----------------------------------------------------------------------------

    def _proper_nouns(self, persona) -> frozenset[str]:  # noqa: ANN001
        if persona.id not in self._nouns:
            texts = [f.statement for f in persona.facts] + [
                persona.household,
                persona.life_situation,
            ]
            self._nouns[persona.id] = proper_nouns(texts) | {persona.name.split()[0]}
        return self._nouns[persona.id]

    def _reaction(self, request: ClientInput, rng: random.Random, history: str) -> str:
        reactions = self.templates.reactions
        if request.movement == "regressed":
            return self._pick(rng, reactions.regressed, history)
        if request.movement == "stalled":
            return self._pick(rng, reactions.stalled, history)
        advanced = reactions.advanced
        pool = advanced.get(request.last_advisor_strategy or "", []) + advanced.get("default", [])
        return self._pick(rng, pool, history) if pool else ""

    def _emotion_line(self, request: ClientInput, rng: random.Random, history: str) -> str:
        emotion = self.catalog.emotion(request.hidden_state.emotion)
        level = request.hidden_state.intensity_level
        line = self._pick(rng, getattr(emotion.intensities, level).examples, history)
        style = request.persona.speaking_style
        habits = style.fillers + style.tags
        if habits and rng.random() < 0.3 and not any(h.lower() in line.lower() for h in habits):
            habit = rng.choice(habits).strip().rstrip(",")
            if habit in style.tags:  # "so to speak", "is that normal?": after the line
                end = "" if habit[-1:] in "?!." else "."
                line = f"{line.rstrip().rstrip('.!')}, {habit}{end}"
            elif habit and habit[0].isalpha() and len(habit.split()) <= 3:
                line = f"{sentence_case(habit)}, {lower_first(line, self._proper_nouns(request.persona))}"
        return line

    def _next_fact(self, request: ClientInput, rng: random.Random):  # noqa: ANN202
        unused = [
            f
            for f in request.persona.facts
            if f.id not in request.facts_used and (not f.topics or request.topic in f.topics)
        ]
        if not unused:
            return None
        on_topic = [f for f in unused if request.topic in f.topics]
        return rng.choice(on_topic or unused)

    def _question(self, request: ClientInput, rng: random.Random, history: str, first: bool) -> str:
        topic = self.catalog.topics[request.topic]
        sub = next(s for s in topic.subcategories if s.id == request.subcategory)
        if first:
            return self._pick(rng, sub.client_questions or topic.client_questions, history)
        progress = request.exchange / request.exchanges
        stage = "early" if progress < 0.4 else "middle" if progress < 0.75 else "late"
        pool = list(self.templates.follow_ups[stage])
        if rng.random() < 0.35:
            pool += topic.client_questions
        terms = list(topic.key_terms) or [topic.name.lower()]
        slots = {
            "topic_phrase": topic.phrase or as_phrase(topic.name),
            "subtopic_phrase": sub.phrase or as_phrase(sub.name),
            "term": rng.choice(terms),
            "advisor_name": "Elena",
        }
        return self._pick(rng, pool, history, slots)

    @staticmethod
    def _pick(
        rng: random.Random, pool: list[str], history: str, slots: dict[str, str] | None = None
    ) -> str:
        """A line none of whose sentences is already in the conversation, when there is one.
        Case is ignored: a filler in front ("Technically, this is...") lower-cases a line."""
        said = history.lower().__contains__
        candidates = [
            line
            for line in pool
            # a line without '{' has no slot to fill
            if not any(map(said, _sentences(fill(line, slots) if slots and "{" in line else line)))
        ]
        choice = rng.choice(candidates or pool)
        return fill(choice, slots) if slots else choice
