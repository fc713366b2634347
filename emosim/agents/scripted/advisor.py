"""The scripted Elena: picks strategies for what the observers report and composes a reply
sentence by sentence from her templates, reflecting the client's own words and facts.

A configurable share of first drafts deliberately commits an anti-pattern, so that the critic
and the redraft loop run and preference negatives exist.
"""

from __future__ import annotations

import functools
import math
import random
import re
from dataclasses import dataclass

from emosim.catalog import Catalog
from emosim.grounding.figures import find_figures, to_second_person
from emosim.grounding.observer import is_check_back
from emosim.schemas.facts import Fact
from emosim.schemas.grounding import StatedFact
from emosim.schemas.taxonomy import Topic

from ..messages import AdvisorInput, AdvisorOutput
from ..reading import unsettled
from .limits import LIMITS_FILE, limits_sentences, load_limits
from .negatives import NegativeWriter
from .retrieval import content_words, index_for
from .templates import AdvisorSentenceTemplate, AdvisorTemplates, AnswerTemplate, slots_in
from .text import (
    as_phrase,
    expand,
    fill,
    rng_for,
    sentence_case,
    split_sentences,
    stems,
    term_pattern,
)

VERSION = "scripted-advisor-4"
# what leads into a calculation from the client's own figures
_CALC_LEADS = (
    "[Putting your numbers together|Running the numbers you gave me|Just doing the math on "
    "what you told me|Working from your own figures|If I put your numbers side by side]"
)
_FACT_LEADS = "[|For what it's worth: |Here's the hard number: |One fact that helps here: |As the rules stand this year: ]"
# "your estranged father died and left you $62,000": the death is said before the money
_A_DEATH = re.compile(
    r"\byour (?:estranged |late |dear |ex-)?(father|mother|dad|mom|husband|wife|partner|son|"
    r"daughter|brother|sister|grandmother|grandfather|aunt|uncle|friend)\b[^.]{0,40}?"
    r"\b(?:died|passed|passed away|death)\b",
    re.IGNORECASE,
)
_THEY = {
    **dict.fromkeys("father dad husband son brother grandfather uncle".split(), "He"),
    **dict.fromkeys("mother mom wife daughter sister grandmother aunt".split(), "She"),
}
# content words at most in a question that needs the rest of its message to be understood
_BARE_QUESTION = 2
_REFLECT_LEADS = (
    "[So|Okay, so|Right, so|Let me make sure I have it:|If I'm following,|So, as things stand,]"
)

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
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_FUNCTION_RANK = {f: i for i, f in enumerate(FUNCTION_ORDER)}
_TERM_SLOTS = frozenset({"term", "term_gloss"})


@dataclass(frozen=True)
class _Template:
    """A sentence template with what every draft asks of it, computed once."""

    source: AdvisorSentenceTemplate
    slots: frozenset[str]
    term_slots: frozenset[str]  # the slots that name or explain the term
    bare_term: bool  # names the term without its plain meaning
    question: bool
    rank: int  # position in FUNCTION_ORDER
    # longest literal part, lower-cased: when the conversation lacks it, it also lacks the
    # filled sentence, so the costly fill-and-search can be skipped (see `_usable`)
    probe: str | None

    @classmethod
    def of(cls, source: AdvisorSentenceTemplate) -> _Template:
        text = source.text
        parts = _PLACEHOLDER.split(text)
        # only exact when every brace belongs to a slot and lower() of the part cannot
        # depend on its neighbours (ASCII)
        usable = [p for p in parts if p.isascii() and "{" not in p and "}" not in p]
        exact = len(usable) == len(parts)
        slots = slots_in(text)
        return cls(
            source=source,
            slots=slots,
            term_slots=slots & _TERM_SLOTS,
            bare_term="{term}" in text and "{term_gloss}" not in text,
            # an offer can be put as a question too ("Would it help if we...?")
            question=source.function in QUESTION_FUNCTIONS or text.rstrip().endswith("?"),
            rank=_FUNCTION_RANK.get(source.function, 99),
            probe=max(usable, key=len).lower() if exact and any(usable) else None,
        )


def _said(fact: str, advisor_said: str) -> bool:
    """Whether Elena has said the fact back already: its words, or every figure of it."""
    if fact.rstrip(".").lower() in advisor_said:
        return True
    figures = find_figures(fact)
    return bool(figures) and all(f.text.lower() in advisor_said for f in figures)


# "I want to know which bills should come first.": a question asked without a question mark
_INDIRECT = re.compile(
    r"\b(?:(?:want|wants|need|needs|would like|'d like|’d like|trying|try) to "
    r"(?:know|understand|figure out|work out|find out|learn|see)"
    r"|(?:I'm|I am|I’m) (?:wondering|not sure|unsure)(?: about)?|I (?:keep )?wonder(?:ing)?"
    r"|I (?:don't|do not|don’t) (?:know|understand|get)|I can(?:'t|not|’t) tell)\s+"
    r"(?P<asked>(?:whether|if|how|what|which|when|why|where|who)\b[^.!?]{6,})",
    re.IGNORECASE,
)


# a question asking what a term means ("What's an expense ratio?", "what does APR mean",
# "I keep hearing about index funds, what are they?")
_DEFINING = re.compile(
    r"\bwhat(?:'s|’s|s| is| are| does| do)\b|\bmean(?:s|ing)?\b|\bexplain\b|\bdefin"
    r"|\bheard? (?:of|about)\b|\bhearing about\b",
    re.IGNORECASE,
)


