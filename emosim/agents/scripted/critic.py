"""The scripted critic: checks a draft's words against Elena's persona file and the taxonomy.

It reads the draft text and the observers' reading of the client, never the generator's
own labels, so its recall on injected anti-patterns is a real measurement.

The rules a compliance reviewer would write live in data: forbidden phrases and patterns and
the compliance boundaries in personas/elena_morales.yaml, anti-pattern cues in
taxonomies/strategies.yaml. This module adds what a regular expression cannot say well:

- a hit only counts when the draft asserts it (not "I wouldn't call it a mistake", "no one can
  say rates will drop", "part of you feels it was a mistake");
- cue strength: a phrase or a content word ("irresponsible") is evidence on its own, a bare
  adverb ("just", "anyway") needs a second cue; a command cue ("you need to") counts only in
  a main clause, not in "whatever time you need to think it over";
- jargon is explained when a definition sits next to the term on either side (an appositive,
  "means", "think of X as", "called X", a paraphrase of the term's plain gloss), not when any
  "is" follows somewhere; the terms are Elena's glossary plus the technical key terms of every
  topic (taxonomies/topics.yaml), a term the client used themselves excepted;
- behaviour in context, which no phrase list catches: three questions or more at once; a plan
  or directive to a client who reads as upset (medium or high intensity) with no sentence
  that acknowledges the feeling; a reply to a question that is warm and nothing else (no
  word of what was asked, no explanation, option or number).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from emosim.catalog import Catalog
from emosim.schemas import CriticFinding, CriticScores, CriticVerdict
from emosim.schemas.persona import AdvisorPersona

from ..messages import CriticInput
from .prefilter import fold, shared_index
from .text import (
    CueHit,
    Lexicon,
    in_term_sense,
    lower_twin,
    split_sentences,
    stems,
    word_count,
)

VERSION = "rules-2"

_SEVERITY_PENALTY = {"info": 0.0, "minor": 0.1, "major": 0.35, "blocker": 0.6}
_APOS = "['’]"

# --- is the hit asserted? -------------------------------------------------------------------

# A negation shortly before a cue: "I wouldn't say reckless", "never irresponsible".
_NEGATION = re.compile(
    rf"\b(not|no|never|nothing|nobody|none|without|hardly|cannot|\w+n{_APOS}t)\W+(\w+\W+){{0,2}}$",
    re.IGNORECASE,
)
# Speech or knowledge held at a distance: the draft reports, doubts or conditions the claim
# instead of making it ("no one can say rates will drop", "whether it was a mistake",
# "part of you feels it was a mistake", "anyone who promises to double your money").
_NOT_ASSERTED = re.compile(
    r"\b(whether(?![^.?!;:,]*\bor not\b)|even if|as if|no such thing as|nothing (\w+ )?is"
    rf"|(no one|nobody|not|never|\w+n{_APOS}t|cannot) (\w+ )?(say|said|tell|promise|predict|know|"
    r"guarantee|call|claim|pretend|mean)s?"
    r"|(?<!how )(?<!what )(?<!the way )(?<!whatever )"
    r"(you|part of you|people|some people|many people|others|anyone|someone|clients?)( \w+){0,2} "
    r"(feel|feels|felt|think|thinks|thought|worry|worries|worried|wonder|wonders|believe|"
    r"believes|say|says|said|tell yourself|call it|calls it|hear|heard)( like| that)?"
    r"|(anyone|someone|anybody|somebody|a plan|an ad|a product|they)( who| that)? "
    r"(promises?|claims?|says?|tells? you|guarantees?|pitches?))\b[^.?!;:,]*$",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"[.?!;:,]\s*|\s(but|and so|so)\s", re.IGNORECASE)


def _clause_before(text: str, start: int) -> str:
    """The words of the clause that lead up to `start` (since the last clause break)."""
    before = text[max(0, start - 120) : start]
    breaks = list(_CLAUSE_START.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


def asserted(text: str, start: int) -> bool:
    """Whether the draft itself makes the claim that starts at `start`."""
    return not _NOT_ASSERTED.search(_clause_before(text, start))


# --- cue strength ---------------------------------------------------------------------------

# Single words that modify a sentence rather than carry a judgment: as anti-pattern cues they
# count half ("just a few numbers" minimizes, "I just want to check" does not).
_WEAK_WORDS = frozenset(
    "just only really simply anyway anyways anyhow still even now definitely certainly surely "
    "absolutely immediately actually basically honestly obviously totally completely literally "
    "seriously always never".split()
)
# Command cues ("you need to") are orders only in a main clause: after these words they sit in
# a relative or conditional clause ("whatever time you need to", "if you need to").
_SUBORDINATE = re.compile(
    r"\b(if|whatever|what|anything|everything|all|when|whenever|unless|whether|before|until|"
    r"as much as|however|the time|time|in case)\W+(\w+\W+){0,2}$",
    re.IGNORECASE,
)
_COMMAND_CUE = re.compile(r"^you (need|have|must|['’]ve got|got|gotta)\b", re.IGNORECASE)


def cue_weight(hit: CueHit) -> float:
    if hit.words > 1:
        return 1.0
    return 0.5 if hit.text.lower() in _WEAK_WORDS else 1.0


# --- jargon ---------------------------------------------------------------------------------

# A definition right after the term: "X means", "X, which is", "X refers to", "X stands for".
_DEFINES_AFTER = re.compile(
    r"^[\"'”’]?\s*(\(|,?\s*(which|that|it|this)?\s*(is |are )?(just |simply |basically |really |"
    r"essentially |actually )?(means|meant|refers to|stands for|is short for|describes)\b)",
    re.IGNORECASE,
)
# A link that introduces a definition after the term; it counts when the words that follow
# paraphrase the term's gloss: "X, the court process that...", "X is a fee for...", "X: ...".
_LINK_AFTER = re.compile(
    r"^[\"'”’]?\s*(\(|—|–|--|:|,|\s(is|are)\b|\s(just |simply |basically )?(is|are) (like|when|how))",
    re.IGNORECASE,
)
# Frames before the term that define it on their own ("think of X as") or that say a
# definition is coming or came ("the term X", "when people say X", "called X").
_IDEA_OF = re.compile(r"\bthe (basic |main |whole |simple )?idea (of|behind) (a |an |the )?$", re.I)
_IS_THAT = re.compile(r"^\s+(is|are)( that\b|:)", re.IGNORECASE)
_THINK_OF = re.compile(r"\bthink of (a |an |the |your )?$", re.IGNORECASE)
_CALLED = re.compile(
    r"\b(called|known as|so-called|termed|(we|planners|people|lenders|advisors|they) call "
    r"(it|that|this|them)?|(that|this|it)( i|['’])s called|what['’]?s called|named)\s+"
    r"(a |an |the |your )?$",
    re.IGNORECASE,
)
# The term as the topic of teaching, not a word thrown at the client: "I can explain how X
# works", "the basic idea behind X", "would an example help X click".
_TOPIC_BEFORE = re.compile(
    r"\b(explain|explaining|define|unpack|demystify|walk you through|heard (of|the term)|"
    r"familiar with)\s+(how |what |a |an |the |your )*$",
    re.IGNORECASE,
)
_HOW = re.compile(r"\bhow (a |an |the |your )?$", re.IGNORECASE)
_WORKS = re.compile(r"^\s+(generally |actually |really )?works?\b", re.IGNORECASE)
_CLICK = re.compile(r"^\s+click\b", re.IGNORECASE)
# A sentence-level connector that delivers the definition later in the sentence: "when
# people mention X, they mean ...", "X sounds technical, but it simply means ...".
_DEFINES_LATER = re.compile(
    r"\b((they|people|lenders|planners) mean|(it|that|this) (just |simply |basically |really )?"
    r"means|what (that|it|this) means is|in plain (terms|english|language|words)|in other words|"
    r"simply put|put simply|that is,|i\.e\.)",
    re.IGNORECASE,
)
# A following sentence that opens as a definition of what came before.
_DEFINES_NEXT = re.compile(
    r"^((In plain (terms|English|language|words)|Put simply|Simply put|Basically|Essentially),? "
    r"(it|that|this)\b|In other words|Think of (it|that|this) as|What (that|this|it) means|"
    r"(That|It|This|Which)( just| simply| basically)? means|(That|It|This)( i|['’])s|Which is)\b",
    re.IGNORECASE,
)
_QUOTES = re.compile(r"[\"“][^\"“”]*[\"”]")


def _technical(term: str) -> bool:
    """A term a client may not know: a phrase, an acronym or a term with digits. Single
    everyday words ("will", "bond", "premium") are not flagged when used bare."""
    return " " in term.strip() or "-" in term or any(c.isdigit() or c.isupper() for c in term)


# Words too common in glosses to show, two at a time, that a term was explained.
_PLAIN_WORDS = frozenset(
    stems("first next then while money put pay paid make also more most much way want look")
)


@dataclass(frozen=True)
class Gloss:
    stems: frozenset[str]
    need: int | None = None  # shared content words that make a paraphrase (None: by length)

    def paraphrased_by(self, text: str, term: str) -> bool:
        """Whether `text` says in other words what the gloss says (enough shared content)."""
        if not self.stems:
            return False
        shared = (stems(text) - stems(term)) & self.stems
        if self.need is not None:  # a short paraphrase must be made of telling words
            shared -= _PLAIN_WORDS
        need = self.need or min(3, max(2, round(0.3 * len(self.stems))))
        return len(shared) >= need


class JargonCheck:
    """Finds jargon terms used without a plain explanation next to them."""

    def __init__(self, jargon: dict[str, str], lenient: Iterable[str] = ()):
        """`lenient` terms count as explained by a shorter paraphrase (two content words of
        the gloss): a topic's key term described in passing ("the Solo 401(k) for owners
        without employees") is not a bare name."""
        lenient = set(lenient)
        self.lexicon = Lexicon({term: [term] for term in jargon})
        self.glosses = {
            term: Gloss(frozenset(stems(g) - stems(term)), 2 if term in lenient else None)
            for term, g in jargon.items()
        }
        # Every review re-reads the advisor's earlier lines: remember each line's reading.
        self._uses = functools.lru_cache(maxsize=1024)(self._read)

    def unexplained(self, text: str, earlier: Iterable[str] = ()) -> list[CueHit]:
        """First occurrence of every term that is explained nowhere in `text` and was not
        explained in `earlier` (what the advisor already said in this conversation; read
        only when `text` has such a term, which is rare)."""
        hits = self._uses(text)[0]
        if not hits:
            return []
        taught = {term for line in earlier for term in self._uses(line)[1]}
        return [hit for hit in hits if hit.label not in taught]

    def _read(self, text: str) -> tuple[tuple[CueHit, ...], frozenset[str]]:
        """(first occurrence of each unexplained term, terms explained somewhere) in `text`."""
        spans = split_sentences(text)
        quoted = [m.span() for m in _QUOTES.finditer(text)]
        by_term: dict[str, list[CueHit]] = defaultdict(list)
        for hit in self.lexicon.find(text):
            if not any(a <= hit.start < b for a, b in quoted) and in_term_sense(
                text, hit.label, hit.start
            ):
                by_term[hit.label].append(hit)
        unexplained, explained = [], set()
        for term, hits in by_term.items():
            readings = {self._reading(spans, hit) for hit in hits}
            if "defined" in readings:
                explained.add(term)
            elif "topic" not in readings:
                unexplained.append(hits[0])
        return tuple(unexplained), frozenset(explained)

    def _reading(self, spans: list[tuple[int, int, str]], hit: CueHit) -> str | None:
        """'defined' when the term is explained in place, 'topic' when it is only named as
        something to teach ("I can explain how X works"), None when it is used bare."""
        return (
            "defined" if self._defined(spans, hit) else "topic" if self._topic(spans, hit) else None
        )

    @staticmethod
    def _around(spans: list[tuple[int, int, str]], hit: CueHit) -> tuple[int, str, str]:
        index = next(i for i, (s, e, _) in enumerate(spans) if s <= hit.start < e)
        start, _, sentence = spans[index]
        return index, sentence[: hit.start - start], sentence[hit.end - start :]

    def _topic(self, spans: list[tuple[int, int, str]], hit: CueHit) -> bool:
        _, before, after = self._around(spans, hit)
        return bool(
            _TOPIC_BEFORE.search(before)
            or _CLICK.match(after)
            or (_HOW.search(before) and _WORKS.match(after))
        )

    def _defined(self, spans: list[tuple[int, int, str]], hit: CueHit) -> bool:
        index, before, after = self._around(spans, hit)
        sentence = spans[index][2]
        gloss = self.glosses[hit.label]
        previous = spans[index - 1][2] if index > 0 else ""
        following = spans[index + 1][2] if index + 1 < len(spans) else ""
        if _DEFINES_AFTER.match(after) or _DEFINES_LATER.search(after):
            return True
        if _IDEA_OF.search(before) and _IS_THAT.match(after):
            return True
        if _THINK_OF.search(before) and re.match(r"^\s+as\b", after):
            return True
        # a compound that names its own kind: "annuity contract", "escrow account"
        head = re.match(r"^\s+([a-z]+)", after)
        if head and stems(head.group(1)) & gloss.stems:
            return True
        if _CALLED.search(before):
            return gloss.paraphrased_by(self._unnamed(before + " " + previous), hit.text)
        if _LINK_AFTER.match(after) and gloss.paraphrased_by(self._unnamed(after), hit.text):
            return True
        nearby = sentence + (" " + following if _DEFINES_NEXT.match(following) else "")
        return gloss.paraphrased_by(self._unnamed(nearby), hit.text)

    def _unnamed(self, text: str) -> str:
        """`text` without the names of terms: another term named bare next to this one
        ("Roth IRA first, then withdrawal rate") paraphrases nothing."""
        for hit in reversed(self.lexicon.find(text)):
            text = text[: hit.start] + " " + text[hit.end :]
        return text


