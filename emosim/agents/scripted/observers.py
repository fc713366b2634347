"""Text-only observers of the scripted backend: lexicons and rules over the words written.

They get the text and nothing else (neither the arc nor the generator's labels), so their
accuracy against the simulated client's true states is a real measurement.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any

from emosim.catalog import Catalog
from emosim.schemas import EmotionAnnotation, Sentence, StrategyUse, intensity_level

from ..messages import EmotionObserverInput
from .cues import Cues, Hit, lower, may_overlap
from .templates import ObserverMarkers
from .text import lower_twin, negated, split_sentences

VERSION = "lexicon-2"
STRATEGY_VERSION = "lexicon-2"

QUESTION_FUNCTIONS = {
    "ask_open_question",
    "ask_closed_question",
    "check_understanding",
    "invite_next_step",
}
AUXILIARIES = frozenset(
    "do does did is are was were am can could would will should shall may might must have has "
    "had isn't aren't don't doesn't didn't wouldn't couldn't won't".split()
)


def _weight(text: str, start: int, end: int) -> float:
    """A cue's vote: longer phrases are more specific than single words."""
    return 1.0 + 0.5 * (max(1, len(text[start:end].split())) - 1)


# Thanks as a formula ("thanks", "thank you so much") is politeness more than a feeling: it
# votes for gratitude, but less than any other cue, so a feeling named in the same turn wins
# ("Thanks, but I'm really worried" reads worry, with gratitude at most second).
_COURTESY = frozenset(
    "thanks|thank you|thank u|thx|ty|appreciate it|appreciate|appreciated|really appreciate|"
    "appreciate you|helpful|very helpful|really helpful|so helpful".split("|")
)
_COURTESY_WEIGHT = 0.4
# A turn with no emotion cue: the observer's reading is a guess, and says so.
_NO_EVIDENCE_CONFIDENCE = 0.1
_NO_EVIDENCE_INTENSITY = 0.25


class LexiconEmotionObserver:
    """Scores every emotion by its cues in the text; intensity from intensifiers and hedges."""

    name = f"scripted-emotion/{VERSION}"

    def __init__(self, catalog: Catalog, markers: ObserverMarkers):
        self.catalog = catalog
        self._cues = Cues({e.id: e.cues for e in catalog.emotions_file.emotions})
        ups = {"up": [m for m in markers.intensifiers if m != "!"]}
        downs = {"down": markers.hedges}
        intensifiers, hedges = Cues(ups), Cues(downs)
        # plain `Lexicon`s, as the classifier observer reads them
        self.cues = self._cues.lexicon
        self.intensifiers, self.hedges = intensifiers.lexicon, hedges.lexicon
        # One pass finds both kinds of marker when no intensifier can share a word with a
        # hedge: then neither can hide a hit of the other.
        self._markers = (
            (intensifiers, hedges)
            if may_overlap(intensifiers.keys, hedges.keys)
            else (Cues(ups | downs),)
        )

    def observe(self, request: EmotionObserverInput) -> EmotionAnnotation:
        text = request.text
        low = lower(text)
        scores: dict[str, float] = {}
        # evidence as plain dicts: the annotation validates them into TextCues in one go
        evidence: list[dict[str, Any]] = []
        for label, start, end in self._cues.find(text, low):
            if _negated(text, low, start):
                continue
            phrase = " ".join(text[start:end].lower().replace("’", "'").split())
            vote = _COURTESY_WEIGHT if phrase in _COURTESY else _weight(text, start, end)
            scores[label] = scores.get(label, 0.0) + vote
            evidence.append(_cue(text, start, end, label))
        markers = [hit for lexicon in self._markers for hit in lexicon.find(text, low)]
        ups = [hit for hit in markers if hit[0] == "up"]
        downs = [hit for hit in markers if hit[0] == "down"]
        for _, start, end in ups + downs:
            evidence.append(_cue(text, start, end, "intensity"))
        if not scores:
            return self._fallback(request, evidence)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        primary, top = ranked[0]
        secondary = ranked[1][0] if len(ranked) > 1 and ranked[1][1] >= 0.5 * top else None
        total = sum(scores.values())
        exclamations = text.count("!")
        intensity = 0.5 + 0.1 * len(ups) - 0.12 * len(downs) + 0.05 * min(exclamations, 3)
        intensity += 0.06 * (min(top, 4) - 1)
        intensity = round(min(0.95, max(0.1, intensity)), 2)
        emotion = self.catalog.emotions[primary]
        return EmotionAnnotation(
            primary=primary,
            family=emotion.family,
            secondary=secondary,
            intensity=intensity,
            intensity_level=intensity_level(intensity),
            cues=sorted(evidence, key=lambda c: c["start"]),
            confidence=round(min(0.95, 0.35 + 0.6 * top / total * min(1.0, top / 2)), 2),
            observer=self.name,
        )

    def _fallback(
        self, request: EmotionObserverInput, evidence: list[dict[str, Any]]
    ) -> EmotionAnnotation:
        """No emotion cue, so no evidence of a change: the previous reading carried forward,
        half as sure and a little weaker; on a first turn, the neutral baseline (`calm`, the
        taxonomy's no-emotion state, as GoEmotions' neutral maps to it) at low intensity. The
        record needs a primary emotion either way; the low confidence marks it as a guess."""
        if request.previous is not None:
            prev = request.previous
            intensity = round(max(0.1, prev.intensity - 0.1), 2)
            return EmotionAnnotation(
                primary=prev.primary,
                family=prev.family,
                secondary=None,
                intensity=intensity,
                intensity_level=intensity_level(intensity),
                cues=evidence,
                confidence=round(min(prev.confidence * 0.5, 0.3), 2),
                observer=self.name,
            )
        calm = self.catalog.emotions.get("calm") or next(iter(self.catalog.emotions.values()))
        return EmotionAnnotation(
            primary=calm.id,
            family=calm.family,
            intensity=_NO_EVIDENCE_INTENSITY,
            intensity_level=intensity_level(_NO_EVIDENCE_INTENSITY),
            cues=evidence,
            confidence=_NO_EVIDENCE_CONFIDENCE,
            observer=self.name,
        )