def _times_asked(request: AdvisorInput, question: str) -> int:
    """How many client turns asked `question` (as first put) without a reply taking it up:
    a client asking again repeats it inside a longer sentence ("...so once more: <it>")."""
    return sum(1 for q in request.open_questions if not q.answered and question in q.text)


def _last_question(text: str | None, said_before: str | None = None) -> str | None:
    """The last sentence of `text` that asks something: with a question mark, else put as a
    wish to know ("...want to know which bills come first" -> "Which bills come first?").
    Her own figure said back ("Wait, 36 months?") is not a question."""
    if text is None:
        return None
    sentences = [s for _, _, s in split_sentences(text)]
    asked = next(
        (s for s in reversed(sentences) if s.endswith("?") and not is_check_back(s, said_before)),
        None,
    )
    if asked is not None:
        return asked
    for sentence in reversed(sentences):
        m = _INDIRECT.search(sentence)
        if m:
            words = m.group("asked").strip().rstrip(",;: ")
            return f"{words[:1].upper()}{words[1:]}?"
    return None


@dataclass(frozen=True)
class _Answer:
    """Elena's answers to one client question, under one strategy."""

    strategy: str
    replies: tuple[_Template, ...]

    @classmethod
    def of(cls, source: AnswerTemplate) -> _Answer:
        return cls(source.strategy, tuple(_Template.of(r) for r in source.replies))


def _question_pattern(question: str) -> re.Pattern[str]:
    """A question template as a pattern: its {slots} match any words."""
    words = ".+?".join(re.escape(part) for part in _PLACEHOLDER.split(question))
    return re.compile(words, re.IGNORECASE)


# Words too common in clients' questions to tie a question to one term ("How do people
# keep...", "What are my options..."); the topic's own name words are added per topic.
_VAGUE = frozenset(
    stems(
        "people keep option options plan money month work cover goes happen look decide "
        "actual actually realistic pay make need help start worth right best smart normal "
        "difference usually policy account"
    )
)


def whole_words(term: str) -> re.Pattern[str]:
    """Where a text names the term (text.term_pattern: "will" the document, not the modal)."""
    return term_pattern(term)


@dataclass(frozen=True)
class _TopicTerms:
    """A topic's key terms with their lower-cased forms, whole-word patterns, and the
    content words of each term's name and plain gloss."""

    terms: tuple[str, ...]
    lowered: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    names: tuple[frozenset[str], ...]
    glosses: tuple[frozenset[str], ...]
    vague: frozenset[str]

    @classmethod
    def of(cls, topic: Topic) -> _TopicTerms:
        key_terms = topic.key_terms
        lowered = tuple(t.lower() for t in key_terms)
        patterns = tuple(whole_words(t) for t in lowered)
        names = tuple(frozenset(stems(t)) for t in key_terms)
        glosses = tuple(
            frozenset(stems(g)) - n for g, n in zip(key_terms.values(), names, strict=True)
        )
        vague = _VAGUE | stems(f"{topic.name} {topic.phrase or ''}")
        return cls(tuple(key_terms), lowered, patterns, names, glosses, vague)

    def about(self, question: str, skip: str, ranked: tuple[int, ...] | None = None) -> str | None:
        """The term a question is most about (`ranked(question)`, passed in when known), but
        not one whose name is in `skip` (explained already)."""
        ranked = self.ranked(question) if ranked is None else ranked
        return next((self.terms[i] for i in ranked if self.lowered[i] not in skip), None)

    def ranked(self, question: str) -> tuple[int, ...]:
        """The terms a question may be about (indices), most first: a word of the term's name
        counts two, a word of its gloss one, and it takes two. Ties keep the terms' order."""
        words = stems(question) - self.vague
        scores = [
            # a term half named ("inherited property" for "inherited IRA") needs its gloss
            # too; "assisted living" names "assisted living facility"; gloss words alone
            # ("make this call" in "...sometimes called alimony") name no term
            2 * len(words & name) + len(words & gloss)
            if words & name and (3 * len(words & name) >= 2 * len(name) or len(words & gloss) >= 2)
            else 0
            for name, gloss in zip(self.names, self.glosses, strict=True)
        ]
        return tuple(sorted((i for i, s in enumerate(scores) if s > 1), key=lambda i: -scores[i]))


# a lead-in before the clause's own subject ("For context, I have ...", "Oh, and my ...")
_LEAD_IN = re.compile(r"^(?:(?:[\w'’]+\s+){0,4}[\w'’]+[,:]\s*)+(?:and\s+|but\s+)?")
# talk before what is told ("okay so I send..."): not said back
_FILLER = re.compile(
    r"^(?:(?:okay|ok|so|well|um|uh|anyway|honestly|basically|look|listen|like)\b,?\s+)+",
    re.IGNORECASE,
)
# keywords any question may hold: they do not make a question about one fact
_GENERIC_KEYS = frozenset({"how long", "how much", "how many", "when", "can i", "should i"})
_LOWER_STARTS = frozenset(
    "you you're you've you'll you'd your the a an it it's this that there these those "
    "some most every each one two when whenever if since because after before about around "
    "roughly nearly almost over under last next once our we we're we've".split()
)
_SAYING_BACK = frozenset({"paraphrase"})  # strategies that say the client's words back
_CLIENT_SLOTS = frozenset({"fact", "client_quote"})  # slots holding what the client said
_SAYING_BACK_TRIES = 6  # expansions tried for one that holds the client's words
_FACT_COVERS = 0.45  # the least share of what a question asks that a vetted fact it gets holds
_FEELING_FIRST = {"acknowledge_emotion", "validate", "normalize"}
MAX_STATEMENTS = 3  # plus one question: Elena's replies stay short (30-55 words)
WORD_BUDGET = 40