# --- behaviour in context -------------------------------------------------------------------

# A directive plan: what a reply prescribes rather than offers. Imperatives that open a
# sentence (after an optional lead-in such as "First," or "Concretely,"), first-person
# prescriptions ("I'd start by", "my suggestion is", "here's how I'd"), a named next step
# ("the first thing to do is", "the smart move is"), a laid-out plan ("let's draw up a
# budget").
_IMPERATIVE = (
    r"start|begin|list|write|pull|gather|call|contact|open|set|move|put|pick|cut|stop|freeze|"
    r"pause|track|schedule|block|automate|pay|cancel|transfer|build|focus|total|add up|decide|"
    r"choose|sign|apply|consolidate|refinance|sell|max|increase|raise|lower|reduce|switch|"
    r"redirect|divert|make sure|get"
)
_DIRECTIVE = re.compile(
    rf"(^|(?<=[.!?;:] ))(([a-z]+ ?){{0,2}}, )?({_IMPERATIVE})\b(?! (by|with) (you|we|us)\b)"
    r"|\bI['’]?d (start|begin) (by|with)\b|\bI['’]?d (open|set up|move|cut|pay off|focus on|go with)\b"
    r"|\bI['’]?d (recommend|suggest|advise)( that)? (you|starting|opening|setting|moving|"
    r"putting|cutting|paying|focusing|making)\b"
    r"|\b(my|the) (first |main |one )?(suggestion|recommendation|advice|plan) (here )?"
    r"(is|would be)\b"
    r"|\b(my first|the first|the next|the best|the smart|the sensible|the right|the obvious)"
    r"( next)? (thing|step|move)( (I['’]?d|I would|to) (do|make|take))?( for [^.?!,]{1,80}?)?"
    r"( right now| at this point| here)? (is|would be) (to\b|\w+ing\b)"
    r"|\b(here['’]s (how|what)|the way|how) (I['’]?d|I would) (do|start|tackle|approach|handle|"
    r"begin|fix|sort)\b|\bhere['’]s what (you|we) (should|need to|can|could) do\b"
    r"|\bhere['’]s the plan\b"
    r"|\bwhat I['’]?d (suggest|recommend|do)( here| first| now)? is\b"
    r"|\blet['’]s (get|map|lay|put|make|draw|set) (out |up )?(a|the|your) (plan|budget|schedule)\b",
    re.IGNORECASE | re.MULTILINE,
)
# Words too general to show that a reply takes up what the client asked.
_GENERIC = frozenset(
    stems(
        "about after again also always any anything because been before being between both "
        "could did does doing done each even ever every feel feeling feels felt from getting "
        "going good have having here into just know like likely look make many maybe more most "
        "much need never okay only other over really right should since some something still "
        "such sure than that their them then there these they thing things think this those "
        "through time under until very want what when where which while will with would your "
        "yours actually honestly question ask asking wonder wondering way best normal worth "
        "mean means people person someone anyone everyone mine myself matter matters thought "
        "thoughts getting seriously carefully careful help helps tell told share shared "
        "bring brought raise raised happen happens deal dealing part pretty kind sort lot "
        "whole clear great good glad sure also let lets put puts come goes give gives take "
        "takes keep keeps say says said see seem seems moment especially mix touch touches "
        "parts life picture plate riding stakes position shoes facing reaction room mind "
        "real stake want wanting answers change move making come comes coming whenever "
        "tells imagine lately juggling carrying heavy days today sounds approaching mostly "
        "lot lots"
    )
)
# The vocabulary of warmth: appreciation, praise, comfort, permission to feel.
_WARMTH = frozenset(
    stems(
        "appreciate appreciated glad thank thanks grateful courage courageous brave proud "
        "strength strong thoughtful thoughtfully caring care cares deserve deserves gentle "
        "kind kindness grace supported support valid alone understandable "
        "wonderful amazing great admire admirable heart hear heard"
    )
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|ten|half|percent|days?|weeks?|months?|years?)\b", re.IGNORECASE
)
# Words of emotion adjectives that describe the situation, not the feeling.
_SITUATION = frozenset(
    stems(
        "of the and our all this what means pretty making wrong call relying work together "
        "financial industry settled"
    )
)
# Normalizing cues say "others too"; they acknowledge a feeling only in a sentence about one.
_NORMALIZING = frozenset({"normalizing", "normalize"})
_FEELING = frozenset(
    stems("feel feels feeling feelings felt emotion emotions emotional reaction stress stressed")
)
_ADDRESSED = re.compile(
    r"\b(you|your|yours|yourself|you['’](re|ve|d|ll)|ask|asks|asking|question|questions|wonder)\b",
    re.IGNORECASE,
)
_COMPANY = re.compile(r"\b(not alone|in good company|not the only one)\b", re.IGNORECASE)
# "what makes sense", "whichever is reasonable": a cue that judges an option, not a feeling
_ABOUT_OPTIONS = re.compile(r"\b(what|whatever|which|whichever)\s+$", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:—–]\s*|\s+(?:and|but|so|because)\s+")