# Every negation `text.negated` knows contains one of these: without any in the 40
# characters before a cue, the cue is not negated and its regex need not run.
_NEGATION_HINT = re.compile(r"no|n't|dont|never|without|hardly|less")


def _negated(text: str, low: str | None, start: int) -> bool:
    """`text.negated(text, start)`; `low` is `lower(text)`."""
    if low is not None and not _NEGATION_HINT.search(low, max(0, start - 40), start):
        return False
    return negated(text, start)


def _cue(text: str, start: int, end: int, signals: str) -> dict[str, Any]:
    return {"text": text[start:end], "start": start, "end": end, "signals": signals}


# --- strategy frames ------------------------------------------------------------------------
#
# Grammar that names a strategy when a sentence carries none of the taxonomy's cue phrases:
# real supporters (ESConv) rarely use Elena's exact wording, but they ask, reflect, disclose and
# suggest with the same few constructions. Checked in this order; the first frame that fits a
# sentence names it.

_FEELINGS = (
    "sad|upset|hurt|lonely|alone|scared|afraid|frightened|worried|anxious|nervous|stressed|"
    "overwhelmed|exhausted|tired|drained|frustrated|angry|mad|annoyed|irritated|resentful|bitter|"
    "confused|lost|stuck|helpless|hopeless|powerless|trapped|depressed|down|low|discouraged|"
    "disappointed|betrayed|abandoned|unsupported|isolated|torn|conflicted|guilty|ashamed|"
    "embarrassed|humiliated|regretful|heartbroken|grieving|devastated|insecure|uncertain|unsure|"
    "unhappy|miserable|troubled|burdened|pressured|under pressure|relieved|hopeful|excited|happy|"
    "proud|grateful|calm|confident|determined|curious|skeptical|distressed|disgusted|jealous"
)
_AUX = "is|are|was|were|do|does|did|have|has|had|can|could|would|will|should|shall|may|might|am"
_SUBJECTS = "you|i|we|he|she|they|it|there|that|this|your|my|his|her|their|anything|anyone"
_LEAD = r"^(?:(?:oh|so|ok|okay|well|and|but|also|then|i see|wow|yes|yeah|hmm|right|sure)\W+)*"
_IMPERATIVES = (
    "try|take|talk|go|make|keep|get|find|write|call|reach|ask|look|consider|remember|give|"
    "spend|set|start|stop|focus|check|join|use|avoid|search|google|apply|contact|speak|seek|"
    "practice|treat|allow|read|watch|listen|plan|schedule|put|stay|learn|sit|share|tell|"
    "think about|be kind|don't be afraid|do not be afraid"
)