def _trimmed(sentences: list[dict]) -> list[dict[str, str]]:
    """At most MAX_STATEMENTS statements and one question, the question last. Sentences
    marked `_keep` (the answer, the asked term, the client's own figures) go last of all;
    the first sentence (how Elena meets the feeling) next; support sentences first."""
    questions = [s for s in sentences if s["text"].rstrip().endswith("?")]
    statements = [s for s in sentences if not s["text"].rstrip().endswith("?")]
    while len(statements) > MAX_STATEMENTS:
        drop = next(
            (
                i
                for i, s in enumerate(statements)
                if i > 0 and not s.get("_keep") and not s.get("_lead")
            ),
            len(statements) - 1,
        )
        statements.pop(drop)

    def words() -> int:
        return sum(len(s["text"].split()) for s in statements + questions[:1])

    while words() > WORD_BUDGET:
        drop = next(
            (
                i
                for i, s in enumerate(statements)
                if i > 0 and not s.get("_keep") and not s.get("_lead")
            ),
            None,
        )
        if drop is None:
            break
        statements.pop(drop)
    lead_asks = any(q.get("_lead") for q in questions[:1])  # a candidate's given approach
    if words() > WORD_BUDGET + 10 and len(statements) >= 2 and not lead_asks:
        questions = []  # a full answer can stand without a question after it
    kept = statements + questions[:1]
    return [{k: v for k, v in s.items() if k not in ("_keep", "_lead", "_answer")} for s in kept]


def _last_client_index(request: AdvisorInput) -> int:
    """Ledger index of the client's newest turn (the transcript holds every turn so far)."""
    return len(request.transcript) - 1


def _lower_first_word(text: str) -> str:
    """A summary continued after a lead-in: its first word lower-cased unless it is a
    figure, a name or an acronym."""
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and not first.isupper() and first not in {"I"}:
        return text[:1].lower() + text[1:]
    return text


_TELLING = (
    "cost",
    "debt",
    "tax_due",
    "savings",
    "windfall",
    "income",
    "payment",
    "loss",
    "gain",
    "amount",
    "age",
    "rate",
    "duration",
)


def _in_question(text: str, fact: StatedFact) -> bool:
    return any(
        start <= fact.start < end and sentence.endswith("?")
        for start, end, sentence in split_sentences(text)
    )


def _most_telling(facts: list[StatedFact]) -> StatedFact:
    return min(facts, key=lambda f: _TELLING.index(f.kind))


# an answer that leans on the question ("Usually not, since...", "It often comes up...")
_LEANS = re.compile(
    r"^(?:yes|no|usually|not|often|it|it's|generally|rarely|sometimes|probably|mostly)\b",
    re.IGNORECASE,
)
_TO_THE_QUESTION = "[As for your question,|On your question,|To your question,]"


def _to_the_question(text: str, rng: random.Random) -> str:
    """An answer that leans on the question, said after the client's own facts were said
    back ("He left you $62,000. Usually not, since..."), points back to the question."""
    if not _LEANS.match(text):
        return text
    return f"{expand(_TO_THE_QUESTION, rng)} {text[:1].lower()}{text[1:]}"


def _after_definition(sentences: list[dict], fact: dict, term: str, gloss: str) -> None:
    """A fact or calculation said before the plain meaning of the term the client asked
    about goes after it: the definition answers the question, the fact backs it up."""
    low, probe = term.lower(), gloss[:24].lower()
    at = next(
        (
            i
            for i, x in enumerate(sentences)
            if x is not fact and low in str(x["text"]).lower() and probe in str(x["text"]).lower()
        ),
        None,
    )
    if at is None or sentences.index(fact) > at:
        return
    sentences.remove(fact)
    sentences.insert(at, fact)  # the definition moved up one: the fact is right after it


def _fact_words(fact: Fact) -> frozenset[str]:
    return stems(f"{fact.statement} {' '.join(fact.keywords)}")


def with_sympathy(clause: str) -> str | None:
    """A told fact that holds a death, met with sympathy before its figures, not with
    "So, as things stand, your father died and left you $62,000"."""
    death = _A_DEATH.search(clause)
    if not death:
        return None
    who = death.group(1).lower()
    rest = clause[death.end() :].strip()
    told = sentence_case(clause)
    if rest.startswith("and ") and len(rest.split()) > 2:  # "... died and left you $62,000"
        told = f"{_THEY.get(who, 'They')} {rest.removeprefix('and ')}"
    return f"I'm sorry about your {who}. {told}."