def _clause(sentence: str, start: int, end: int) -> str:
    """The clause a cue stands in, so that "your savings" elsewhere in the sentence does not
    make "many people find that trimming spending helps" about the client's feeling. A clause
    of a word or two of its own ("That's really common, and you're not alone") reads with the
    whole sentence."""
    breaks = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(sentence)]
    left = max((e for s, e in breaks if e <= start), default=0)
    right = min((s for s, e in breaks if s >= end), default=len(sentence))
    clause = sentence[left:right]
    own = stems(clause[: start - left] + " " + clause[end - left :])
    return clause if len(own) >= 3 else sentence


_CAPITALIZED = re.compile(r"(?<=[\w,;:] )[A-Z][\w'’-]*")
_IDIOM = re.compile(r"^ (a lot|so much|the world|a great deal)\b")
# A sentence that opens as the answer to a yes/no or "how much" question.
_ANSWER = re.compile(
    r"(^|(?<=[.!?;] ))((yes|no)[,;.!]|(not (really|usually|necessarily)|often|usually|generally|"
    r"mostly|in most cases|it depends|the (one|short|honest|simple|main) (answer|picture|thing))\b)",
    re.IGNORECASE | re.MULTILINE,
)


# A further question folded into a question sentence: "How old are you, when do you want to
# stop, and what's in the account?" asks three.
_FOLDED_QUESTION = re.compile(
    r"[,;:]\s+(and |or )?(how|what|what['’]s|when|where|why|who|which|is|are|do|does|did|have|"
    r"has|can|could|would|will)\b(?! (you|we) (like|prefer|rather)\b)",
    re.IGNORECASE,
)


