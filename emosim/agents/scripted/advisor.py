"""The scripted Elena: picks strategies for what the observers report and composes a reply
sentence by sentence from her templates, reflecting the client's own words and facts.

A configurable share of first drafts deliberately commits an anti-pattern, so that the critic
and the redraft loop run and preference negatives exist.
"""

from __future__ import annotations

import random
import re

from emosim.catalog import Catalog

from ..messages import AdvisorInput, AdvisorOutput, PlannedSentence
from .templates import AdvisorSentenceTemplate, AdvisorTemplates, slots_in
from .text import as_phrase, fill, rng_for, sentence_case, split_sentences

VERSION = "scripted-advisor-1"

STAGE_STRATEGIES = {
    "early": [
        "reflection_of_feelings",
        "empathic_validation",
        "open_question",
        "normalizing",
        "paraphrase",
        "collaborative_agenda",
    ],
    "middle": [
        "education",
        "reframing",
        "permission_based_suggestion",
        "honest_reassurance",
        "affirmation",
        "emphasizing_autonomy",
        "normalizing",
    ],
    "late": [
        "summarizing",
        "collaborative_agenda",
        "celebrating_progress",
        "emphasizing_autonomy",
        "affirmation",
        "permission_based_suggestion",
    ],
}
VALIDATING = ["empathic_validation", "reflection_of_feelings", "normalizing"]
RETROSPECTIVE = {"summarizing", "celebrating_progress"}
INVITING = ["open_question", "collaborative_agenda", "permission_based_suggestion"]
FUNCTION_ORDER = [
    "acknowledge_emotion",
    "validate",
    "reflect_content",
    "normalize",
    "affirm_strength",
    "reframe_perspective",
    "explain_concept",
    "set_expectation",
    "offer_option",
    "state_boundary",
    "summarize",
    "check_understanding",
    "ask_open_question",
    "ask_closed_question",
    "invite_next_step",
]
QUESTION_FUNCTIONS = {"ask_open_question", "ask_closed_question", "check_understanding"}
_WORDS = re.compile(r"[\w'’%$.-]*\w")
_CLAUSE = re.compile(r"[,;:—]")
_LEAD_FILLERS = {"like", "honestly", "and", "but", "so", "um", "well", "okay", "ok", "yeah", "just"}