class ScriptedAdvisor:
    name = VERSION

    def __init__(
        self,
        catalog: Catalog,
        templates: AdvisorTemplates,
        anti_pattern_rate: float = 0.15,
        negatives: NegativeWriter | None = None,
    ):
        self.catalog = catalog
        self.templates = templates
        self.anti_pattern_rate = anti_pattern_rate
        self.negatives = negatives
        self._index = index_for(templates.answers, catalog)
        # Elena's own compliance lines and forbidden patterns: a vetted fact is stated only
        # in words she would say
        self._rules = [
            re.compile(p, re.IGNORECASE)
            for b in catalog.advisor.compliance_boundaries
            for p in b.patterns
        ] + [re.compile(p.pattern, re.IGNORECASE) for p in catalog.advisor.forbidden_patterns]
        # templates and catalog are read-only configuration: derive per-call lookups once
        self._available = frozenset(templates.strategies)
        self._options = {
            sid: tuple(_Template.of(t) for t in items)
            for sid, items in templates.strategies.items()
        }
        self._terms: dict[str, _TopicTerms] = {}
        # each vetted fact's words, how many facts have each word, how many facts (lazily)
        self._fact_words: tuple[dict[str, frozenset[str]], dict[str, int], int] | None = None
        limits = catalog.file(LIMITS_FILE)
        self._limits = load_limits(limits) if limits.is_file() else None
        # every topic's key terms with their glosses (the first topic's gloss of a term wins)
        self._glossary: dict[str, str] = {}
        for t in catalog.topics.values():
            for term, gloss in t.key_terms.items():
                self._glossary.setdefault(term, gloss)
        self._glossary_patterns = tuple(
            (t, t.lower(), whole_words(t.lower())) for t in self._glossary
        )
        # clients ask the same template questions again and again: rank the terms once each
        self._ranked = functools.lru_cache(maxsize=1024)(self._rank_terms)
        # answers to literal questions are looked up by text, the few with slots by pattern
        self._answer_by_text = {
            a.question.lower(): _Answer.of(a) for a in templates.answers if not slots_in(a.question)
        }
        self._answer_patterns = tuple(
            (_question_pattern(a.question), _Answer.of(a))
            for a in templates.answers
            if slots_in(a.question)
        )

    def draft(self, request: AdvisorInput, *, seed: int) -> AdvisorOutput:
        rng = rng_for(seed, request.exchange, request.attempt, "advisor")
        last_client = next(
            (line.text for line in reversed(request.transcript) if line.speaker == "client"), None
        )
        hers = " ".join(line.text for line in request.transcript if line.speaker == "advisor")
        question = _last_question(last_client, hers or None)
        if question is not None:  # asked again: the question as first put
            again = next(
                (
                    q.text
                    for q in reversed(request.open_questions)
                    if not q.answered and q.text != question and q.text in question
                ),
                None,
            )
            question = again or question
        advisor_said = " ".join(t.text for t in request.transcript if t.speaker == "advisor")
        advisor_said = advisor_said.lower()
        asked = self._asked_term(request.topic, last_client, question, advisor_said)
        slots = self._slots(request, rng, asked, last_client, advisor_said)
        if request.client_closing:
            return self._closing(request, rng, slots, last_client)
        negative = request.attempt == 1 and rng.random() < self.anti_pattern_rate
        # a question about a named term gets the term explained, not a near-miss answer
        answer = self._answer(question, request.topic, None if asked else last_client)
        # a near-miss answer gives way to the term, when the question is about the term: it
        # names it or asks what something means; a term only mentioned beside another
        # question ("...the compound growth thing. What questions should I be asking?")
        # leaves the question its answer
        about_term = (
            asked is not None
            and question is not None
            and (asked.lower() in question.lower() or bool(_DEFINING.search(question)))
        )
        if about_term and answer is not None and answer not in self._literal_answers(question):
            answer = None
        if (
            answer is None
            and asked is None
            and question is not None
            and self._limits is not None
            and _times_asked(request, question) >= 2
        ):
            # asked again and still no answer in the bank: say plainly what she cannot tell
            # yet, what she can, and the next step, not one more open question
            said = " ".join(line.text for line in request.transcript).lower()
            sentences = limits_sentences(self._limits, rng, question, slots, said)
            strategies = [str(x["strategy"]) for x in sentences]
        else:
            strategies = self._plan(request, rng, asked, answer)
            sentences = self._compose(request, rng, slots, strategies, asked, answer)
            grounded = self._grounded(request, rng, last_client, question, advisor_said)
            if grounded is not None:
                at = 1 if sentences and sentences[0]["function"] in _FEELING_FIRST else 0
                answered = [i for i, x in enumerate(sentences) if x.get("_answer")]
                if grounded["function"] == "explain_concept" and answered:
                    # a calculation or a vetted fact backs the answer up: after it, so the
                    # answer ("It often comes up in midlife...") follows the question it
                    # answers, not "$1,140 more over a year"
                    at = answered[-1] + 1
                sentences.insert(at, grounded)
                after = sentences[at + 1] if at + 1 < len(sentences) else None
                if grounded["function"] == "reflect_content" and after and after.get("_answer"):
                    after["text"] = _to_the_question(after["text"], rng)
            if about_term and asked is not None:
                self._define(request, rng, slots, asked, sentences)
                if grounded is not None and grounded["function"] == "explain_concept":
                    _after_definition(sentences, grounded, asked, slots.get("term_gloss", ""))
        sentences = _trimmed(sentences)
        # the plan as sent: the strategies of the sentences kept, the planned lead first
        said = [x["strategy"] for x in sentences if x.get("strategy")]
        strategies = [s for s in strategies if s in said] + [
            s for s in dict.fromkeys(said) if s not in strategies
        ] or strategies
        if negative:
            if self.negatives is not None:
                return self.negatives.draft(request, rng, slots, sentences)
            return self._anti_pattern_draft(request, rng, slots)
        return AdvisorOutput.model_validate(
            {
                "text": " ".join(s["text"] for s in sentences),
                "sentences": sentences,
                "strategies": {
                    "primary": strategies[0],
                    "combination": strategies[1:],
                    "source": self.name,
                },
                "learning_objective": self._objective(request, strategies, slots),
            }
        )

    def _define(
        self,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        term: str,
        sentences: list[dict],
    ) -> None:
        """The term the client asked about, said with its plain meaning, when no sentence of
        the reply does ("What's an expense ratio, and what counts as high?" answered only
        with what counts as high): its gloss goes before the reply's question."""
        gloss = slots.get("term_gloss", "")
        low = term.lower()
        if not gloss or any(
            low in str(x["text"]).lower() and gloss[:24].lower() in str(x["text"]).lower()
            for x in sentences
        ):
            return
        said = " ".join(line.text for line in request.transcript).lower()
        options = [
            t
            for t in self._usable(self._options.get("education", ()), slots, said)
            if "term_gloss" in t.slots and not t.question
        ]
        if not options:
            return
        t = rng.choice(options)
        at = next(
            (i for i, x in enumerate(sentences) if str(x["text"]).rstrip().endswith("?")),
            len(sentences),
        )
        sentences.insert(
            at,
            {
                "text": sentence_case(fill(expand(t.source.text, rng), slots)),
                "function": t.source.function,
                "strategy": "education",
                "_keep": True,
            },
        )

    # --- planning -------------------------------------------------------------------------

    def _plan(
        self,
        request: AdvisorInput,
        rng: random.Random,
        asked: str | None,
        answer: _Answer | None,
    ) -> list[str]:
        cat = self.catalog
        observed = request.observed
        emotion = cat.emotions[observed.primary]
        harmful = set(emotion.harmful_strategies)
        adaptation = next((a for a in cat.advisor.adaptations if a.family == emotion.family), None)
        lead = set(adaptation.lead_strategies) if adaptation else set()
        progress = request.exchange / request.exchanges
        stage = "early" if progress <= 0.34 else "middle" if progress < 0.8 else "late"
        last = request.exchange == request.exchanges
        available = self._available
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
        if request.lead_strategy in available:  # a candidate reply: its approach is given
            primary = request.lead_strategy

        chosen = [primary]
        given = primary == request.lead_strategy and primary not in VALIDATING
        if given and (distressed or "missing_validation" in feedback):  # feeling still met
            chosen.append(next((s for s in VALIDATING if s in helpful), VALIDATING[0]))
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
        if answer is not None:  # the answer takes the place of one supporting strategy
            want -= 1
        for s in pool:
            if len(chosen) > want:
                break
            if s not in chosen:
                chosen.append(s)
        if (
            asked
            and "education" not in chosen
            and "education" not in harmful
            and "education" in available
        ):
            chosen.insert(1, "education")
        if answer and answer.strategy not in chosen and answer.strategy not in harmful:
            chosen.insert(1, answer.strategy)  # the client's question is taken up early
        if last and not {"summarizing", "celebrating_progress"} & set(chosen):
            chosen.append("summarizing" if rng.random() < 0.6 else "celebrating_progress")
        elif not last and not set(INVITING) & set(chosen):
            chosen.append(rng.choice([s for s in INVITING if s not in harmful] or INVITING))
        return chosen

    # --- composing ------------------------------------------------------------------------

    def _slots(
        self,
        request: AdvisorInput,
        rng: random.Random,
        asked: str | None,
        last_client: str | None,
        advisor_said: str,
    ) -> dict[str, str]:
        cat = self.catalog
        topic = cat.topics[request.topic]
        sub = next(s for s in topic.subcategories if s.id == request.subcategory)
        known = self._topic_terms(request.topic)
        terms = [
            t for t, low in zip(known.terms, known.lowered, strict=True) if low not in advisor_said
        ] or list(known.terms)
        term = asked or (rng.choice(terms) if terms else "")
        slots = {
            "name": request.client_name.split()[0],
            "emotion_adj": cat.emotions[request.observed.primary].adjective,
            "topic_phrase": topic.phrase or as_phrase(topic.name),
            "subtopic_phrase": sub.phrase or as_phrase(sub.name),
            "term": term,
            "term_gloss": (topic.key_terms.get(term) or self._glossary.get(term, "")).rstrip("."),
        }
        quote = self._quote(request, last_client)
        if quote:
            slots["client_quote"] = quote
        # the newest fact of the situation she has not said back yet: said once, a fact
        # leading every later sentence ("Since your premium is going up...") is an echo
        fact = next(
            (f.rstrip(".") for f in reversed(request.shared_facts) if not _said(f, advisor_said)),
            None,
        )
        if fact:
            slots["fact"] = fact
        return slots

    def _topic_terms(self, topic_id: str) -> _TopicTerms:
        known = self._terms.get(topic_id)
        if known is None:
            known = self._terms[topic_id] = _TopicTerms.of(self.catalog.topics[topic_id])
        return known

    def _asked_term(
        self, topic_id: str, last_client: str | None, question: str | None, advisor_said: str
    ) -> str | None:
        """The key term Elena explains: one the client just named, else the one the client's
        question is most about, unless she has explained it already (in `advisor_said`)."""
        if last_client is None:
            return None
        last = last_client.lower()
        known = self._topic_terms(topic_id)
        named = [
            term
            for term, low, pattern in zip(known.terms, known.lowered, known.patterns, strict=True)
            if low in last and pattern.search(last)  # the substring test is a cheap pre-check
        ]
        # "What's an expense ratio?" in a retirement talk, "I keep hearing about asset
        # allocation. What is that?": a term of another topic, asked what it means, is
        # explained too (the longest named: "dependent care FSA", not "FSA")
        if _DEFINING.search(question or last):
            named += [
                term
                for term, low, pattern in self._glossary_patterns
                if low in last and pattern.search(last)
            ]
        if named and not _DEFINING.search(question or last):
            # a term Elena has explained, named again without asking what it means ("So
            # separate property? Simple enough."), is the client taking it in
            named = [t for t in named if not self._explained(topic_id, t, advisor_said)]
            if not named:
                return None
        if named:
            return max(named, key=len)
        if question is None:
            return None
        return known.about(question, advisor_said, self._ranked(topic_id, question))

    def _explained(self, topic_id: str, term: str, advisor_said: str) -> bool:
        """Elena has said the plain meaning of `term` (its gloss) in this conversation."""
        gloss = self.catalog.topics[topic_id].key_terms.get(term) or self._glossary.get(term, "")
        return bool(gloss) and gloss.rstrip(".")[:24].lower() in advisor_said

    def _rank_terms(self, topic_id: str, question: str) -> tuple[int, ...]:
        return self._topic_terms(topic_id).ranked(question)

    def _answer(
        self, question: str | None, topic: str | None = None, message: str | None = None
    ) -> _Answer | None:
        """The answers to the client's last question: a known topic question or follow-up,
        found by its words or, phrased differently, by its meaning."""
        if question is None:
            return None
        known = self._answer_by_text.get(question.lower())
        if known is not None:
            return known
        patterned = next(
            (a for pattern, a in self._answer_patterns if pattern.fullmatch(question)), None
        )
        if patterned is not None:
            return patterned
        # the question alone first; then, for a question too bare to say what it is about
        # ("Is that normal?"), the whole message. A question with its own words that the
        # index declines is not answered from the rest of the message: "how long until the
        # $9,500 I owe is paid off?" must not take the answer about selling in a downturn
        match = self._index.match(question, topic)
        if match is None and message and len(content_words(question)) <= _BARE_QUESTION:
            match = self._index.match(message, topic)
        return _Answer.of(match.template) if match is not None else None

    def _literal_answers(self, question: str | None) -> tuple[_Answer, ...]:
        """The answers found by the question's own words or slot pattern (not by meaning)."""
        if question is None:
            return ()
        known = self._answer_by_text.get(question.lower())
        if known is not None:
            return (known,)
        return tuple(a for pattern, a in self._answer_patterns if pattern.fullmatch(question))

    # --- grounding ------------------------------------------------------------------------

    def _grounded(
        self,
        request: AdvisorInput,
        rng: random.Random,
        last_client: str | None,
        question: str | None,
        advisor_said: str,
    ) -> dict[str, str] | None:
        """One sentence with the client's own figures: a calculation from them when one is
        new and bears on what they said, else their newest figure said back."""
        newest = [f for f in request.facts if f.turn == _last_client_index(request)]
        newest_ids = {f.id for f in newest}
        fresh = [c for c in request.numbers if c.summary and c.summary.lower() not in advisor_said]
        asks_numbers = question is not None and bool(
            re.search(r"\bhow (?:long|much|many)\b|\blast\b|\benough\b", question, re.I)
        )
        bearing = [c for c in fresh if set(c.input_facts.values()) & newest_ids]
        pick = bearing or (fresh if asks_numbers else [])
        vetted = self._vetted(request, rng, question, advisor_said) if not pick else None
        if vetted is not None:
            return vetted
        if pick:
            calc = pick[0]
            said = _lower_first_word(calc.summary)
            if calc.name == "change_of":  # rent up and pay down the same week: both changes
                more = [c for c in pick[1:3] if c.name == "change_of"][:1]
                said = "; and ".join([said, *(_lower_first_word(c.summary) for c in more)])
            text = f"{expand(_CALC_LEADS, rng)}, {said}."
            return {
                "text": text,
                "function": "explain_concept",
                "strategy": "education",
                "_keep": True,
            }
        # figures the client only echoed from Elena are not theirs to reflect
        newest = [
            f
            for f in newest
            if f.kind in _TELLING
            and f.text.lower() not in advisor_said
            and not _in_question(last_client or "", f)  # asked about, not told
        ]
        if newest:
            fact = _most_telling(newest)
            clause = _FILLER.sub("", _LEAD_IN.sub("", fact.evidence))
            clause = to_second_person(clause).strip().rstrip(".,;")
            if 3 <= len(clause.split()) <= 22 and fact.text in clause:
                lead = expand(_REFLECT_LEADS, rng)
                first = clause.split(" ", 1)[0]
                if first.lower().strip(",") in _LOWER_STARTS:  # not a name ("Saul left...")
                    clause = clause[:1].lower() + clause[1:]
                text = f"{lead} {clause}."
                text = with_sympathy(clause) or text
                return {
                    "text": sentence_case(text),
                    "function": "reflect_content",
                    "strategy": "paraphrase",
                    "_keep": True,
                }
        return None

    def _vetted(
        self,
        request: AdvisorInput,
        rng: random.Random,
        question: str | None,
        advisor_said: str,
    ) -> dict | None:
        """A vetted fact the client's question names (an IRS payment plan, a contribution
        limit), said as the fact base states it: its figures trace to the fact."""
        facts = self.catalog.facts if question else None
        if facts is None or question is None:
            return None
        low = question.lower()
        topic = self.catalog.topics[request.topic]
        # what the question asks beyond the topic's own name and words any question has
        asked = stems(question) - _VAGUE
        best: tuple[float, Fact] | None = None
        for fact in facts.search(question, topic=request.topic, limit=3):
            statement = fact.statement.lower()
            if any(rx.search(fact.statement) for rx in self._rules) or any(
                t.lower() in statement and t.lower() not in low for t in topic.key_terms
            ):
                continue  # a rule Elena would not say as is, or a term nobody asked about
            hits = [
                k
                for k in fact.keywords
                if k.lower() not in _GENERIC_KEYS and re.search(rf"\b{re.escape(k.lower())}\b", low)
            ]
            # one specific phrase ("payment plan") or two words of it, not one common word
            named = any(" " in k for k in hits) or len(hits) >= 2
            if not named or statement in advisor_said or not asked:
                continue
            # and about what is asked: the fees of an account are not its SIPC protection,
            # how a benefit is figured is not the earliest age to claim it
            share = self._fact_share(asked, fact)
            if share >= _FACT_COVERS and (best is None or share > best[0]):
                best = (share, fact)
        if best is None:
            return None
        return {
            "text": f"{expand(_FACT_LEADS, rng)}{best[1].statement}",
            "function": "explain_concept",
            "strategy": "education",
            "_keep": True,
        }

    def _fact_share(self, asked: frozenset[str], fact: Fact) -> float:
        """The share of the question's words `fact` (statement and keywords) holds, each word
        weighted by how few facts have it: "social security" is in a dozen facts, what is
        asked of it ("calculated", "statement") says which one fits."""
        if self._fact_words is None:
            facts = self.catalog.facts
            words = {f.id: _fact_words(f) for f in facts.facts} if facts is not None else {}
            df: dict[str, int] = {}
            for ws in words.values():
                for w in ws:
                    df[w] = df.get(w, 0) + 1
            self._fact_words = (words, df, len(words))
        words, df, n = self._fact_words
        held = words.get(fact.id) or _fact_words(fact)

        def weight(word: str) -> float:
            return math.log((n + 1) / (df.get(word, 0) + 1)) + 1.0

        total = sum(map(weight, asked))
        return sum(weight(w) for w in asked & held) / total if total else 0.0

    def _closing(
        self,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        last_client: str | None,
    ) -> AdvisorOutput:
        """The client is signing off: a warm close, no question, no new agenda. A client
        who is still unsure (even one who thanks her) gets an honest, open door, not praise."""
        warm = last_client is not None and not unsettled(last_client)
        pool = list(
            (self.templates.closings if warm else self.templates.closings_unresolved)
            or self.templates.closings
        )
        named = set(slots) | {"next_step"}
        pool = [t for t in pool if slots_in(t) <= named] or pool
        filled = {**slots, "next_step": slots.get("subtopic_phrase", "this")}
        text = (
            sentence_case(fill(expand(rng.choice(pool), rng), filled))
            if pool
            else (f"Take good care, {slots['name']}; I'm glad you reached out.")
        )
        text = text.replace("?", ".")
        observed = request.observed
        feedback = {f.code for f in request.critic_feedback}
        distressed = (
            not warm  # "I feel seen... thank you kindly" is not leaving upset, whatever the read
            and self.catalog.emotions[observed.primary].valence < 0
            and observed.intensity_level != "low"
        )
        if distressed or "missing_validation" in feedback:
            # leaving upset: the feeling is met before the goodbye
            meet = [
                t
                for t in self._options.get("empathic_validation", ())
                if not t.question and t.slots <= set(slots)
            ]
            if meet:
                first = sentence_case(fill(expand(rng.choice(meet).source.text, rng), slots))
                text = f"{first} {text}"
        return AdvisorOutput.model_validate(
            {
                "text": text,
                "sentences": [
                    {
                        "text": text,
                        "function": "affirm_strength",
                        "strategy": "emphasizing_autonomy",
                    }
                ],
                "strategies": {
                    "primary": "emphasizing_autonomy",
                    "combination": [],
                    "source": self.name,
                },
                "learning_objective": "When the client signs off, close warmly and leave the "
                "door open without a new question or agenda.",
            }
        )

    @staticmethod
    def _quote(request: AdvisorInput, text: str | None) -> str | None:
        """A few of the client's own words around the strongest emotion cue."""
        if text is None:
            return None
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

    def _usable(
        self, templates: tuple[_Template, ...], slots: dict[str, str], said: str
    ) -> list[_Template]:
        """Templates of a strategy whose slots all have values and that, filled, would not
        repeat something already said.

        When no slot value holds a brace, every literal part of a template survives `fill`
        verbatim, so a template whose probe (longest literal part) is missing from the
        conversation cannot be a repeat: that skips most fills.
        """
        filled = frozenset(k for k, v in slots.items() if v)
        probe = not any("{" in v or "}" in v for v in slots.values())
        return [
            t
            for t in templates
            if t.slots <= filled
            and (
                (probe and t.probe is not None and t.probe not in said)
                or fill(t.source.text, slots).lower() not in said
            )
        ]

    def _compose(
        self,
        request: AdvisorInput,
        rng: random.Random,
        slots: dict[str, str],
        strategies: list[str],
        asked_term: str | None,
        answer: _Answer | None,
    ) -> list[dict[str, str]]:
        """The draft's sentences as PlannedSentence fields (validated once, with the output)."""
        said = " ".join(line.text for line in request.transcript).lower()
        feedback = {f.code for f in request.critic_feedback}
        asked = asked_term is not None
        # a term nobody asked about and the client never used is not explained: "compound
        # growth" defined out of the blue is a lecture, not an answer
        client_said = " ".join(x.text for x in request.transcript if x.speaker == "client")
        term = slots.get("term", "")
        term_in_play = asked or bool(term and whole_words(term.lower()).search(client_said.lower()))
        picked: list[tuple[_Template, str]] = []
        used_slots: frozenset[str] = frozenset()  # term slots already used: one mention
        for sid in strategies:
            answering = answer is not None and sid == answer.strategy
            options = self._usable(answer.replies, slots, said) if answering else []
            options = options or self._usable(self._options.get(sid, ()), slots, said)
            if "unexplained_jargon" in feedback or (sid == "education" and asked):
                # a term the client asked about gets its plain meaning, not just its name
                options = [t for t in options if not t.bare_term]
                if sid == "education" and asked and not answering:  # best: the gloss itself
                    options = [t for t in options if "term_gloss" in t.slots] or options
            if not term_in_play:
                options = [t for t in options if not t.term_slots]
            if sid in _SAYING_BACK and not answering:
                # a paraphrase says back what this client said (a fact they told, their own
                # words), never a want nobody voiced ("you'd like to understand your options")
                options = [t for t in options if t.slots & _CLIENT_SLOTS]
            if used_slots:
                options = [t for t in options if not (t.slots & used_slots)]
            if not options:
                continue
            template = rng.choice(options)
            picked.append((template, sid))
            used_slots |= template.term_slots
            if (
                sid == strategies[0]
                and len(strategies) == 2
                and not answering  # one answer is enough
                and rng.random() < 0.5
            ):
                more = [t for t in options if t is not template and not t.question]
                if more:
                    extra = rng.choice(more)
                    picked.append((extra, sid))
                    used_slots |= extra.term_slots
        # one question at most, and at the end; the rest in a natural order
        questions = [p for p in picked if p[0].question]
        others = [p for p in picked if not p[0].question]
        others.sort(key=lambda p: p[0].rank)
        ordered = others + questions[:1]
        limit = self.catalog.advisor.max_sentences - 1
        if len(ordered) > limit:
            ordered = ordered[: limit - 1] + ordered[-1:]
        answers = {id(t) for t in answer.replies} if answer is not None else set()
        texts = [self._render(t, sid, slots, rng, id(t) in answers) for t, sid in ordered]
        return [
            {
                "text": text,
                "function": t.source.function,
                "strategy": sid,
                # what the client asked for survives trimming: the answer, the term explained
                "_keep": id(t) in answers or (asked and bool(t.term_slots) and not t.bare_term),
                "_lead": sid == request.lead_strategy,  # a candidate reply's given approach
                "_answer": id(t) in answers,
            }
            for (t, sid), text in zip(ordered, texts, strict=True)
            if text is not None
        ]

    @staticmethod
    def _render(
        t: _Template, sid: str, slots: dict[str, str], rng: random.Random, answering: bool
    ) -> str | None:
        """The template filled. A sentence saying the client's words back holds them: of its
        alternatives ("So [{fact}|the real question is timing]; is that right?") one that
        names what they said, else none."""
        if sid not in _SAYING_BACK or answering:
            return sentence_case(fill(expand(t.source.text, rng), slots))
        theirs = [slots[k] for k in _CLIENT_SLOTS if slots.get(k)]
        for _ in range(_SAYING_BACK_TRIES):
            text = sentence_case(fill(expand(t.source.text, rng), slots))
            if any(v.lower() in text.lower() for v in theirs):
                return text
        return None

    def _anti_pattern_draft(
        self, request: AdvisorInput, rng: random.Random, slots: dict[str, str]
    ) -> AdvisorOutput:
        emotion = self.catalog.emotions[request.observed.primary]
        available = [a for a in self.templates.anti_patterns if a in self.catalog.anti_patterns]
        harmful = [a for a in emotion.harmful_strategies if a in available]
        anti = rng.choice(harmful if harmful and rng.random() < 0.7 else available)
        named = set(slots)
        pool = [t for t in self.templates.anti_patterns[anti] if slots_in(t) <= named]
        lines = rng.sample(pool, k=min(2, len(pool)))
        sentences = [
            {"text": sentence_case(fill(t, slots)), "function": "offer_option"} for t in lines
        ]
        invite = [t for t in self._options.get("open_question", ()) if t.slots <= named]
        if invite:
            t = rng.choice(invite).source
            sentences.append(
                {
                    "text": sentence_case(fill(t.text, slots)),
                    "function": t.function,
                    "strategy": "open_question",
                }
            )
        pattern_name = self.catalog.anti_patterns[anti].name.lower()
        return AdvisorOutput.model_validate(
            {
                "text": " ".join(s["text"] for s in sentences),
                "sentences": sentences,
                "strategies": {
                    "primary": "open_question" if invite else "education",
                    "combination": [],
                    "source": self.name,
                },
                "learning_objective": f"Negative example: {pattern_name}.",
                "anti_pattern": anti,
            }
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