def question_count(text: str) -> int:
    """Questions `text` asks: each sentence ending with '?', plus the further questions
    folded into one ("..., when do you..., and what's...?")."""
    asked = [s for _, _, s in split_sentences(text) if s.rstrip().endswith("?")]
    return len(asked) + sum(len(_FOLDED_QUESTION.findall(s)) for s in asked)


def last_question(transcript: list) -> str | None:
    """The questions of the client's last line, when it ends with one."""
    line = next((t.text for t in reversed(transcript) if t.speaker == "client"), None)
    if line is None or not line.rstrip().endswith("?"):
        return None
    return " ".join(s for _, _, s in split_sentences(line) if s.rstrip().endswith("?"))


# --- the critic -----------------------------------------------------------------------------


def _voice_sample(advisor: AdvisorPersona) -> list[str]:
    """Elena's own prose from her persona file: what the drafts under review sound like."""
    return [
        advisor.philosophy,
        *advisor.voice_principles,
        *advisor.signature_phrases,
        *advisor.jargon.values(),
        *(adaptation.approach for adaptation in advisor.adaptations),
    ]


class RuleCritic:
    name = f"scripted-critic/{VERSION}"

    def __init__(self, catalog: Catalog):
        advisor = catalog.advisor
        self.catalog = catalog
        self.advisor = advisor
        self.forbidden = Lexicon({"forbidden_phrase": advisor.forbidden_phrases})
        self.patterns = [
            (p.id, re.compile(p.pattern, re.IGNORECASE), p.reason)
            for p in advisor.forbidden_patterns
        ]
        self.boundaries = [
            (b.id, [re.compile(p, re.IGNORECASE) for p in b.patterns], b.rule)
            for b in advisor.compliance_boundaries
        ]
        # One literal test rules out most of them at once. Slots: the patterns, then every
        # boundary's patterns, as (boundary index, pattern).
        self._boundary_slots = [
            (b, rx) for b, (_, group, _) in enumerate(self.boundaries) for rx in group
        ]
        self.prefilter = shared_index(
            tuple([rx for _, rx, _ in self.patterns] + [rx for _, rx in self._boundary_slots]),
            sample=tuple(_voice_sample(advisor)),
        )
        # the persona's patterns scan a lower-cased ASCII draft without IGNORECASE when they can
        self._twins = {
            rx: lower_twin(rx)
            for rx in [rx for _, rx, _ in self.patterns] + [rx for _, rx in self._boundary_slots]
        }
        self.anti = Lexicon({a.id: a.cues for a in catalog.strategies_file.anti_patterns})
        # The persona's curated list, plus the topics' key terms that are technical: a phrase,
        # an acronym or a term with digits ("debt avalanche", "QDRO", "W-4 form"); single
        # everyday words among them ("will", "bond", "premium") would flag ordinary sentences.
        # A topic term that contains a glossary term ("escrow account") is read as that term.
        glossary = [re.compile(rf"\b{re.escape(t.lower())}\b") for t in advisor.jargon]
        known: set[str] = set()
        self.topic_terms: dict[str, str] = {}
        for topic in catalog.topics_file.topics:
            for term, gloss in topic.key_terms.items():
                low = term.lower()
                if (
                    _technical(term)
                    and low not in known
                    and not any(g.search(low) for g in glossary)
                ):
                    self.topic_terms.setdefault(term, gloss)
                    known.add(low)
        self.jargon = JargonCheck({**advisor.jargon, **self.topic_terms}, lenient=self.topic_terms)
        # What makes a reply more than warmth: an explanation, an option, a referral, an
        # honest expectation, an agenda, the decision handed back.
        teaching_functions = {"explain_concept", "offer_option", "state_boundary"}
        teaching_strategies = {
            "education",
            "permission_based_suggestion",
            "referral_boundary",
            "honest_reassurance",
            "collaborative_agenda",
            "emphasizing_autonomy",
        }
        self.teaching = Lexicon(
            {
                "teaching": [
                    c
                    for f in catalog.functions_file.functions
                    if f.id in teaching_functions
                    for c in f.cues
                ]
                + [
                    c
                    for st in catalog.strategies_file.strategies
                    if st.id in teaching_strategies
                    for c in st.cues
                ]
            }
        )
        # the words that name a feeling: each emotion's id, name and adjective, without the
        # situation some adjectives carry ("afraid of making the wrong call")
        self.feeling_words = frozenset(
            w
            for e in catalog.emotions_file.emotions
            for w in stems(f"{e.id.split('_')[0]} {e.name.split()[0]} {e.adjective}")
            if w not in _SITUATION
        )
        validating = {"empathic_validation", "reflection_of_feelings", "normalizing"}
        self.validation = Lexicon(
            {s.id: s.cues for s in catalog.strategies_file.strategies if s.id in validating}
        )
        # finding codes that lower each score: voice, empathy, compliance, clarity
        self._score_codes = (
            frozenset({"forbidden_phrase", "forbidden_pattern", *catalog.anti_patterns}),
            frozenset(
                {
                    "missing_validation",
                    "minimizing",
                    "dismissal",
                    "judgment_blame",
                    "toxic_positivity",
                    "premature_advice",
                    "over_validation",
                    "wrong_timing",
                    "false_reassurance",
                }
            ),
            frozenset({"compliance", "false_guarantee", "specific_security"}),
            frozenset(
                {"unexplained_jargon", "jargon_dump", "question_stack", "too_long", "too_short"}
            ),
        )
        self.affirming = Lexicon(
            {
                "affirm": [
                    *next(
                        (
                            f.cues
                            for f in catalog.functions_file.functions
                            if f.id == "affirm_strength"
                        ),
                        [],
                    ),
                    *next(
                        (
                            st.cues
                            for st in catalog.strategies_file.strategies
                            if st.id == "affirmation"
                        ),
                        [],
                    ),
                ]
            }
        )
        self.validation_functions = Lexicon(
            {
                f.id: [c for c in f.cues if c != "?"]
                for f in catalog.functions_file.functions
                if f.id in {"acknowledge_emotion", "validate", "normalize"}
            }
        )

    def review(self, request: CriticInput) -> CriticVerdict:
        text = request.draft
        findings: list[CriticFinding] = []
        slots = self.prefilter.candidates(text, fold(text))
        findings += self._voice(text, [i for i in slots if i < len(self.patterns)])
        findings += self._compliance(
            text, [i - len(self.patterns) for i in slots if i >= len(self.patterns)]
        )
        findings += self._anti_patterns(text)
        findings += self._jargon(text, request)
        findings += self._validation(text, request)
        findings += self._behaviour(text, request)
        findings += self._length(text)
        return self._verdict(findings)

    # --- checks ---------------------------------------------------------------------------

    def _first_asserted(self, regex: re.Pattern[str], text: str) -> str | None:
        """The words of the first match of `regex` that the draft asserts, if any."""
        twin = self._twins.get(regex)
        if twin is not None and text.isascii():  # the same matches, found twice as fast
            matches = twin.finditer(text.lower())
        else:
            matches = regex.finditer(text)
        return next((text[m.start() : m.end()] for m in matches if asserted(text, m.start())), None)

    def _voice(self, text: str, candidates: list[int]) -> list[CriticFinding]:
        """Forbidden phrases, and the patterns of `candidates` (the others cannot match)."""
        out = []
        for hit in self.forbidden.find(text):
            if not asserted(text, hit.start):
                continue
            out.append(
                CriticFinding(
                    code="forbidden_phrase",
                    severity="major",
                    evidence=hit.text,
                    message=f"Elena never says {hit.text!r}.",
                )
            )
        for i in candidates:
            pid, regex, reason = self.patterns[i]
            evidence = self._first_asserted(regex, text)
            if evidence is not None:
                out.append(
                    CriticFinding(
                        code="forbidden_pattern",
                        severity="major",
                        evidence=evidence,
                        message=f"{pid}: {reason}",
                    )
                )
        return out

    def _compliance(self, text: str, candidates: list[int]) -> list[CriticFinding]:
        """The first asserted match of each boundary, among its patterns in `candidates`
        (indices into `_boundary_slots`, ascending; the others cannot match)."""
        out = []
        reported = set()
        for i in candidates:
            b, regex = self._boundary_slots[i]
            if b in reported:
                continue
            evidence = self._first_asserted(regex, text)
            if evidence is not None:
                bid, _, rule = self.boundaries[b]
                out.append(
                    CriticFinding(
                        code="compliance",
                        severity="blocker",
                        evidence=evidence,
                        message=f"{bid}: {rule}",
                    )
                )
                reported.add(b)
        return out

    def _anti_patterns(self, text: str) -> list[CriticFinding]:
        weight: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)
        for hit in self.anti.find(text):
            clause = _clause_before(text, hit.start)  # read once for the three tests
            if _NEGATION.search(clause) or _NOT_ASSERTED.search(clause):  # negated or distanced
                continue
            if _COMMAND_CUE.match(hit.text) and _SUBORDINATE.search(clause):
                continue
            weight[hit.label] += cue_weight(hit)
            evidence[hit.label].append(hit.text)
        out = []
        for aid, w in sorted(weight.items()):
            if w >= 1.0:
                name = self.catalog.anti_patterns[aid].name
                out.append(
                    CriticFinding(
                        code=aid,
                        severity="major",
                        evidence=", ".join(evidence[aid]),
                        message=f"Reads as {name.lower()}.",
                    )
                )
        return out

    def _jargon(self, text: str, request: CriticInput) -> list[CriticFinding]:
        earlier = (line.text for line in request.transcript if line.speaker == "advisor")
        hits = self.jargon.unexplained(text, earlier)
        if hits and any(hit.label in self.topic_terms for hit in hits):
            # a topic term the client used themselves is not jargon to them
            said = " ".join(t.text for t in request.transcript if t.speaker == "client").lower()
            hits = [
                h for h in hits if h.label not in self.topic_terms or h.label.lower() not in said
            ]
        # A term of Elena's glossary used bare is a finding on its own; a topic's key term
        # used bare is a minor one (some are household words), until two or more unexplained
        # terms pile up in one reply: a jargon dump.
        out = [
            CriticFinding(
                code="unexplained_jargon",
                severity="minor" if hit.label in self.topic_terms else "major",
                evidence=hit.text,
                message=f"{hit.text!r} is used without a plain explanation.",
            )
            for hit in hits
        ]
        if len({hit.label for hit in hits}) >= 2:
            out.append(
                CriticFinding(
                    code="jargon_dump",
                    severity="major",
                    evidence=", ".join(hit.text for hit in hits),
                    message="Several technical terms in one reply, none explained.",
                )
            )
        return out

    def _acknowledges(self, text: str) -> bool:
        """Whether some sentence acknowledges, validates or normalizes the feeling. A cue that
        judges an option rather than a feeling ("it changes what makes sense") does not; a
        normalizing cue counts in a sentence about feelings ("many people feel this way"),
        not in one about what people do ("for many people the first step is...")."""
        for _, _, sentence in split_sentences(text):
            hits = self.validation.find(sentence) + self.validation_functions.find(sentence)
            for hit in hits:
                if _ABOUT_OPTIONS.search(sentence[: hit.start]):
                    continue
                if hit.label in _NORMALIZING and not self._about_feelings(
                    _clause(sentence, hit.start, hit.end)
                ):
                    continue
                return True
        return False

    def _about_feelings(self, sentence: str) -> bool:
        """Whether a sentence is about the client or their feeling (or their asking): what a
        normalizing cue needs to acknowledge something ("it's normal to second-guess
        yourself", "plenty of people ask me this")."""
        words = stems(sentence)
        return bool(
            words & self.feeling_words
            or words & _FEELING
            or _COMPANY.search(sentence)
            or _ADDRESSED.search(sentence)
        )

    def _behaviour(self, text: str, request: CriticInput) -> list[CriticFinding]:
        """Question stacks, plans before the feeling is heard, warmth instead of an answer."""
        out = []
        asked = question_count(text)
        if asked >= 3:
            out.append(
                CriticFinding(
                    code="question_stack",
                    severity="major",
                    evidence=f"{asked} questions",
                    message=f"{asked} questions in one reply; ask the one that matters most.",
                )
            )
        observed = request.observed
        emotion = self.catalog.emotions.get(observed.primary)
        upset = (
            emotion is not None
            and emotion.valence < 0
            and observed.intensity_level in {"medium", "high"}
        )
        if upset:
            directive = _DIRECTIVE.search(text)
            if directive is not None and not self._acknowledges(text):
                out.append(
                    CriticFinding(
                        code="premature_advice",
                        severity="major",
                        evidence=directive.group(0).strip(),
                        message=f"A plan for a client who reads as {emotion.adjective}, before "
                        "the feeling is acknowledged.",
                    )
                )
        question = last_question(request.transcript)
        feeling = emotion.adjective if emotion is not None else ""
        said = " ".join(t.text for t in request.transcript if t.speaker == "client")
        hers = " ".join(t.text for t in request.transcript if t.speaker == "advisor")
        # a reply that asks something back engages (it may be clarifying); warmth that
        # neither answers nor asks leaves the client where they were
        if (
            question is not None
            and not asked
            and self._only_warmth(text, question, feeling, said, hers)
        ):
            out.append(
                CriticFinding(
                    code="over_validation",
                    severity="major",
                    message="The client asked a question; the reply is warm but takes up none "
                    "of it (no word of the question, no explanation, option or number) and asks "
                    "nothing back.",
                )
            )
        return out

    def _warm(self, sentence: str) -> bool:
        """A sentence about the client's feelings or worth: a validation or affirmation cue,
        or the vocabulary of warmth (appreciation, praise, comfort)."""
        cues = self.validation.find(sentence) + self.validation_functions.find(sentence)
        for hit in cues:
            # "a decision that's hard to reverse" is about the decision, not the client;
            # "works well for most people" is about what people do
            if sentence[hit.end :].startswith(" to "):
                continue
            if hit.label in _NORMALIZING and not self._about_feelings(sentence):
                continue
            return True
        return bool(self.affirming.find(sentence) or stems(sentence) & _WARMTH)

    def _only_warmth(
        self,
        text: str,
        question: str,
        feeling: str = "",
        client_said: str = "",
        advisor_said: str = "",
    ) -> bool:
        """A reply that validates or praises and gives nothing else. No statement explains,
        offers or answers; a warm statement (validation, praise) brings little the client did
        not say themselves (reflecting their facts is not an answer); any other statement is
        thin: few words of substance, no number, none of the client's question. `feeling` is
        the observed emotion's adjective ("unsure what all this means"), read as a feeling."""
        statements = [s for _, _, s in split_sentences(text) if not s.rstrip().endswith("?")]
        if not statements:
            return False
        asked = self._substance(question)
        theirs = self._substance(client_said)
        # the topic's own words, which Elena's validation names every turn, are no answer
        hers = self._substance(advisor_said)
        for sentence in statements:
            plain = sentence.replace(feeling, " ") if feeling else sentence
            # "it means a lot" is an idiom, not a definition
            teaching = [h for h in self.teaching.find(plain) if not _IDIOM.match(plain[h.end :])]
            if teaching or _ANSWER.search(plain):
                return False
            words = self._substance(plain)
            if self._warm(sentence):
                # names ("Priya", "Social Security") say whom or what the warmth is about
                named = stems(" ".join(_CAPITALIZED.findall(plain)))
                new = words - theirs - named
                # "most people in your spot decide by picking the option..." answers "how do
                # people usually decide?": warm in form, an answer in substance
                if len(new) >= 5 or ((words & asked) - hers and len(new) >= 3):
                    return False
            elif _NUMBER.search(plain) or len(words) >= 5 or words & asked:
                return False
        return True

    def _substance(self, text: str) -> set[str]:
        """Content words of `text`: not function words, feelings or the vocabulary of warmth;
        hyphenated words also count by their parts ("trade-offs" shares "trade")."""
        words = set()
        for w in stems(text):
            words.update(p for p in w.split("-") if p)
        return (
            {w for w in words if len(w) > 2 and w.isalnum() and w not in self.feeling_words}
            - _GENERIC
            - _WARMTH
        )

    def _validation(self, text: str, request: CriticInput) -> list[CriticFinding]:
        observed = request.observed
        emotion = self.catalog.emotions.get(observed.primary)
        distressed = (
            observed.intensity_level == "high" and emotion is not None and emotion.valence < 0
        )
        if not distressed:
            return []
        if self._acknowledges(text):
            return []
        return [
            CriticFinding(
                code="missing_validation",
                severity="major",
                message=f"The client reads as highly {emotion.adjective}; the reply never "
                "acknowledges or validates that feeling.",
            )
        ]

    def _length(self, text: str) -> list[CriticFinding]:
        words = word_count(text)
        sentences = len(split_sentences(text))
        out = []
        if words > self.advisor.max_words or sentences > self.advisor.max_sentences:
            out.append(
                CriticFinding(
                    code="too_long",
                    severity="minor",
                    message=f"{words} words in {sentences} sentences; keep replies within "
                    f"{self.advisor.max_words} words and {self.advisor.max_sentences} sentences.",
                )
            )
        if words < 12:
            out.append(
                CriticFinding(
                    code="too_short",
                    severity="minor",
                    message=f"Only {words} words: too curt to be warm.",
                )
            )
        return out

    # --- verdict --------------------------------------------------------------------------

    def _verdict(self, findings: list[CriticFinding]) -> CriticVerdict:
        # one pass over the findings: each adds its penalty to the scores its code lowers
        penalties = [0, 0, 0, 0]
        for f in findings:
            for i, codes in enumerate(self._score_codes):
                if f.code in codes:
                    penalties[i] += _SEVERITY_PENALTY[f.severity]
        voice, empathy, compliance, clarity = (round(max(0.0, 1.0 - p), 2) for p in penalties)
        scores = CriticScores(
            voice=voice,
            empathy=empathy,
            compliance=compliance,
            clarity=clarity,
            overall=round((voice + empathy + compliance + clarity) / 4, 2),
        )
        accepted = not any(f.severity in {"major", "blocker"} for f in findings)
        return CriticVerdict(accepted=accepted, scores=scores, findings=findings, critic=self.name)
