"""Text-only observers of the scripted backend: lexicons and rules over the words written.

They get the text and nothing else (neither the arc nor the generator's labels), so their
accuracy against the simulated client's true states is a real measurement.
"""

from __future__ import annotations

from collections import defaultdict

from emosim.catalog import Catalog
from emosim.schemas import EmotionAnnotation, Sentence, StrategyUse, TextCue, intensity_level

from ..messages import EmotionObserverInput
from .templates import ObserverMarkers
from .text import Lexicon, negated, split_sentences

VERSION = "lexicon-1"

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


class LexiconEmotionObserver:
    """Scores every emotion by its cues in the text; intensity from intensifiers and hedges."""

    name = f"scripted-emotion/{VERSION}"

    def __init__(self, catalog: Catalog, markers: ObserverMarkers):
        self.catalog = catalog
        self.cues = Lexicon({e.id: e.cues for e in catalog.emotions_file.emotions})
        self.intensifiers = Lexicon({"up": [m for m in markers.intensifiers if m != "!"]})
        self.hedges = Lexicon({"down": markers.hedges})

    def observe(self, request: EmotionObserverInput) -> EmotionAnnotation:
        text = request.text
        scores: dict[str, float] = defaultdict(float)
        evidence: list[TextCue] = []
        for hit in self.cues.find(text):
            if negated(text, hit.start):
                continue
            # longer phrases are more specific than single words
            scores[hit.label] += 1.0 + 0.5 * (hit.words - 1)
            evidence.append(TextCue(text=hit.text, start=hit.start, end=hit.end, signals=hit.label))
        ups = self.intensifiers.find(text)
        downs = self.hedges.find(text)
        for hit in ups + downs:
            evidence.append(
                TextCue(text=hit.text, start=hit.start, end=hit.end, signals="intensity")
            )
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
            cues=sorted(evidence, key=lambda c: c.start),
            confidence=round(min(0.95, 0.35 + 0.6 * top / total * min(1.0, top / 2)), 2),
            observer=self.name,
        )

    def _fallback(
        self, request: EmotionObserverInput, evidence: list[TextCue]
    ) -> EmotionAnnotation:
        """No emotion cue: carry the previous reading forward, less sure and a little calmer."""
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
                confidence=round(prev.confidence * 0.5, 2),
                observer=self.name,
            )
        calm = self.catalog.emotions.get("calm") or next(iter(self.catalog.emotions.values()))
        return EmotionAnnotation(
            primary=calm.id,
            family=calm.family,
            intensity=0.3,
            intensity_level="low",
            cues=evidence,
            confidence=0.15,
            observer=self.name,
        )


class LexiconStrategyObserver:
    """Names the strategies an advisor reply uses from the strategies' text cues."""

    name = f"scripted-strategy/{VERSION}"

    def __init__(self, catalog: Catalog):
        self.lexicon = Lexicon({s.id: s.cues for s in catalog.strategies_file.strategies})

    def scores(self, text: str) -> dict[str, float]:
        scores: dict[str, float] = defaultdict(float)
        for hit in self.lexicon.find(text):
            scores[hit.label] += 1.0 + 0.5 * (hit.words - 1)
        return scores

    def observe(self, text: str) -> StrategyUse:
        scores = self.scores(text)
        if not scores:
            return StrategyUse(
                primary="open_question" if "?" in text else "education",
                combination=[],
                confidence=0.1,
                source=self.name,
            )
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
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

    def __init__(self, catalog: Catalog):
        self.functions = Lexicon(
            {f.id: [c for c in f.cues if c != "?"] for f in catalog.functions_file.functions}
        )
        self.strategies = LexiconStrategyObserver(catalog)
        self.question_functions = [f.id for f in catalog.functions_file.functions if "?" in f.cues]

    def label(self, text: str) -> list[Sentence]:
        sentences = []
        spans = split_sentences(text)
        for index, (start, end, sentence) in enumerate(spans):
            function = self._function(sentence, index, len(spans))
            strategy_scores = self.strategies.scores(sentence)
            strategy = (
                max(strategy_scores, key=lambda k: (strategy_scores[k], k))
                if strategy_scores
                else None
            )
            sentences.append(
                Sentence(
                    index=index,
                    text=sentence,
                    start=start,
                    end=end,
                    function=function,
                    strategy=strategy,
                )
            )
        return sentences

    def _function(self, sentence: str, index: int, count: int) -> str:
        scores: dict[str, float] = defaultdict(float)
        for hit in self.functions.find(sentence):
            scores[hit.label] += 1.0 + 0.5 * (hit.words - 1)
        if sentence.rstrip().endswith("?"):
            # A question's grammar says more than its words: cues may pick among the question
            # functions (check understanding, invite a next step), otherwise the first word
            # tells an open question from a closed one.
            asking = {f: v for f, v in scores.items() if f in QUESTION_FUNCTIONS}
            if asking:
                return max(asking, key=lambda k: (asking[k], k))
            first = sentence.split(maxsplit=1)[0].lower().strip("\"'“")
            return "ask_closed_question" if first in AUXILIARIES else "ask_open_question"
        scores = {
            f: v for f, v in scores.items() if f not in QUESTION_FUNCTIONS - {"invite_next_step"}
        }
        if scores:
            return max(scores, key=lambda k: (scores[k], k))
        if index == 0:
            return "acknowledge_emotion"
        if index == count - 1:
            return "invite_next_step"
        return "explain_concept"