_QUESTION = re.compile(
    r"\?\s*$|" + _LEAD + r"((what|whats|what['’]s|how|hows|how['’]s|why|who)\b(?!\W+(a|an|awful|"
    r"sad|great|wonderful|nice|lovely|terrible|hard|exciting|kind|cool)\b)|(when|where|which|"
    + _AUX
    + r")\b\W+("
    + _SUBJECTS
    + r"|"
    + _AUX
    + r")\b)",
    re.IGNORECASE,
)

# (strategy, pattern, applies to): "question" frames only for questions, "statement" frames
# only for sentences that are not questions, "any" for both.
_FRAMES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (sid, re.compile(pattern, re.IGNORECASE), applies)
    for sid, pattern, applies in (
        # a restatement offered for confirmation, or a statement asked back as a question
        (
            "paraphrase",
            r"\b(so (what )?you(['’]re| are)? (saying|telling me)|if i (understand|get|hear) "
            r"(you|this|that|correctly)|correct me if|(is|was) that (right|correct)|"
            r"did i (get|understand) (that|it|this) right|am i (right|understanding)|"
            r"from what i(['’]m| am)? (understand|hear|gather)|just to make sure|"
            r"sounds like you(['’]re| are) (saying|telling))",
            "any",
        ),
        ("paraphrase", _LEAD + r"(so )?(you|your|he|she|they|it|the|this|that)\b[^?]*\?$", "any"),
        # an idea offered as a question
        (
            "permission_based_suggestion",
            r"\b(have you (ever )?(tried|thought (about|of)|considered|contemplated|looked into|"
            r"reached out|contacted|spoken to|talked to|asked (for|about))|why (don['’]?t|not) you|"
            r"why not\b|how about|what about (trying|talking|doing|getting|going|asking)|"
            r"would you (consider|be (willing|open)|think about)|is there (a way|any (way|chance)) "
            r"(you|that you))",
            "question",
        ),
        # any other question: the grammar, with or without its question mark
        ("open_question", r".", "question"),
        # hope grounded in the person or the situation
        (
            "honest_reassurance",
            r"\b((things|it|everything|this) (will|['’]ll|can|is going to) (get better|improve|"
            r"be (ok|okay|fine|alright|better)|work out|pass)|you(['’]ll| will| should| would) "
            r"be (ok|okay|fine|alright)|you (can|will|['’]ll) (do (it|this)|get through|handle "
            r"(it|this)|overcome|make it)|i(['’]m| am) (sure|confident|certain|positive) (that )?"
            r"(you|things|it|everything)|don['’]?t (lose hope|give up)|i (hope|wish|know|believe) "
            r"(that )?(you|things|it|everything)|there is (hope|always)|on (your|the) way)\b",
            "statement",
        ),
        # a strength or a good step, named
        (
            "affirmation",
            r"\b(you(['’]re| are) (doing|being|so|very|really)? ?(great|well|good|amazing|strong|"
            r"brave|wonderful|smart|the right|your best)|(that(['’]s| is)|what) (a )?(really |very )?"
            r"(great|good|wonderful|awesome|excellent|fantastic|smart|brave)\b|(is|was|sounds "
            r"like|seems like|sounds) (a )?(really |very )?(great|good|wonderful|awesome|excellent|"
            r"fantastic|smart|brave) (idea|plan|step|start|decision|choice|approach)|"
            r"i(['’]m| am) (so |really )?(glad|proud|happy) (that )?(you|to hear)|"
            r"you (made|did|are making) the right|you should be proud|(good|great) (job|for you|"
            r"thinking)|well done|it takes (courage|strength))\b",
            "statement",
        ),
        # an idea offered for the other person to take up
        (
            "permission_based_suggestion",
            r"\b((maybe|perhaps) (you|try|it|there|consider|talk|reach|get|take|go|spend|ask|look|"
            r"find|write|set|start|see)|you (could|might|may) (also |always |maybe |try to )?(try|"
            r"consider|want to|think about|look|talk|reach|start|ask|speak|contact|go|get|take|"
            r"find|use|set|make|write|call|join|check|apply|see if|search|spend|plan|keep|put)|"
            r"you (should|need to|have to|ought to|must(?! (be|feel|have)\b))\b|i (\w+ )?(suggest|recommend|advise|"
            r"encourage)|if i were you|it (also |really |often |usually )?(might|may|could|would|"
            r"can|will) (also |really )?(help|be (a )?(good|great|helpful|useful|worth|beneficial|"
            r"nice|idea))|(?<!i )(can|could|might|may|will|would) (really |also )?help (you|to)|"
            r"(it['’]?s|it is) (a good idea|worth|helpful|important) to|(it )?(often |usually |"
            r"really )?helps to|make sure (to|you))",
            "statement",
        ),
        (
            "permission_based_suggestion",
            _LEAD + r"(please |just |maybe |perhaps |also |then )?(" + _IMPERATIVES + r")\b",
            "statement",
        ),
        # the speaker's own experience
        (
            "limited_self_disclosure",
            r"\b(i (have|['’]ve) (also |too |personally |myself |once |recently )?(been|had|felt|"
            r"gone|done|tried|experienced|struggled|dealt|lost|found|faced|learned|seen|worked|"
            r"lived|suffered|used)|i (was|went|had|felt|did|used to|lost|got|worked|struggled|"
            r"tried|remember|learned|found|moved|quit|started|broke up|failed|spent|decided|once)\b|"
            r"when i (was|first|started|had|went|lost)|me too|same here|i (also|too)\b|"
            r"happened to me|been there|in my (own )?(experience|life|case)|my own|myself|"
            r"i (personally |also )?(prefer|enjoy|find myself|tend to|love to|like to)|"
            r"my (friend|friends|family|mom|mother|dad|father|husband|wife|partner|boyfriend|"
            r"girlfriend|son|daughter|kids|children|sister|brother|boss|coworker|parents)\b)",
            "statement",
        ),
        # the other person's feeling, named back to them
        (
            "reflection_of_feelings",
            r"\b((it )?(sounds|seems|looks) (like|as if|as though) (you|that|this|it)|"
            r"you (seem|sound|appear)\b|i can (\w+ )?(tell|see|hear|sense|feel|imagine|"
            r"understand)\b[^.?!]{0,25}?\b(how|that|you|what)|"
            r"(it|that|this) (must|would|could|can) (be|have been|feel)\b|"
            r"you(['’]re| are| were|['’]ve been| have been| must be| must feel| feel| felt| might "
            r"feel| may feel| must have felt)( (so|very|really|quite|a bit|a little|pretty|extremely|"
            r"feeling|being|also|still))* (" + _FEELINGS + r")\b|"
            r"you(['’]re| are) feeling|feeling (as if|like|that))",
            "statement",
        ),
        # the feeling accepted as it is
        (
            "empathic_validation",
            r"\b(i(['’]m| am) (so |really |very |truly )?sorry|sorry (to hear|that|about|for)|"
            r"(that|it|this)(['’]s| is| sounds| seems| must be) (really |so |very |quite |pretty )?"
            r"(hard|tough|difficult|awful|terrible|rough|frustrating|stressful|scary|painful|"
            r"a lot|sad|intense|unfair|exhausting|overwhelming|heartbreaking|upsetting|"
            r"unacceptable)|i (totally |completely )?(understand|get it|hear you|know how)|"
            r"your feelings are (valid|understandable|normal)|(understandable|valid|makes sense))",
            "statement",
        ),
        (
            "normalizing",
            r"\b(you(['’]re| are) not (alone|the only)|not the only one|(a lot of|many|most|so many|"
            r"lots of|plenty of|other) (people|others|folks|students|families)|we all|everyone "
            r"(goes|feels|has|gets|needs)|it(['’]s| is) (normal|natural|common|okay|ok|human) to|"
            r"(very |quite |so )?common)\b",
            "statement",
        ),
        # a general fact about how things work
        (
            "education",
            r"\b(there (is|are) (lots of|many|several|some|a lot of|different|plenty)|research|"
            r"studies|according to|has been shown|percent|generally|typically|usually|in general|"
            r"for example|such as)\b",
            "statement",
        ),
    )
)
# Pleasantries carry no strategy; a greeting in front of a sentence is set aside.
_SOCIAL = re.compile(
    r"^\W*(hi( there)?|hello|hey|good (morning|afternoon|evening|night|day)|bye|goodbye|"
    r"take care|thanks( so much)?|thank you( so much)?|you['’]?re welcome|your welcome|"
    r"(it was )?my pleasure|no problem|nice (talking|chatting) (to|with) you|"
    r"(i )?hope you( are|['’]re)( doing)? (well|good|ok|okay|fine)( today)?|"
    r"have a (good|great|nice|wonderful) (day|night|evening|weekend))\b[\s.!,;:]*",
    re.IGNORECASE,
)
# A short acknowledgement before the real move ("I see.", "I understand.") counts half.
_PREFACE = re.compile(
    r"^\W*(oh|ok|okay|i see|i understand|i hear you|i get it|true|yes|yeah|right|sure|wow|"
    r"hmm|i know)\b",
    re.IGNORECASE,
)
# ESConv writers often run sentences together ("Oh..is it possible", "Hi..how are you").
_PIECES = re.compile(r"\.{2,}|(?<=[.!?])(?=[A-Za-z])")
_FRAME_WEIGHT = 1.0


