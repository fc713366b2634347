"""The `classifier` emotion observer: the trained GoEmotions model read through the mapping
table, optionally fused with the lexicon cues and the conversation's previous state.

How one turn is read (the same steps in `observe` and in the evaluations):

1. The model gives a distribution over the 28 GoEmotions labels (tempered softmax of each
   label's calibrated log-odds minus its threshold). Summing it through
   taxonomies/mappings.yaml gives a distribution over our emotion ids plus `neutral`.
2. Lexicon (optional): when the taxonomy's cue phrases occur (negated ones skipped), their
   weights, normalised, take `lexicon_weight` of the distribution. This is how members that
   GoEmotions has no label for (worry vs overwhelm, shame vs regret...) are reached. A cue
   the writer reports as their own ("I panic", "it makes me sick") is a told feeling: its
   share comes out of `neutral` first, and `neutral` cannot win (figures and plain clauses
   pull the model toward neutral even when the client names what they feel).
3. Previous state (optional): the previous turn's emotion gets `persistence` x its confidence
   of the distribution, so a close call leans toward where the client already was.
4. Decision: `neutral` wins when its mass is at least every family's mass; then there is no
   new emotion and the previous reading is carried forward, a little calmer and less sure
   (with no previous reading: calm at low intensity). Otherwise the family with the most mass
   wins, the primary is its heaviest member and the confidence is the family's mass.
5. Intensity is heuristic, not learned (GoEmotions has no intensity): the model's probability
   for the primary's strongest label (or the primary's share of the fused reading, if larger),
   plus intensifiers, exclamation marks, capitals and strong cue phrases, minus hedges. Evidence spans are the words whose removal lowers that label's score the most
   (occlusion on the linear model), with exact offsets, plus the lexicon cues that fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.schemas import EmotionAnnotation, TextCue, intensity_level
from emosim.schemas.common import StrictModel

from ..messages import EmotionObserverInput
from ..scripted.text import Lexicon, negated
from .mappings import NEUTRAL, EmotionMappings, store_label_emotion
from .model import EmotionModel, FloatArray
from .provenance import label_source

_WORD = re.compile(r"\w+(?:['’]\w+)*")
# shouting: two capitalised words in a row or one long one (not acronyms such as IRA or ETF)
_CAPS = re.compile(r"\b[A-Z]{2,}(?:\s+[A-Z]{2,})+\b|\b[A-Z]{5,}\b")
_MAX_OCCLUDED = 120
# the writer as the one who feels: "I panic", "I'm so scared", "it makes me sick", "we feel"
_SELF_REPORT = re.compile(
    r"\b(?:i|i'm|im|i've|i am|me|we|we're|we've|us)\W+(?:\w+\W+){0,2}$", re.IGNORECASE
)
_FIRST_PERSON = re.compile(r"\b(?:i|me|we|us)\b", re.IGNORECASE)  # inside a cue: "makes me sick"


class ObserverSettings(StrictModel):
    """How much the lexicon and the previous state weigh against the classifier."""

    lexicon_weight: float = Field(default=0.25, ge=0, le=1)
    persistence: float = Field(default=0.1, ge=0, le=1)
    secondary_ratio: float = Field(default=0.5, gt=0, le=1)
    evidence_words: int = Field(default=3, ge=0)
    carry_confidence: float = Field(default=0.6, ge=0, le=1)


@dataclass(frozen=True)
class Reading:
    """One turn read at the emotion level, before it becomes an annotation."""

    emotions: FloatArray  # mass per emosim emotion (catalog order)
    neutral: float
    families: dict[str, float]
    family: str | None  # None: neutral won
    primary: str | None
    secondary: str | None
    confidence: float
    cue_weight: float  # strongest lexicon cue found (0 when none)


class ClassifierEmotionObserver:
    """Reads a client turn with the trained model (see the module docstring for the steps)."""

    def __init__(
        self,
        catalog: Catalog,
        model: EmotionModel,
        mappings: EmotionMappings,
        *,
        intensifiers: Lexicon,
        hedges: Lexicon,
        lexicon: Lexicon | None = None,
        settings: ObserverSettings | None = None,
    ):
        self.catalog = catalog
        self.model = model
        self.settings = settings or ObserverSettings()
        self.lexicon = lexicon
        self.intensifiers = intensifiers
        self.hedges = hedges
        self.name = f"classifier-emotion/{model.version}" + ("+lexicon" if lexicon else "")
        name, _, version = self.name.partition("/")
        # provenance of every label this observer makes (graphs/finalize.py reads it)
        self.label_source = label_source(
            name,
            version,
            model_sha256=model.file_sha256,
            data_sha256=model.meta.data_sha256,
            license=model.meta.license,
        )
        self.emotion_ids = list(catalog.emotions)
        self.family_ids = sorted({e.family for e in catalog.emotions.values()})
        index = {e: i for i, e in enumerate(self.emotion_ids)}
        table = mappings.goemotions_map()
        missing = [
            label
            for label in model.labels
            if label not in table and store_label_emotion(label) not in index
        ]
        if missing:
            raise DataError(
                [f"taxonomies/mappings.yaml: goemotions: model label(s) not mapped: {missing}"]
            )
        self.neutral_index = model.labels.index(NEUTRAL)
        self.baseline = catalog.emotions[table[NEUTRAL].emotion]  # no emotion: calm
        # labels x emotions: where each GoEmotions label's mass goes
        self.projection = np.zeros((len(model.labels), len(self.emotion_ids)))
        for k, label in enumerate(model.labels):
            if label != NEUTRAL:
                emotion = store_label_emotion(label) or table[label].emotion
                self.projection[k, index[emotion]] = 1.0
        self.family_of = np.array(
            [self.family_ids.index(catalog.emotions[e].family) for e in self.emotion_ids]
        )

    # --- the protocol ---------------------------------------------------------------------

    def observe(self, request: EmotionObserverInput) -> EmotionAnnotation:
        text = request.text
        margins = self.model.margins([text])[0]
        reading = self.read(text, margins, request.previous)
        return self.annotate(text, margins, reading, request.previous)

    # --- steps ----------------------------------------------------------------------------

    def read(
        self, text: str, margins: FloatArray, previous: EmotionAnnotation | None = None
    ) -> Reading:
        """Steps 1-4 for one text whose label margins are already computed."""
        dist = self.model.distribution(margins.reshape(1, -1))[0]
        emotions = dist @ self.projection
        neutral = float(dist[self.neutral_index])
        cue_weight, told = 0.0, False
        if self.lexicon is not None and self.settings.lexicon_weight > 0:
            cues, told = self._cue_scores(text)
            if cues.sum() > 0:
                share = self.settings.lexicon_weight
                if told:
                    # "I panic", "it makes me sick": the writer says they feel something, so
                    # the cue's share comes out of `neutral` first, the rest out of the others
                    excess = max(0.0, share - neutral)
                    neutral = max(0.0, neutral - share)
                    left = float(emotions.sum())
                    emotions = emotions * (1 - excess / left) if left > 0 else emotions
                    emotions = emotions + share * cues / cues.sum()
                else:
                    emotions = (1 - share) * emotions + share * cues / cues.sum()
                    neutral *= 1 - share
                cue_weight = float(cues.max())
        if previous is not None and previous.primary in self.catalog.emotions:
            weight = self.settings.persistence * previous.confidence
            emotions = (1 - weight) * emotions
            emotions[self.emotion_ids.index(previous.primary)] += weight
            neutral *= 1 - weight
        families = np.bincount(self.family_of, weights=emotions, minlength=len(self.family_ids))
        by_family = {f: float(m) for f, m in zip(self.family_ids, families, strict=True)}
        best = int(np.argmax(families))
        if neutral >= families[best] and not told:
            return Reading(emotions, neutral, by_family, None, None, None, neutral, cue_weight)
        members = np.where(self.family_of == best, emotions, -1.0)
        primary_index = int(np.argmax(members))
        others = emotions.copy()
        others[primary_index] = -1.0
        second = int(np.argmax(others))
        secondary = (
            self.emotion_ids[second]
            if others[second] > 0
            and others[second] >= self.settings.secondary_ratio * emotions[primary_index]
            else None
        )
        return Reading(
            emotions=emotions,
            neutral=neutral,
            families=by_family,
            family=self.family_ids[best],
            primary=self.emotion_ids[primary_index],
            secondary=secondary,
            confidence=float(families[best]),
            cue_weight=cue_weight,
        )

    def annotate(
        self,
        text: str,
        margins: FloatArray,
        reading: Reading,
        previous: EmotionAnnotation | None = None,
        *,
        evidence: bool = True,
    ) -> EmotionAnnotation:
        """Step 5: intensity and evidence (skipped when `evidence` is False), then the annotation."""
        markers = self._intensity_cues(text)
        if reading.primary is None:
            return self._no_new_emotion(reading, previous, markers)
        label = self._strongest_label(margins, reading.primary)
        # how strongly the primary is expressed: the model's probability for its strongest
        # label, or its share of the fused reading when the lexicon carried it
        probability = float(reading.emotions[self.emotion_ids.index(reading.primary)])
        if label is not None:
            logit = float(margins[label] + self.model.thresholds[label])
            probability = max(probability, 1.0 / (1.0 + np.exp(-logit)))
        ups = sum(1 for c in markers if c.signals == "intensity+")
        downs = sum(1 for c in markers if c.signals == "intensity-")
        value = 0.3 + 0.45 * probability
        value += 0.08 * min(ups, 3) - 0.1 * min(downs, 3)
        value += 0.04 * min(text.count("!"), 3) + (0.05 if _CAPS.search(text) else 0.0)
        value += 0.04 * min(max(reading.cue_weight - 1, 0), 3)
        value = round(min(0.95, max(0.1, value)), 2)
        cues = (
            self._evidence(text, label, reading.primary) if evidence and label is not None else []
        )
        cues += self._lexicon_cues(text, cues) if evidence else []
        cues += [c.model_copy(update={"signals": "intensity"}) for c in markers]
        family = self.catalog.emotions[reading.primary].family
        return EmotionAnnotation(
            primary=reading.primary,
            family=family,
            secondary=reading.secondary,
            intensity=value,
            intensity_level=intensity_level(value),
            cues=sorted(cues, key=lambda c: (c.start, c.end)),
            confidence=round(min(1.0, max(0.0, reading.confidence)), 2),
            observer=self.name,
        )

    def _no_new_emotion(
        self, reading: Reading, previous: EmotionAnnotation | None, markers: list[TextCue]
    ) -> EmotionAnnotation:
        cues = [c.model_copy(update={"signals": "intensity"}) for c in markers]
        if previous is not None and previous.primary in self.catalog.emotions:
            value = round(max(0.1, previous.intensity - 0.1), 2)
            return EmotionAnnotation(
                primary=previous.primary,
                family=previous.family,
                intensity=value,
                intensity_level=intensity_level(value),
                cues=cues,
                confidence=round(previous.confidence * self.settings.carry_confidence, 2),
                observer=self.name,
            )
        return EmotionAnnotation(
            primary=self.baseline.id,
            family=self.baseline.family,
            intensity=0.25,
            intensity_level="low",
            cues=cues,
            confidence=round(reading.neutral, 2),
            observer=self.name,
        )

    # --- helpers --------------------------------------------------------------------------

    def _cue_scores(self, text: str) -> tuple[FloatArray, bool]:
        """Each emotion's cue weight, and whether a cue is the writer's own feeling."""
        scores = np.zeros(len(self.emotion_ids))
        told = False
        assert self.lexicon is not None
        for hit in self.lexicon.find(text):
            if not negated(text, hit.start):
                scores[self.emotion_ids.index(hit.label)] += 1.0 + 0.5 * (hit.words - 1)
                told = told or bool(
                    _SELF_REPORT.search(text[max(0, hit.start - 40) : hit.start])
                    or _FIRST_PERSON.search(hit.text)
                )
        return scores, told

    def _lexicon_cues(self, text: str, taken: list[TextCue]) -> list[TextCue]:
        if self.lexicon is None:
            return []
        spans = {(c.start, c.end) for c in taken}
        return [
            TextCue(text=hit.text, start=hit.start, end=hit.end, signals=hit.label)
            for hit in self.lexicon.find(text)
            if not negated(text, hit.start) and (hit.start, hit.end) not in spans
        ]

    def _intensity_cues(self, text: str) -> list[TextCue]:
        cues = []
        for lexicon, sign in ((self.intensifiers, "+"), (self.hedges, "-")):
            for hit in lexicon.find(text):
                cues.append(
                    TextCue(text=hit.text, start=hit.start, end=hit.end, signals=f"intensity{sign}")
                )
        return cues

    def _strongest_label(self, margins: FloatArray, emotion: str) -> int | None:
        """The GoEmotions label that speaks most for `emotion` (else for its family)."""
        column = self.emotion_ids.index(emotion)
        mapped = np.flatnonzero(self.projection[:, column])
        if mapped.size == 0:
            family = self.family_of[column]
            in_family = np.flatnonzero(self.family_of == family)
            mapped = np.flatnonzero(self.projection[:, in_family].sum(axis=1))
        if mapped.size == 0:
            return None
        return int(mapped[np.argmax(margins[mapped])])

    def _evidence(self, text: str, label: int, emotion: str) -> list[TextCue]:
        """Words whose removal lowers `label`'s score the most, with exact offsets."""
        if self.settings.evidence_words == 0:
            return []
        words = list(_WORD.finditer(text))[:_MAX_OCCLUDED]
        if not words:
            return []
        variants = [text[: m.start()] + text[m.end() :] for m in words]
        full = self.model.decision([text])[0, label]
        drops = full - self.model.decision(variants)[:, label]
        order = np.argsort(-drops, kind="stable")
        top = drops[order[0]]
        if top <= 0:
            return []
        chosen = [i for i in order[: self.settings.evidence_words] if drops[i] >= 0.25 * top]
        return [
            TextCue(
                text=words[i].group(0), start=words[i].start(), end=words[i].end(), signals=emotion
            )
            for i in sorted(chosen)
        ]