class ScriptedAdvisor:
    name = VERSION

    def __init__(
        self, catalog: Catalog, templates: AdvisorTemplates, anti_pattern_rate: float = 0.15
    ):
        self.catalog = catalog
        self.templates = templates
        self.anti_pattern_rate = anti_pattern_rate

    def draft(self, request: AdvisorInput, *, seed: int) -> AdvisorOutput:
        rng = rng_for(seed, request.exchange, request.attempt, "advisor")
        slots = self._slots(request, rng)
        if request.attempt == 1 and rng.random() < self.anti_pattern_rate:
            return self._anti_pattern_draft(request, rng, slots)
        strategies = self._plan(request, rng)
        sentences = self._compose(request, rng, slots, strategies)
        text = " ".join(s.text for s in sentences)
        from emosim.schemas import StrategyUse

        return AdvisorOutput(
            text=text,
            sentences=sentences,
            strategies=StrategyUse(
                primary=strategies[0], combination=strategies[1:], source=self.name
            ),
            learning_objective=self._objective(request, strategies, slots),
        )

    # --- planning -------------------------------------------------------------------------

    def _plan(self, request: AdvisorInput, rng: random.Random) -> list[str]:
        cat = self.catalog
        observed = request.observed
        emotion = cat.emotions[observed.primary]
        harmful = set(emotion.harmful_strategies)
        adaptation = next((a for a in cat.advisor.adaptations if a.family == emotion.family), None)
        lead = set(adaptation.lead_strategies) if adaptation else set()
        progress = request.exchange / request.exchanges
        stage = "early" if progress <= 0.34 else "middle" if progress < 0.8 else "late"
        last = request.exchange == request.exchanges
        available = set(self.templates.strategies)
        helpful = [s for s in emotion.helpful_strategies if s in available]
        feedback = {f.code for f in request.critic_feedback}
        distressed = observed.intensity_level == "high" and emotion.valence < 0

        if distressed or "missing_validation" in feedback:
            candidates = [s for s in VALIDATING if s in helpful] or VALIDATING[:1]
        else:
            preferred = [s for s in helpful if s in lead or s in STAGE_STRATEGIES[stage]]
            candidates = preferred or helpful or STAGE_STRATEGIES[stage]
        previous = request.previous_strategies[-1:] if request.previous_strategies else []
        if request.exchange == 1:  # nothing to recap or celebrate yet
            candidates = [s for s in candidates if s not in RETROSPECTIVE] or candidates
        fresh = [s for s in candidates if s not in previous] or candidates
        primary = rng.choice(fresh)

        chosen = [primary]
        pool = [
            s
            for s in STAGE_STRATEGIES[stage] + helpful
            if s in available
            and s not in harmful
            and not (request.exchange == 1 and s in RETROSPECTIVE)
            and not (s == "limited_self_disclosure" and s in request.previous_strategies)
        ]
        rng.shuffle(pool)
        want = 1 if "too_long" in feedback else rng.choice([1, 2, 2])
        for s in pool:
            if len(chosen) > want:
                break
            if s not in chosen:
                chosen.append(s)
        if (
            self._asked_term(request)
            and "education" not in chosen
            and "education" not in harmful
            and "education" in available
        ):
            chosen.insert(1, "education")
        if last and not {"summarizing", "celebrating_progress"} & set(chosen):
            chosen.append("summarizing" if rng.random() < 0.6 else "celebrating_progress")
        elif not last and not set(INVITING) & set(chosen):
            chosen.append(rng.choice([s for s in INVITING if s not in harmful] or INVITING))
        return chosen

    # --- composing ------------------------------------------------------------------------

    def _slots(self, request: AdvisorInput, rng: random.Random) -> dict[str, str]:
        cat = self.catalog
        topic = cat.topics[request.topic]
        sub = next(s for s in topic.subcategories if s.id == request.subcategory)
        asked = self._asked_term(request)
        advisor_said = " ".join(
            t.text for t in request.transcript if t.speaker == "advisor"
        ).lower()
        terms = [t for t in topic.key_terms if t.lower() not in advisor_said] or list(
            topic.key_terms
        )
        term = asked or (rng.choice(terms) if terms else "")
        slots = {
            "name": request.client_name.split()[0],
            "emotion_adj": cat.emotions[request.observed.primary].adjective,
            "topic_phrase": topic.phrase or as_phrase(topic.name),
            "subtopic_phrase": sub.phrase or as_phrase(sub.name),
            "term": term,
            "term_gloss": topic.key_terms.get(term, "").rstrip("."),
        }
        quote = self._quote(request)
        if quote:
            slots["client_quote"] = quote
        if request.shared_facts:
            slots["fact"] = request.shared_facts[-1].rstrip(".")
        return slots

    def _asked_term(self, request: AdvisorInput) -> str | None:
        """A key term of the topic that the client just named: Elena explains that one."""
        client_lines = [line.text for line in request.transcript if line.speaker == "client"]
        if not client_lines:
            return None
        last = client_lines[-1].lower()
        topic = self.catalog.topics[request.topic]
        named = [t for t in topic.key_terms if re.search(rf"\b{re.escape(t.lower())}\b", last)]
        return max(named, key=len) if named else None

    @staticmethod
    def _quote(request: AdvisorInput) -> str | None:
        """A few of the client's own words around the strongest emotion cue."""
        client_lines = [line.text for line in request.transcript if line.speaker == "client"]
        if not client_lines:
            return None
        text = client_lines[-1]
        cues = [c for c in request.observed.cues if c.signals == request.observed.primary]
        if not cues:
            return None
        cue = cues[0]
        for start, end, sentence in split_sentences(text):
            if not start <= cue.start < end:
                continue
            # the clause holding the cue, without discourse fillers at its start
            offset = 0
            for clause in _CLAUSE.split(sentence):
                if start + offset <= cue.start < start + offset + len(clause) + 1:
                    break
                offset += len(clause) + 1
            words = _WORDS.findall(clause)
            while words and words[0].lower() in _LEAD_FILLERS:
                words = words[1:]
            if not 3 <= len(words) <= 12:
                return None  # a fragment cut from a long clause misquotes the client
            quote = " ".join(words)
            return quote if quote.startswith(("I ", "I'")) else quote[:1].lower() + quote[1:]
        return None

    @staticmethod
    def _usable(template: str, filled: frozenset[str], slots: dict[str, str], said: str) -> bool:
        if not slots_in(template) <= filled:
            return False
        return fill(template, slots).lower() not in said

    def _compose(
        self,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        strategies: list[str],
    ) -> list[PlannedSentence]:
        said = " ".join(line.text for line in request.transcript).lower()
        feedback = {f.code for f in request.critic_feedback}
        filled = frozenset(k for k, v in slots.items() if v)
        asked = self._asked_term(request) is not None
        picked: list[tuple[AdvisorSentenceTemplate, str]] = []
        for sid in strategies:
            options = [
                t
                for t in self.templates.strategies[sid]
                if self._usable(t.text, filled, slots, said)
            ]
            if "unexplained_jargon" in feedback or (sid == "education" and asked):
                # a term the client asked about gets its plain meaning, not just its name
                options = [t for t in options if "{term}" not in t.text or "{term_gloss}" in t.text]
            used_slots = {slot for t, _ in picked for slot in slots_in(t.text)} & {
                "term",
                "term_gloss",
            }
            options = [t for t in options if not (slots_in(t.text) & used_slots)]
            if not options:
                continue
            template = rng.choice(options)
            picked.append((template, sid))
            if sid == strategies[0] and len(strategies) == 2 and rng.random() < 0.5:
                more = [
                    t for t in options if t is not template and t.function not in QUESTION_FUNCTIONS
                ]
                if more:
                    picked.append((rng.choice(more), sid))
        # one question at most, and at the end; the rest in a natural order
        questions = [p for p in picked if p[0].function in QUESTION_FUNCTIONS]
        others = [p for p in picked if p[0].function not in QUESTION_FUNCTIONS]
        others.sort(
            key=lambda p: (
                FUNCTION_ORDER.index(p[0].function) if p[0].function in FUNCTION_ORDER else 99
            )
        )
        ordered = others + questions[:1]
        limit = self.catalog.advisor.max_sentences - 1
        if len(ordered) > limit:
            ordered = ordered[: limit - 1] + ordered[-1:]
        sentences = []
        for template, sid in ordered:
            text = sentence_case(fill(template.text, slots))
            sentences.append(PlannedSentence(text=text, function=template.function, strategy=sid))
        return sentences

    def _anti_pattern_draft(
        self, request: AdvisorInput, rng: random.Random, slots: dict[str, str]
    ) -> AdvisorOutput:
        from emosim.schemas import StrategyUse

        emotion = self.catalog.emotions[request.observed.primary]
        available = [a for a in self.templates.anti_patterns if a in self.catalog.anti_patterns]
        harmful = [a for a in emotion.harmful_strategies if a in available]
        anti = rng.choice(harmful if harmful and rng.random() < 0.7 else available)
        pool = [t for t in self.templates.anti_patterns[anti] if slots_in(t) <= set(slots)]
        lines = rng.sample(pool, k=min(2, len(pool)))
        sentences = [
            PlannedSentence(text=sentence_case(fill(t, slots)), function="offer_option")
            for t in lines
        ]
        invite = [
            t
            for t in self.templates.strategies.get("open_question", [])
            if slots_in(t.text) <= set(slots)
        ]
        if invite:
            t = rng.choice(invite)
            sentences.append(
                PlannedSentence(
                    text=sentence_case(fill(t.text, slots)),
                    function=t.function,
                    strategy="open_question",
                )
            )
        return AdvisorOutput(
            text=" ".join(s.text for s in sentences),
            sentences=sentences,
            strategies=StrategyUse(
                primary="open_question" if invite else "education", combination=[], source=self.name
            ),
            learning_objective=f"Negative example: {self.catalog.anti_patterns[anti].name.lower()}.",
            anti_pattern=anti,
        )

    def _objective(
        self, request: AdvisorInput, strategies: list[str], slots: dict[str, str]
    ) -> str:
        cat = self.catalog
        observed = request.observed
        emotion = cat.emotions[observed.primary]
        names = [cat.strategies[s].name.lower() for s in strategies]
        lead = cat.strategies[strategies[0]]
        evidence = f' in "{slots["client_quote"]}"' if "client_quote" in slots else ""
        then = f", then {', '.join(names[1:])}" if len(names) > 1 else ""
        why = lead.definition.split(".")[0].rstrip()
        why = why[:1].lower() + why[1:]
        return (
            f"Recognize {observed.intensity_level}-intensity {emotion.name.lower()}{evidence} and "
            f"lead with {names[0]} ({why}){then}, in Elena's education-first, no-judgment voice."
        )