def _pieces(sentence: str) -> list[str]:
    """The sentence's parts once run-on sentences are split and pleasantries set aside."""
    out = []
    for piece in _PIECES.split(sentence):
        while True:
            social = _SOCIAL.match(piece)
            if not social or not social.group(0):
                break
            piece = piece[social.end() :]
        if re.search(r"\w", piece):
            out.append(piece.strip())
    return out


# Distinct sentences remembered per observer: the scripted advisor writes from templates, so
# most sentences of a run come back, and each is read once.
_SENTENCE_CACHE = 4096

Votes = tuple[tuple[tuple[str, float], ...], bool]  # (strategy, vote) pairs; short preface


class LexiconStrategyObserver:
    """Names the strategies an advisor reply uses: the taxonomy's cue phrases first, then, for
    a sentence with no cue, the grammar of what it does (asks, reflects, discloses, suggests).

    A cue names the strategy it was written for; a frame is weaker evidence and only speaks for
    sentences no cue claimed. Ties go to the strategy that appears first, the way a reply leads
    with its main move.
    """

    name = f"scripted-strategy/{STRATEGY_VERSION}"

    def __init__(self, catalog: Catalog):
        self._cues = Cues({s.id: s.cues for s in catalog.strategies_file.strategies})
        self.lexicon = self._cues.lexicon
        self.frames = [f for f in _FRAMES if f[0] in catalog.strategies]
        # the frames' case-sensitive twins, for lower-cased ASCII sentences (see `frame`)
        twins = [(sid, lower_twin(rx), on) for sid, rx, on in self.frames]
        self._question_twin = lower_twin(_QUESTION)
        ok = self._question_twin is not None and all(twin for _, twin, _ in twins)
        self._lower_frames = twins if ok else None
        self._read_votes = functools.lru_cache(maxsize=_SENTENCE_CACHE)(self._sentence_votes)

    def _evidence(self, text: str) -> tuple[dict[str, float], dict[str, int]]:
        """Score per strategy (the sum of its sentences' votes) and the offset where it first
        shows."""
        scores: dict[str, float] = defaultdict(float)
        first: dict[str, int] = {}
        spans = split_sentences(text)
        if self._cues.can_cross_sentences:  # a sentence's cues depend on its neighbours
            hits = self._cues.find(text, lower(text))
            moves = [self._votes(text, hits, start, end) for start, end, _ in spans]
        else:
            moves = [self._read_votes(sentence) for _, _, sentence in spans]
        for (start, _, _), (votes, short) in zip(spans, moves, strict=True):
            for sid, vote in votes:
                scores[sid] += vote / 2 if short else vote
                first.setdefault(sid, start)
        return scores, first

    def _sentence_votes(self, sentence: str) -> Votes:
        """The votes of a sentence read alone (cached per distinct sentence)."""
        return self._votes(sentence, self._cues.find(sentence, lower(sentence)), 0)

    def _votes(self, text: str, hits: list[Hit], start: int, end: int = -1) -> Votes:
        """The move of the sentence `text[start:end]` (the whole text by default).

        Its strongest cue (or, with no cue, its frame) gives its strategy a full vote and any
        other cued strategy half a vote, so a long cue phrase does not outvote two sentences.
        A short acknowledgement ("I see.") votes half.
        """
        end = len(text) if end < 0 else end
        sentence = text[start:end]
        cued: dict[str, float] = defaultdict(float)
        for label, hit_start, hit_end in hits:
            if start <= hit_start < end:
                cued[label] += _weight(text, hit_start, hit_end)
        top = max(cued.values(), default=0.0)
        votes = {sid: 1.0 if w == top else 0.5 for sid, w in cued.items()}
        if not votes:
            for piece in _pieces(sentence):
                sid = self.frame(piece)
                if sid:
                    votes[sid] = max(votes.get(sid, 0.0), _FRAME_WEIGHT)
        short = len(sentence.split()) <= 5 and bool(_PREFACE.match(sentence))
        return tuple(votes.items()), short

    def frame(self, sentence: str) -> str | None:
        """The strategy the sentence's grammar points to, if any."""
        frames, question_rx = self.frames, _QUESTION
        if self._lower_frames is not None and sentence.isascii():
            frames, question_rx = self._lower_frames, self._question_twin
            sentence = sentence.lower()
        question = bool(question_rx.search(sentence))  # type: ignore[union-attr]
        for sid, regex, applies in frames:
            if applies == ("statement" if question else "question"):
                continue
            if regex.search(sentence):
                return sid
        return None

    def sentence_strategy(self, sentence: str) -> str | None:
        """The strategy of one sentence read alone: its best-scored move, ties to the
        alphabetically last id."""
        votes, short = self._read_votes(sentence)
        if not votes:
            return None
        return max(votes, key=lambda sv: (sv[1] / 2 if short else sv[1], sv[0]))[0]

    def scores(self, text: str) -> dict[str, float]:
        return self._evidence(text)[0]

    def observe(self, text: str) -> StrategyUse:
        scores, first = self._evidence(text)
        if not scores:
            return StrategyUse(
                primary="open_question" if "?" in text else "education",
                combination=[],
                confidence=0.1,
                source=self.name,
            )
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], first[kv[0]], kv[0]))
        total = sum(scores.values())
        return StrategyUse(
            primary=ranked[0][0],
            combination=[sid for sid, _ in ranked[1:4]],
            confidence=round(min(0.95, ranked[0][1] / total + 0.2), 2),
            source=self.name,
        )


