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
  "is" follows somewhere.
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
from .text import CueHit, Lexicon, lower_twin, split_sentences, stems, word_count

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


@dataclass(frozen=True)
class Gloss:
    stems: frozenset[str]

    def paraphrased_by(self, text: str, term: str) -> bool:
        """Whether `text` says in other words what the gloss says (enough shared content)."""
        if not self.stems:
            return False
        shared = (stems(text) - stems(term)) & self.stems
        return len(shared) >= min(3, max(2, round(0.3 * len(self.stems))))


class JargonCheck:
    """Finds jargon terms used without a plain explanation next to them."""

    def __init__(self, jargon: dict[str, str]):
        self.lexicon = Lexicon({term: [term] for term in jargon})
        self.glosses = {
            term: Gloss(frozenset(stems(g) - stems(term))) for term, g in jargon.items()
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
            if not any(a <= hit.start < b for a, b in quoted):
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
            return gloss.paraphrased_by(before + " " + previous, hit.text)
        if _LINK_AFTER.match(after) and gloss.paraphrased_by(after, hit.text):
            return True
        nearby = sentence + (" " + following if _DEFINES_NEXT.match(following) else "")
        return gloss.paraphrased_by(nearby, hit.text)


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
        # Only the persona's curated list: topic key terms include everyday words ("will",
        # "bond", "premium") that would flag ordinary sentences.
        self.jargon = JargonCheck(advisor.jargon)
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
                }
            ),
            frozenset({"compliance", "false_guarantee", "specific_security"}),
            frozenset({"unexplained_jargon", "jargon_dump", "too_long", "too_short"}),
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
        return [
            CriticFinding(
                code="unexplained_jargon",
                severity="major",
                evidence=hit.text,
                message=f"{hit.text!r} is used without a plain explanation.",
            )
            for hit in self.jargon.unexplained(text, earlier)
        ]

    def _validation(self, text: str, request: CriticInput) -> list[CriticFinding]:
        observed = request.observed
        emotion = self.catalog.emotions.get(observed.primary)
        distressed = (
            observed.intensity_level == "high" and emotion is not None and emotion.valence < 0
        )
        if not distressed:
            return []
        if self.validation.find(text) or self.validation_functions.find(text):
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
