"""The scripted client: tells their situation, reacts to what Elena actually said, and asks.

A message is [a reaction to Elena's last reply, by what it did: answered, brought numbers,
missed the question, used jargon, hurt] + [a feeling, in the persona's voice, at the true
intensity] + [the next part of the situation or a personal fact] + [a question, a repeated
question when the last one was missed, or a sign-off]. Feelings and reactions come from the
client's own material (agents/scripted/client_feelings.yaml, client_reactions.yaml), not from
the taxonomy lines the emotion observer reads. Everything is drawn with a seeded RNG.
"""

from __future__ import annotations

import functools
import random
import re

from emosim.catalog import Catalog

from ..messages import ClientInput, ClientOutput
from .material import ClientMaterial
from .templates import ClientTemplates, digits, expansions
from .text import (
    as_phrase,
    ensure_period,
    expand,
    fill,
    join_lead_ins,
    lower_first,
    proper_nouns,
    rng_for,
    sentence_case,
    split_sentences,
    stems,
)

VERSION = "scripted-client-5"
STORY_BY = 3  # the exchange by which the client has told their whole situation
# how often a feeling is said by name ("I'm scared about the loan") rather than told through
# the body or the client's life: people mostly name what they feel, and a reader should see it
NAMED_SHARE = 0.6
SHORT = {"terse": 0.4, "medium": 0.25, "verbose": 0.1}
# how often their own short "okay" goes before a reaction ("Alright. That helps, because..."):
# a terse writer's "okay" is the reaction, not a second one in front of it
STACKED_ACK = {"terse": 0.0, "medium": 0.15, "verbose": 0.3}
# a short writer says one thing more, not a saying of theirs and a question on top of it:
# how often an aside follows a feeling, and a question follows two things said
ASIDE = {"terse": 0.1, "medium": 0.25, "verbose": 0.35}
ASK_AFTER_TWO = {"terse": 0.25, "medium": 0.4, "verbose": 0.45}
# how often a client who leaves content says goodbye in their own words (persona sign_offs)
OWN_SIGN_OFF = 0.5
# how often a reply that heard or answered the client is taken in their own life's words
# (client_lives.yaml) rather than a line any client could say (client_reactions.yaml)
OWN_TAKE = 0.75

# what the arc says moved it -> the client's reaction category
HARM_REACTIONS = {
    "minimizing": "minimized",
    "premature_advice": "rushed",
    "wrong_timing": "rushed",
    "question_stack": "rushed",
    "judgment_blame": "judged",
    "toxic_positivity": "false_comfort",
    "false_guarantee": "false_comfort",
    "false_reassurance": "false_comfort",
    "jargon_dump": "jargon",
    "over_validation": "generic",
}
_FIGURE_ASKS = {
    "runway": [
        "[So how|How] long would {savings} actually last if {cost} goes out every month?",
        "[Be honest:|Honestly,|] is {savings} enough if the bill is {cost}?",
        "If {cost} keeps going out, how long before {savings} is gone?",
    ],
    "debt": [
        "[If I keep at it,|Realistically,] how long until the {debt} I owe is paid off?",
        "What would it take to clear {debt} [in a few years|before it eats me alive|for good]?",
    ],
}


# a line that opens with one of these reads wrong behind a hedge ("Maybe, oh, ...")
# a feeling line that answers back to what was just said: not for a first message
_BACK = re.compile(
    r"^\[?(?:that|you|okay, that|now that|phew|oh|interesting|huh|wow|wait|hang on)\b", re.I
)
# what a feeling is about once every name for it has been said in the conversation
_IT = ("all this", "this whole thing", "all of it")
_INTERJECTIONS = frozenset(
    "oh ah huh hm hmm wait okay ok alright right well wow ha ooh phew good yes yeah so".split()
)

# how a reaction takes the last reply: well (1), against it (-1) or neither (0); a message
# keeps one stance, or says "but" when the feeling under it runs the other way
STANCE = {
    "answered": 1,
    "heard": 1,
    "unanswered": -1,
    "jargon": -1,
    "minimized": -1,
    "rushed": -1,
    "judged": -1,
    "false_comfort": -1,
    "generic": -1,
    "disagree": -1,
    "hesitate": -1,
    "new_topic": 0,
}
NUMBER_STANCE = {"relief": 1, "dread": -1, "neutral": 0}
# words any reply or push-back holds: sharing one of them is not pushing back on what was said
_GENERIC = frozenset(
    stems(
        "money plan feel feeling thing make sure need want really honest honestly know think "
        "people time look good right way going get got keep start first step help lot little "
        "see say said idea sense work worth"
    )
)
# what a reply says when it suggests something the client could push back on
_SUGGESTS = re.compile(
    r"\b(?:could|might|you can|try|start|consider|suggest|option|first step|set aside|"
    r"put|move|open|keep)\b",
    re.IGNORECASE,
)