class CueSentenceObserver:
    """Splits a reply into sentences and gives each the function its cues point to."""

    name = f"scripted-sentence/{VERSION}"

    def __init__(self, catalog: Catalog, strategies: LexiconStrategyObserver | None = None):
        """`strategies`: the run's strategy observer, to share its reading of each sentence."""
        self._functions = Cues(
            {f.id: [c for c in f.cues if c != "?"] for f in catalog.functions_file.functions}
        )
        self.functions = self._functions.lexicon
        self.strategies = LexiconStrategyObserver(catalog) if strategies is None else strategies
        self.question_functions = [f.id for f in catalog.functions_file.functions if "?" in f.cues]
        self._read = functools.lru_cache(maxsize=_SENTENCE_CACHE)(self._read_sentence)

    def label(self, text: str) -> list[Sentence]:
        sentences = []
        for index, (start, end, sentence) in enumerate(split_sentences(text)):
            function, strategy = self._read(sentence)
            sentences.append(
                Sentence(
                    index=index,
                    text=sentence,
                    start=start,
                    end=end,
                    # with neither cue nor grammar to go by, position decides
                    function=function
                    or ("acknowledge_emotion" if index == 0 else "explain_concept"),
                    strategy=strategy,
                )
            )
        return sentences

    def _read_sentence(self, sentence: str) -> tuple[str | None, str | None]:
        """A sentence's function (None: only its position can tell) and strategy; both depend
        on the sentence alone, so each distinct sentence is read once."""
        hits = self._functions.find(sentence, lower(sentence))
        return self._function(sentence, hits), self.strategies.sentence_strategy(sentence)

    def _function(self, sentence: str, hits: list[Hit]) -> str | None:
        """The sentence's function: cue phrases first, then its grammar (None: neither).

        Scores favour longer cues; ties go to the cue that comes first, the way a sentence
        leads with its main move.
        """
        scores: dict[str, float] = defaultdict(float)
        first: dict[str, int] = {}
        for label, start, end in hits:
            scores[label] += _weight(sentence, start, end)
            first.setdefault(label, start)
        if sentence.rstrip().endswith("?"):
            return self._question(sentence, scores, first)
        # Statements cannot ask: only an imperative request ("Tell me more about...") keeps an
        # asking cue, and a check of the listener's reading ("Correct me if...") keeps its own.
        if not _REQUEST.match(sentence):
            scores.pop("ask_open_question", None)
        scores.pop("ask_closed_question", None)
        if scores:
            return _best(scores, first)
        if _PRAISE.search(sentence):
            return "affirm_strength"
        if _FUTURE.search(sentence):
            return "set_expectation"
        return None

    def _question(self, sentence: str, scores: dict[str, float], first: dict[str, int]) -> str:
        """A question's grammar says more than its words. A check ("How does that sound?")
        is named by its cue; a yes/no proposal ("Would you like to...", "Shall we...") by its
        next-step or option cue; otherwise a wh-question is open unless it offers a choice
        ("Where would you like to start: A or B?"), and an auxiliary opener makes it closed."""
        if "check_understanding" in scores:
            return "check_understanding"
        opener = _OPENER.sub("", sentence).split(maxsplit=1)
        word = opener[0].lower().strip("\"'“:,") if opener else ""
        wh = word in _WH or (word not in AUXILIARIES and bool(_LATE_WH.search(sentence)))
        if wh:
            return "ask_closed_question" if _CHOICE.search(sentence) else "ask_open_question"
        proposing = {f: v for f, v in scores.items() if f in _QUESTION_MOVES}
        if proposing:
            return _best(proposing, first)
        if word in AUXILIARIES or word in {"may", "should", "shall"}:
            return "ask_closed_question"
        return "ask_open_question"