# what Elena's closing question asks for: an offer ("Would it help if we...?"), a choice of
# where to start, a check that she got it right; anything else is an open question
_OFFER = re.compile(
    r"^(?:would it help|would it be okay|would you be open|could i suggest|may i share|"
    r"can i offer|would an example|do you want to|would you like me|shall we|could i share|"
    r"would you like to (?:hear|see|try)|what if we|can we)\b",
    re.IGNORECASE,
)
_CHOICE = re.compile(
    r"^(?:which would you like|in what order|where would you like|which (?:one|piece|part))\b",
    re.IGNORECASE,
)
_CHECK = re.compile(
    r"\b(?:did i get|to recap|so far, we've|have i got|did i miss|is that right)\b", re.IGNORECASE
)

# words of thanks and relief in a reaction (said when the client is glad, not in a hard feeling)
_GLAD = re.compile(
    r"\b(?:thank|thanks|appreciat\w*|grateful|relie[fv]\w*|reassur\w*|comfort\w*|phew|"
    r"weight off|breathe|kind(?:ly|er)?|bless)\b",
    re.IGNORECASE,
)

_COSTS = re.compile(
    r"\b(?:cost|costs|quote|quoted|rent|bills?|spend|expenses|premium|care|tuition)\b", re.I
)
_MONEY = r"\$\d[\d,]*(?:\.\d+)?(?:\s*(?:a|per)\s+month)?"
_SAVED = re.compile(
    r"(?P<a>\$\d[\d,]*(?:\.\d+)?)\s+(?:saved|in\s+(?:\w+\s+){0,2}(?:savings|checking|"
    r"account|the bank))|(?:saved|savings of|set aside)\s+(?:about\s+|around\s+)?"
    r"(?P<b>\$\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def _sentences(line: str) -> tuple[str, ...]:
    return tuple(sentence.lower() for _, _, sentence in split_sentences(line))


class ScriptedClient:
    name = VERSION

    def __init__(
        self,
        catalog: Catalog,
        templates: ClientTemplates,
        material: ClientMaterial | None = None,
    ):
        self.catalog = catalog
        self.templates = templates
        self.material = material
        self._nouns: dict[str, frozenset[str]] = {}

    def speak(self, request: ClientInput, *, seed: int) -> ClientOutput:
        rng = rng_for(seed, request.persona.id, request.exchange, "client")
        history = "\n".join({line.text for line in request.transcript})
        persona = request.persona
        style = persona.speaking_style
        parts: list[str] = []
        first = request.exchange == 1
        closing = request.leaving or request.exchange == request.exchanges
        told = request.told
        story = request.situation_told
        facts_used = list(request.facts_used)

        if first:
            parts.append(rng.choice(style.openers).strip())
            take = 1 if len(story) < 2 or _has_figure(story[0]) else 2
            if request.exchanges <= 2:  # no later turn to tell the rest in
                take = len(story)
            parts += [self._telling(request, rng, s) for s in story[:take]]
            told = min(len(story), take)
            # the feeling they came with is said, not left for a reader to guess
            parts.append(self._feeling(request, rng, "\n".join([history, *parts])))
            parts.append(self._question(request, rng, "\n".join([history, *parts]), True))
            return self._out(parts, persona, facts_used, told)

        reaction, carries_question, stance = self._reaction(request, rng, history, closing)
        if reaction and not (closing and "?" in reaction):  # a last word asks nothing
            parts.append(reaction)
        else:
            stance = 0
        if closing:
            said = "\n".join([history, *parts])
            parts.append(self._sign_off(request, rng, said, against=stance < 0))
            return self._out(parts, persona, facts_used, told)

        # people write two or three things in a message, not everything at once: what they
        # must tell (the rest of their situation) first, then a feeling or a fact
        room = {
            "terse": rng.choice([1, 1, 2]),
            "medium": rng.choice([1, 2, 2]),
            "verbose": rng.choice([2, 2, 3]),
        }[style.verbosity]
        room -= len(parts)  # the reaction takes one place
        # some messages are short, as people's are: once the story is told, a reaction and how
        # they feel (or their answer to her) can be the whole message
        short = told >= len(story) and rng.random() < SHORT[style.verbosity]
        if told < len(story):
            # the whole situation is told by the third message (a client who leaves early
            # has said their figures), a sentence or two at a time
            left_turns = max(1, min(request.exchanges - 1, STORY_BY) - request.exchange + 1)
            take = max(1, -(-(len(story) - told) // left_turns))
            parts += [self._telling(request, rng, s) for s in story[told : told + take]]
            told += take
            room -= 1
        # Elena asked the client something: they answer it before anything else of theirs
        # (yes to an offer, where to start, or an open question told through their life)
        if not carries_question and self.material is not None:
            answer = self._answer_her(
                request, rng, stance, "\n".join([history, *parts]), facts_used
            )
            if answer:
                parts.append(answer)
                room -= 1
        said = "\n".join([history, *parts])
        chance = self._feeling_chance(request)
        valence = self.catalog.emotion(request.hidden_state.emotion).valence
        # how they feel is what a message is about: it takes a place before a fact does, and
        # a strong feeling is said even when the message is full
        strong = request.hidden_state.intensity_level != "low"
        # one stance a message: a reply pushed back on is not followed by a glad feeling
        # ("That sounds risky. What a relief."); a reply taken well with a hard feeling under
        # it says so with a "but" ("That helps. Still, I haven't slept in days.")
        if (room > 0 or strong) and not (stance < 0 and valence > 0) and rng.random() < chance:
            feeling = self._feeling(request, rng, said)
            contrast = self._contrasts(request)
            shared = list(self.material.reactions.contrast_lead_ins) if self.material else []
            # one "but" a message: an answer that already turned ("Still, ...") is not turned again
            turned = any(_opens_with(p, contrast + shared) for p in parts)
            if stance > 0 and valence < 0 and contrast and not turned:
                parts.append(expand(rng.choice(contrast), rng).strip())
            parts.append(feeling)
            room -= 1
        if room > 0 and told >= len(story) and not short:
            fact_chance = {"terse": 0.3, "medium": 0.45, "verbose": 0.65}[style.verbosity]
            if rng.random() < fact_chance:
                fact = self._next_fact(request, rng)
                if fact is not None:
                    statement = ensure_period(self._telling(request, rng, fact.statement))
                    if rng.random() < 0.5:  # "For context," now and then, not every time
                        lead = rng.choice(self.templates.fact_lead_ins).strip()
                        keep = self._proper_nouns(persona)
                        statement = f"{lead} {lower_first(statement, keep)}"
                    parts.append(statement)
                    facts_used.append(fact.id)
        # not every message asks something: some only react, tell or answer her
        # (a message that already says how they feel and more needs no question to go on)
        said_parts = sum(len(p.split()) > 2 for p in parts)  # lead-ins ("Still,") not counted
        ask = 1.0 if said_parts < 2 else ASK_AFTER_TWO[style.verbosity] if said_parts == 2 else 0.2
        ask = 0.0 if short and said_parts else ask
        if not carries_question and rng.random() < ask:
            said = "\n".join([history, *parts])
            parts.append(self._question(request, rng, said, False))
        return self._out(parts, persona, facts_used, told)

    def _out(self, parts: list[str], persona, facts_used: list[str], told: int) -> ClientOutput:  # noqa: ANN001
        text = join_lead_ins([p for p in parts if p], self._proper_nouns(persona))
        return ClientOutput(text=text, facts_used=facts_used, told=told)

    # --- parts ----------------------------------------------------------------------------

    def _telling(self, request: ClientInput, rng: random.Random, sentence: str) -> str:
        """One way this persona tells a sentence of their situation (the figures as written)."""
        tellings = self.material.tellings_of(request.persona.id, sentence) if self.material else []
        return expand(rng.choice(tellings), rng) if tellings else sentence

    def _proper_nouns(self, persona) -> frozenset[str]:  # noqa: ANN001
        if persona.id not in self._nouns:
            texts = [f.statement for f in persona.facts] + [
                persona.household,
                persona.life_situation,
            ]
            self._nouns[persona.id] = proper_nouns(texts) | {persona.name.split()[0]}
        return self._nouns[persona.id]

    def _feeling_chance(self, request: ClientInput) -> float:
        level = request.hidden_state.intensity_level
        return {"high": 1.0, "medium": 0.9, "low": 0.7}[level]

    def _category(self, request: ClientInput) -> str:
        why = request.why or "helped"
        if why.startswith("harmful:"):
            return HARM_REACTIONS.get(why.split(":", 1)[1], "rushed")
        return {
            "numbers": "numbers_landed",
            "answered": "answered",
            "heard": "heard",
            "helped": "heard",
            "unanswered": "unanswered",
            "jargon": "jargon",
            "generic": "generic",
        }.get(why, "generic")

    def _reaction(
        self, request: ClientInput, rng: random.Random, history: str, closing: bool = False
    ) -> tuple[str, bool, int]:
        """The reaction to the last reply, whether it already asks a question (a repeated
        one), and its stance toward the reply (STANCE)."""
        material = self.material
        category = self._category(request)
        if material is None:  # older template sets: reactions by movement only
            reactions = self.templates.reactions
            if request.movement == "regressed":
                return self._pick(rng, reactions.regressed, history), False, -1
            if request.movement == "stalled":
                return self._pick(rng, reactions.stalled, history), False, -1
            advanced = reactions.advanced
            pool = advanced.get(request.last_advisor_strategy or "", []) + advanced.get(
                "default", []
            )
            return (self._pick(rng, pool, history) if pool else ""), False, 1
        slots = self._reaction_slots(request, rng)
        stance = STANCE.get(category, 0)
        if category == "numbers_landed":
            pools = material.reactions.numbers_landed
            tone = self._number_tone(request)
            pool = list(getattr(pools, tone) or pools.neutral)
            stance = NUMBER_STANCE[tone]
        elif category == "disagree":
            pool = material.disagreement(request.persona.money_script)
        else:
            pool = list(getattr(material.reactions, category))
        if category == "unanswered" and not slots.get("question"):
            pool = list(material.reactions.generic)
            category = "generic"
        if (
            category in {"heard", "answered"}
            and not closing  # a last word does not open an argument
            and request.hidden_state.intensity_level != "high"
            and self.catalog.emotion(request.hidden_state.emotion).valence <= 0
            and rng.random() < 0.12
        ):  # a client can push back on a suggestion that helped, about what it suggested
            script = self._pushback(request)
            if script:
                pool, category, stance = script, "disagree", -1
        pool = [p for p in pool if set(re.findall(r"\{([a-z_]+)\}", p)) <= set(slots)]
        # a client still in a hard feeling takes a good answer in plainly: no thanks or relief
        # in the same breath as the worry or shame they go on to say
        heavy = (
            self.catalog.emotion(request.hidden_state.emotion).valence < 0
            and request.hidden_state.intensity_level != "low"
        )
        if heavy and stance >= 0:
            plain = [p for p in pool if not _GLAD.search(p)]
            pool = plain or pool
        if not pool:
            return "", False, 0
        style = request.persona.speaking_style
        said = history.lower()
        # an answer that landed, taken in their own words ("That I can do between shifts,
        # ma'am."): a longer acknowledgement of their own, once per conversation
        own_take = [
            a
            for a in getattr(style, "acknowledgements", []) or []
            if len(a.split()) >= 5 and a.lower() not in said and not (heavy and _GLAD.search(a))
        ]
        if own_take and category in {"heard", "answered"} and rng.random() < 0.25:
            return expand(rng.choice(own_take), rng).strip(), False, stance
        # how this person takes being heard or answered, through their own life, more often
        # than a line any client could say (client_lives.yaml `heard`, `answered`)
        elsewhere = self._other_topics_terms(request.topic)  # no premium in an inheritance talk
        # "you put your finger on it" answers a reply that understood them, not a suggestion
        # that merely helped
        own_category = category if category == "answered" or request.why == "heard" else ""
        takes = [
            t
            for t in material.takes(request.persona.id, own_category)
            if not any(o in said for o in _openings(t))
            and not (heavy and _GLAD.search(t))
            and not elsewhere.search(t)
        ]
        if takes and rng.random() < OWN_TAKE:
            return self._pick(rng, takes, history), False, stance
        line = self._pick(rng, pool, history, slots)
        keep_whole = {"terse": 0.0, "medium": 0.3, "verbose": 0.8}[
            request.persona.speaking_style.verbosity
        ] * (0.5 if heavy else 1.0)  # the feeling after it is the point of the message
        if category != "unanswered" and rng.random() >= keep_whole:
            line = _first_clause(line)  # short writers stop at the point
        voice = self._voiced(request, rng, line)
        # their own short way of saying okay, when it says more than "okay"
        own = [a for a in getattr(style, "acknowledgements", []) or [] if 3 <= len(a.split()) <= 5]
        own = [a for a in own if a.lower() not in history.lower()]  # said once is enough
        own = [a for a in own if not (heavy and _GLAD.search(a))]
        if (
            own
            and category in {"heard", "answered", "numbers_landed"}
            and stance >= 0  # "That'll work." does not go before a number that hurts
            and rng.random() < STACKED_ACK[style.verbosity]
        ):
            # how this person says "okay", before what they make of it
            voice = f"{ensure_period(expand(rng.choice(own), rng).strip())} {voice}"
        return voice, category == "unanswered", stance

    def _answer_her(
        self,
        request: ClientInput,
        rng: random.Random,
        stance: int,
        history: str,
        facts_used: list[str],
    ) -> str:
        """The client's answer to the question Elena's last reply ended on, or "" when it
        asked nothing. An offer gets a yes (a "not yet" after a reply that hurt), a choice a
        pick, a check a confirmation, an open question something of the client's own life."""
        reply = next((t.text for t in reversed(request.transcript) if t.speaker == "advisor"), "")
        asked = next((q for _, _, q in reversed(split_sentences(reply)) if q.endswith("?")), None)
        if asked is None:
            return ""
        reactions = self.material.reactions
        if _OFFER.search(asked):
            pool = reactions.answer_decline if stance < 0 else reactions.answer_offer
            return self._pick(rng, list(pool), history) if pool else ""
        if _CHOICE.search(asked) and reactions.answer_choice:
            options = _options(asked)  # "...first, the urgent piece or the long view?"
            thing = rng.choice(options) if options else self._thing(request, rng)
            return self._pick(rng, list(reactions.answer_choice), history, {"thing": thing})
        if _CHECK.search(asked) and reactions.answer_confirm:
            return self._pick(rng, list(reactions.answer_confirm), history)
        # an open question: answered from the client's own life, or a fact not yet told
        valence = self.catalog.emotion(request.hidden_state.emotion).valence
        low = history.lower()
        own = [
            o
            for o in self.material.life_lines(request.persona.id, valence)
            if not any(map(low.__contains__, _sentences(o)))
            and not any(w in low for w in _openings(o))
        ]
        if own and not (stance < 0 and valence > 0):  # one stance a message, as below
            answer = self._voiced(request, rng, self._pick(rng, own, history))
            contrast = self._contrasts(request)
            if stance > 0 and valence < 0 and contrast:
                lead = expand(rng.choice(contrast), rng).strip()
                return join_lead_ins([lead, answer], self._proper_nouns(request.persona))
        else:
            fact = self._next_fact(request, rng)
            if fact is None:
                return ""
            answer = ensure_period(self._telling(request, rng, fact.statement))
            facts_used.append(fact.id)
        if reactions.answer_open and rng.random() < 0.5:
            lead = expand(rng.choice(reactions.answer_open), rng).strip()
            return (
                f"{lead} {answer}"
                if lead[-1:] in ".?"
                else f"{lead} {lower_first(answer, self._proper_nouns(request.persona))}"
            )
        return answer

    def _contrasts(self, request: ClientInput) -> list[str]:
        """How this person turns to a harder feeling ("Still, ..."): their own words when the
        persona file has them, else the shared lead-ins."""
        own = list(getattr(request.persona.speaking_style, "contrasts", []) or [])
        if own or self.material is None:
            return own
        return list(self.material.reactions.contrast_lead_ins)

    def _pushback(self, request: ClientInput) -> list[str]:
        """Lines of the persona's money script that push back on what Elena's last reply
        suggested: each shares a content word with it ("investing" with "investing"). None
        when the reply suggested nothing the script has a view on."""
        reply = next((t.text for t in reversed(request.transcript) if t.speaker == "advisor"), "")
        if not _SUGGESTS.search(reply):
            return []
        said = stems(reply) - _GENERIC
        return [
            line
            for line in self.material.disagreement(request.persona.money_script)
            if stems(" ".join(expansions(line))) & said
        ]

    def _reaction_slots(self, request: ClientInput, rng: random.Random) -> dict[str, str]:
        """What a reaction may name: only what the reply really said (a term it left
        unexplained, one it explained, a figure it brought)."""
        reading = request.reading
        slots: dict[str, str] = {
            "topic_phrase": self._topic_phrase(request),
            "thing": self._thing(request, rng),
        }
        if reading is not None:
            if reading.question:
                # the question itself, not the words that led into it last time, and in
                # another of its ways when it has some (the same answer finds it)
                question = reading.question.rsplit(": ", 1)[-1]
                # "That's very brochure-ish, so can we make it about me?" -> the asking part
                question = sentence_case(re.split(r",\s+so\s+(?=can|could|what|how)", question)[-1])
                slots["question"] = self._asked_otherwise(request, rng, question)
            if reading.unexplained_terms:
                slots["term"] = reading.unexplained_terms[0]
            if reading.explained_terms:
                slots["gist"] = reading.explained_terms[0]
            if reading.new_figures:
                # what came out of the sum ("would take about $373 a month"), not the term she
                # put into it ("over 36 months")
                reply = next(
                    (t.text for t in reversed(request.transcript) if t.speaker == "advisor"), ""
                )
                worked = [f for f in reading.new_figures if f"about {f}" in reply]
                slots["figure"] = (worked or reading.new_figures)[0]
        return slots

    def _asked_otherwise(self, request: ClientInput, rng: random.Random, question: str) -> str:
        topic = self.catalog.topics[request.topic]
        sub = next(s for s in topic.subcategories if s.id == request.subcategory)
        slots = {
            "topic_phrase": topic.phrase or as_phrase(topic.name),
            "subtopic_phrase": sub.phrase or as_phrase(sub.name),
            "advisor_name": self.catalog.advisor.name.split()[0],
        }
        for line in (q for qs in self.templates.follow_ups.values() for q in qs):
            ways = [fill(w, slots) for w in _ways(line)]
            if question.lower() in (w.lower() for w in ways):
                others = [w for w in ways if w.lower() != question.lower()]
                return rng.choice(others) if others else question
        return question

    def _number_tone(self, request: ClientInput) -> str:
        family = self.catalog.emotion(request.hidden_state.emotion).family
        if family in {"fear", "sadness", "shame"} and request.hidden_state.intensity >= 0.6:
            return "dread"
        if request.movement == "advanced":
            return "relief"
        return "neutral"

    def _voiced(self, request: ClientInput, rng: random.Random, line: str) -> str:
        """The persona's own habits on a line: a hedge in front, an aside after."""
        style = request.persona.speaking_style
        tags = {t.lower() for t in style.tags}  # a tag closes a sentence, never opens one
        hedges = [
            h
            for h in [*(getattr(style, "hedges", []) or []), *style.fillers]
            if h.strip().rstrip(",").lower() not in tags
        ]
        opens = line.split(" ", 1)[0].rstrip(",.!").lower()
        if hedges and opens not in _INTERJECTIONS and rng.random() < 0.2:
            hedge = expand(rng.choice(hedges), rng).strip().rstrip(",")
            if re.fullmatch(r"[A-Za-z][A-Za-z' ]*", hedge) and len(hedge.split()) <= 4:
                keep = self._proper_nouns(request.persona)
                line = f"{sentence_case(hedge)}, {lower_first(line, keep)}"
        return line

    def _feeling(self, request: ClientInput, rng: random.Random, history: str) -> str:
        level = request.hidden_state.intensity_level
        emotion_id = request.hidden_state.emotion
        lines = self.material.feeling_lines(emotion_id, level) if self.material else []
        valence = self.catalog.emotion(emotion_id).valence
        own = self.material.life_lines(request.persona.id, valence) if self.material else []
        # a life line said once, in any of its ways, is not said again
        said = history.lower()
        own = [
            o
            for o in own
            if not any(map(said.__contains__, _sentences(o)))
            and not any(w in said for w in _openings(o))
        ]
        # a line about another topic's business ("that premium notice" in a talk about an
        # inheritance) belongs to that conversation, not this one
        elsewhere = self._other_topics_terms(request.topic)
        own = [o for o in own if not elsewhere.search(o)]
        named = self.material.named_lines(emotion_id, level) if self.material else []
        # a named line said once ("I keep worrying that ...") is not said again about another
        # thing in the same conversation
        low = history.lower()
        named = [n for n in named if not any(o in low for o in _openings(n))] or named
        if request.exchange == 1:  # nothing said yet to answer back to ("That gives me hope")
            named = [n for n in named if not _BACK.match(n)]
        if named and rng.random() < NAMED_SHARE:  # the feeling called what it is
            slots = {"thing": self._thing(request, rng, history)}
            line = self._pick(rng, named, history, slots)
            if request.persona.speaking_style.verbosity == "terse":
                line = _first_clause(line)  # short writers stop at the point
            # "I suppose, I'm furious" reads wrong: only a mild feeling is hedged
            return self._voiced(request, rng, line) if level == "low" else line
        if own and rng.random() < 0.5:  # half the time, the feeling told through their life
            return self._voiced(request, rng, self._pick(rng, own, history))
        if not lines:  # no client material for it: the taxonomy's lines
            lines = getattr(self.catalog.emotion(emotion_id).intensities, level).examples
        if request.exchange == 1:
            lines = [n for n in lines if not _BACK.match(n)] or lines
        line = self._pick(rng, lines, history, {"thing": self._thing(request, rng, history)})
        style = request.persona.speaking_style
        # an aside holding one of the persona's closing tags mid-sentence would open with it
        low = history.lower()
        asides = [
            a
            for a in getattr(style, "asides", []) or []
            if not any(t.lower().rstrip("?!.") in a.lower() for t in style.tags)
            # a saying is said once in a conversation
            and not any(w.lower().rstrip(".!") in low for w in expansions(a))
        ]
        if asides and rng.random() < ASIDE[style.verbosity]:
            aside = ensure_period(expand(rng.choice(asides), rng).strip())
            line = f"{ensure_period(line)} {sentence_case(aside)}"
        elif style.tags and rng.random() < 0.1:
            # a tag question would read as a question the reply must answer
            tags = [t for t in style.tags if "?" not in t] or [""]
            tag = rng.choice(tags).strip().rstrip(",")
            if tag and tag.lower() not in line.lower():
                end = "" if tag[-1:] in "?!." else "."
                line = f"{line.rstrip().rstrip('.!')}, {tag}{end}"
        return self._voiced(request, rng, line)

    def _thing(self, request: ClientInput, rng: random.Random, history: str = "") -> str:
        """What a line is about: the sub-topic or the topic while the conversation has not
        said them yet ("the choice of where to keep emergency money" said twice reads like a
        form), else "all this". Never a term of the topic picked at random: "I've hurt the
        people closest to me with the index fund thing" names something nobody mentioned."""
        topic = self.catalog.topics[request.topic]
        sub = next(s for s in topic.subcategories if s.id == request.subcategory)
        phrases = [sub.phrase or as_phrase(sub.name), topic.phrase or as_phrase(topic.name)]
        if not history:
            return rng.choice(phrases)
        low = history.lower()
        fresh = [p for p in phrases if p.lower().removeprefix("the ") not in low]
        if fresh:
            return rng.choice(fresh)
        # once said, it is what this person calls it ("this annuity business"), else "all this"
        own = self.material.calls_it(request.persona.id) if self.material else []
        return rng.choice(own) if own and rng.random() < 0.7 else rng.choice(_IT)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one client per catalog, a few topics
    def _other_topics_terms(self, topic_id: str) -> re.Pattern[str]:
        """Key terms of every other topic that are not also this topic's, as one pattern."""
        own = {t.lower() for t in self.catalog.topics[topic_id].key_terms}
        others = {
            t.lower()
            for tid, topic in self.catalog.topics.items()
            if tid != topic_id
            for t in topic.key_terms
            if not (t.islower() and t.isalpha() and len(t) <= 4)  # "will", "bond": plain words
        } - own
        if not others:
            return re.compile(r"(?!x)x")
        alternatives = "|".join(re.escape(t) for t in sorted(others, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})s?(?!\w)", re.IGNORECASE)

    def _topic_phrase(self, request: ClientInput) -> str:
        topic = self.catalog.topics[request.topic]
        return topic.phrase or as_phrase(topic.name)

    def _term(self, request: ClientInput, rng: random.Random) -> str:
        topic = self.catalog.topics[request.topic]
        terms = list(topic.key_terms) or [topic.name.lower()]
        return rng.choice(terms)

    def _sign_off(
        self, request: ClientInput, rng: random.Random, history: str, against: bool = False
    ) -> str:
        """The last word, in the stance of the reaction before it: a client who pushes back
        or is left with a hard number does not also say how much lighter they feel."""
        material = self.material
        style = request.persona.speaking_style
        unresolved = request.leaving or (request.movement != "advanced") or against
        own = list(getattr(style, "sign_offs", []) or [])
        if material is not None:
            if request.leaving:
                pool = list(material.reactions.leave)
            elif unresolved:
                pool = list(material.reactions.sign_off_unresolved)
            else:
                # their own goodbye more often than one anyone could say
                fresh = [o for o in own if o.lower() not in history.lower()]
                mine = len(fresh) >= 2 and rng.random() < OWN_SIGN_OFF
                pool = fresh if mine else list(material.reactions.sign_off) + own
        else:
            pool = self.templates.closings
        return self._pick(rng, pool, history, {"thing": self._thing(request, rng)})

    def _next_fact(self, request: ClientInput, rng: random.Random):  # noqa: ANN202
        story = {_plain(s) for s in request.situation_told}  # told there already
        # a fact whose figures the client has all said already is the same news told twice
        said = " ".join(t.text for t in request.transcript if t.speaker == "client")
        said += " " + " ".join(request.situation_told[: request.told])
        told_figures = set(digits(said))
        unused = [
            f
            for f in request.persona.facts
            if f.id not in request.facts_used
            and (not f.topics or request.topic in f.topics)
            and _plain(f.statement) not in story
            and not (digits(f.statement) and set(digits(f.statement)) <= told_figures)
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
        figured = self._figure_question(request, rng, history)
        if figured and rng.random() < 0.6:
            return figured
        progress = request.exchange / request.exchanges
        stage = "early" if progress < 0.4 else "middle" if progress < 0.75 else "late"
        pool = list(self.templates.follow_ups[stage])
        # often a question of their own topic, while one is left unasked
        own = [q for q in [*sub.client_questions, *topic.client_questions] if q not in history]
        if own and stage != "late" and rng.random() < 0.3:
            pool = own
        slots = {
            "topic_phrase": topic.phrase or as_phrase(topic.name),
            "subtopic_phrase": sub.phrase or as_phrase(sub.name),
            "term": self._term(request, rng),
            "advisor_name": self.catalog.advisor.name.split()[0],
        }
        # a question asked once, in any of its ways, is not asked again
        low = history.lower()
        fresh = [q for q in pool if not any(fill(w, slots).lower() in low for w in _ways(q))]
        return self._pick(rng, fresh or pool, history, slots)

    def _figure_question(self, request: ClientInput, rng: random.Random, history: str) -> str:
        """A question about the client's own figures, as they said them."""
        said = " ".join(t.text for t in request.transcript if t.speaker == "client")
        said += " " + " ".join(request.situation_told[: request.told])
        # what goes out each month: costs, not the payment on a debt
        monthly = [
            m
            for _, _, sentence in split_sentences(said)
            if _COSTS.search(sentence)
            for m in re.findall(_MONEY, sentence)
            if "month" in m
        ]
        # what they have put by: an amount said as savings ("$140 in savings", "about $300
        # saved"), not any amount ("from $190 to $285 a month" is no savings to last)
        amounts = [m.group("a") or m.group("b") for m in _SAVED.finditer(said)]
        asked = " ".join(
            s
            for t in request.transcript
            if t.speaker == "client"
            for _, _, s in split_sentences(t.text)
            if s.endswith("?")
        )
        # a figure Elena has already worked with ("clearing $9,500 ... takes about $373 a
        # month") is not asked about as if she had not
        asked += " " + " ".join(t.text for t in request.transcript if t.speaker == "advisor")
        asks: list[tuple[str, dict[str, str]]] = []
        if amounts and monthly:
            slots = {"savings": max(amounts, key=_amount), "cost": max(monthly, key=_amount)}
            if slots["savings"] not in asked:  # asked once is enough
                asks += [(q, slots) for q in _FIGURE_ASKS["runway"]]
        owed = [
            m
            for _, _, sentence in split_sentences(said)
            if re.search(r"\bowe\b|\bdebt\b|\bloans?\b|\bbalance\b", sentence, re.IGNORECASE)
            for m in re.findall(_MONEY, sentence)
            if "month" not in m
        ]
        if owed and owed[0] not in asked:
            asks += [(q, {"debt": owed[0]}) for q in _FIGURE_ASKS["debt"]]
        if not asks:
            return ""
        question, slots = rng.choice(asks)
        text = sentence_case(fill(expand(question, rng), slots))
        return "" if text.lower() in history.lower() else text

    @staticmethod
    def _pick(
        rng: random.Random, pool: list[str], history: str, slots: dict[str, str] | None = None
    ) -> str:
        """A line none of whose sentences is already in the conversation, when there is one.
        Inline alternatives are resolved and slots filled."""
        said = history.lower().__contains__
        candidates = [
            line
            for line in pool
            if "[" in line
            or not any(map(said, _sentences(fill(line, slots) if slots and "{" in line else line)))
        ]
        # a line with alternatives is drawn again (a few times) when the words it came out
        # as were said already in this conversation
        for _ in range(6):
            choice = expand(rng.choice(candidates or pool), rng)
            choice = fill(choice, slots) if slots else choice
            if not any(map(said, _sentences(choice))):
                break
        return choice


_AFTERTHOUGHT = re.compile(
    r",\s+(?:and|but|because|since|which|so|though|as|even|now|honestly|really|to be honest)\b"
)


def _options(question: str) -> list[str]:
    """The choices a question offers ("Where would you like to start: the numbers or the
    big picture?" -> the numbers, the big picture), lower case; none when it offers none."""
    tail = re.split(r"[:,]\s+", question.rstrip("?"))[-1]
    if " or " not in tail:
        return []
    options = [o.strip() for o in tail.split(" or ")]
    if len(options) != 2 or not all(1 <= len(o.split()) <= 8 for o in options):
        return []
    # a name keeps its capitals ("Social Security for spouses", "IRA"): only a lone capital
    # that opened the option is lowered ("The numbers" -> "the numbers")
    return [o if o[:2].isupper() or _named(o) else o[:1].lower() + o[1:] for o in options]


def _named(option: str) -> bool:
    return any(w[:1].isupper() for w in option.split()[1:])


@functools.lru_cache(maxsize=2048)
def _openings(line: str) -> frozenset[str]:
    """The first four words of every way a line can come out (up to a slot), lower case: how
    a line already said in a conversation is recognised under another filling."""
    heads = set()
    for text in expansions(line):
        head = text.split("{", 1)[0].lower().split()[:4]
        if len(head) >= 3:
            heads.add(" ".join(head))
    return frozenset(heads)


def _opens_with(part: str, lead_ins: list[str]) -> bool:
    """Whether a message part opens with one of the lead-ins ("Still, ...")."""
    low = part.lower()
    return any(low.startswith(lead.lower().rstrip(",")) for lead in lead_ins)


def _first_clause(line: str) -> str:
    """A reaction without its afterthought: "That helps, because I'd been going around in
    circles" -> "That helps." (kept whole when the point itself is short)."""
    for match in _AFTERTHOUGHT.finditer(line):
        head = line[: match.start()]
        if len(head.split()) >= 4 and "?" not in line[match.start() :]:
            return ensure_period(head)
    return line


@functools.lru_cache(maxsize=1024)
def _ways(template: str) -> tuple[str, ...]:
    """The ways a question line can be asked: each option of its leading [a|b|c] group (a
    line that is one question asked several ways), or the line itself."""
    whole = re.fullmatch(r"\[([^\[\]]*)\](\?)", template)
    if whole is None:
        return (template,)
    return tuple(option + whole.group(2) for option in whole.group(1).split("|"))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9$%. ]+", " ", text.lower()).split()).rstrip(".")


def _has_figure(text: str) -> bool:
    return bool(re.search(r"\d", text))


def _amount(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text.split()[0]) or 0)