def _best(scores: dict[str, float], first: dict[str, int]) -> str:
    return max(scores, key=lambda k: (scores[k], -first.get(k, 0), k))


# Functions a question's cues may pick; the open/closed choice is left to grammar.
_QUESTION_MOVES = ("invite_next_step", "offer_option")
_WH = frozenset("what how where which when why who whom whose".split())
# A wh-word opening the real question after a preface ("I'm curious: how ...").
_LATE_WH = re.compile(r"[:;,]\s*(what|how|where|which|when|why|who)\b", re.IGNORECASE)
# A question that lists the answers to choose from.
_CHOICE = re.compile(r"\bor\b(?!\s+(two|so|more|less)\b)", re.IGNORECASE)
# Imperatives that ask for an answer without a question mark.
_REQUEST = re.compile(
    r"^\W*(so,?\s+)?(tell me|walk me through|help me understand|i'm curious|i'd love to hear|"
    r"describe|talk me through)\b",
    re.IGNORECASE,
)
# Leading fillers and address before a question's first real word ("So, ...", "And ...").
_OPENER = re.compile(r"^\W*((so|and|but|okay|ok|now|then|well),?\s+)*", re.IGNORECASE)
# Second-person praise: something the client did or is, named as a strength.
_PRAISE = re.compile(
    r"\b(you|your|you've|you're)\b.*\b(courage|strength|brave|honest|thoughtful|capable|"
    r"resourceful|persistent|persistence|careful|progress|proud|impressive|smart|wise|"
    r"commitment|determination|effort|instinct)\b",
    re.IGNORECASE,
)
# Talk about what will happen: the future of the process, not a definition.
_FUTURE = re.compile(
    r"\b(we'll|we will|I'll|it'll|there will|will probably|won't|going to|may take|might take|"
    r"could take|months|weeks|years from now)\b",
    re.IGNORECASE,
)
