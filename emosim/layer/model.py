"""The next-strategy model: which of ESConv's eight strategies a supporter uses next.

Learned from ESConv's human supporters (Liu et al., 2021; CC BY-NC 4.0, so the model file
carries that license): given the conversation up to a supporter turn (`turns.NextTurn`), a
multinomial logistic regression over

- the supporter's strategy history: the last strategy, the last two as a pair, the share and
  the (capped) count of each strategy so far, and whether the supporter is continuing their
  own turn (also crossed with the last strategy);
- the position, counted from the start only (supporter utterances and seeker turns so far);
- the emotion observer's reading of the seeker's last turn (mass per Goleman family and
  neutral), whether it asks something, and its length;
- the seeker's last turn and the supporter's previous utterance as TF-IDF word 1-2-grams
  (3,000 terms each, down-weighted: `text_weight`).

The taxonomy's fit of strategies to emotions (taxonomies/emotions.yaml `helpful_strategies`,
through each strategy's `esconv` field) is a prior over the eight strategies for the observed
emotion; it enters as eight more features, so the regression learns how much to trust it
(adding `w` x its log-probability instead lowered cross-validated top-1 for every w > 0: the
taxonomy says what helps, not what human supporters do next). The table is stored in the model
file, so a taxonomy edit rebuilds the cache. Weights and C were chosen by 5-fold
cross-validation by dialog on the train split (see README.md of this folder).

Deterministic: lbfgs, dialog-ordered folds, and the model file of `modelfile` (no pickle,
fixed zip timestamps). Same data and code give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import sklearn
from numpy.typing import NDArray
from pydantic import Field
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from emosim.agents.classifier.modelfile import (
    read_model_arrays,
    read_model_meta_as,
    write_model_file,
)
from emosim.agents.classifier.provenance import (
    ESCONV_ATTRIBUTION,
    ESCONV_LICENSE,
    TrainingSource,
)
from emosim.errors import DataError
from emosim.evals.esconv import LABELS
from emosim.schemas.common import StrictModel

from .turns import NextTurn

CODE_VERSION = "next-strategy-lr-1"
"""Bump when features or training change: cached models are then rebuilt."""

FORMAT = "emosim-next-strategy"
_TEXTS = ("seeker", "previous")
_ARRAYS = (*(f"{b}_{k}" for b in _TEXTS for k in ("terms", "idf")), "coef", "intercept", "prior")
_TOKEN = r"(?u)\b\w+(?:'\w+)?\b|[!?]"
N_LABELS = len(LABELS)

FloatArray = NDArray[np.float64]


class NextStrategyParams(StrictModel):
    """What a next-strategy model was trained with; part of the cache key."""

    text_weight: float = Field(default=0.3, ge=0, description="0: no TF-IDF blocks.")
    max_terms: int = Field(default=3000, ge=1)
    min_df: int = Field(default=2, ge=1)
    lr_c: float = Field(default=0.1, gt=0)
    prior: bool = Field(default=True, description="The taxonomy prior as features.")


class OutcomeCell(StrictModel):
    """How often a strategy, used when the client showed an emotion family, moved the arc."""

    family: str
    strategy: str = Field(description="Taxonomy strategy id.")
    advanced: int = Field(ge=0)
    total: int = Field(ge=1)


class LayerScore(StrictModel):
    """Next-strategy accuracy on human conversations, measured when the model was built."""

    split: str
    n: int
    dialogs: int
    top1: float
    top3: float
    majority_top1: float
    majority_top3: float
    command: str


class NextStrategyMeta(StrictModel):
    format: Literal["emosim-next-strategy"] = FORMAT
    code_version: str
    labels: list[str] = Field(min_length=2, description="ESConv strategies, column order.")
    families: list[str] = Field(description="Emotion families of the emotion features.")
    emotion_model: str = Field(description="Version of the emotion model the features read.")
    prior_emotions: list[str] = Field(description="Rows of the stored taxonomy prior.")
    data_file: str
    data_sha256: str
    params: NextStrategyParams
    n_train: int
    n_dialogs: int
    majority: list[str] = Field(description="Strategies by training frequency (the anchor).")
    sklearn_version: str
    license: str = ESCONV_LICENSE
    attribution: str = ESCONV_ATTRIBUTION
    sources: list[TrainingSource] = Field(default_factory=list)
    outcomes: list[OutcomeCell] = Field(
        default_factory=list, description="Improvement counts learned from emosim records."
    )
    scores: list[LayerScore] = Field(default_factory=list)

    @property
    def version(self) -> str:
        return f"{self.code_version}:{self.data_sha256[:12]}"


@dataclass(frozen=True)
class EmotionFeatures:
    """The emotion observer's reading of each seeker turn: family masses (+ neutral last) and
    the primary emotion (None: neutral) that picks the taxonomy prior."""

    masses: FloatArray
    primaries: list[str | None]


def read_emotions(observer, texts: Sequence[str]) -> EmotionFeatures:  # noqa: ANN001
    """Family masses of `texts` by the classifier emotion observer (one batch)."""
    if not texts:
        return EmotionFeatures(np.zeros((0, len(observer.family_ids) + 1)), [])
    margins = observer.model.margins(list(texts))
    rows, primaries = [], []
    for text, row in zip(texts, margins, strict=True):
        reading = observer.read(text, row)
        rows.append([reading.families[f] for f in observer.family_ids] + [reading.neutral])
        primaries.append(reading.primary)
    return EmotionFeatures(np.array(rows), primaries)


def _index(label: str | None) -> int:
    return LABELS.index(label) if label in LABELS else N_LABELS


def dense(turn: NextTurn, emotion: FloatArray, prior: FloatArray) -> list[float]:
    """The history, position, emotion, prior and shape features of one turn."""
    n = N_LABELS + 1
    last = _index(turn.history[-1] if turn.history else None)
    before = _index(turn.history[-2] if len(turn.history) > 1 else None)
    row = [0.0] * (n + n * n)
    row[last] = 1.0
    row[n + last * n + before] = 1.0
    counts = np.zeros(N_LABELS)
    for label in turn.history:
        if label in LABELS:
            counts[LABELS.index(label)] += 1
    row += (counts / max(1, len(turn.history))).tolist() + (np.minimum(counts, 5) / 5).tolist()
    follows = float(turn.follows_supporter)
    crossed = [0.0] * n
    crossed[last] = follows
    row += [follows, *crossed]
    position = [0.0] * 12
    position[min(11, turn.supporter_index)] = 1.0
    seeker_turns = [0.0] * 10
    seeker_turns[min(9, turn.seeker_turns // 2)] = 1.0
    row += position + seeker_turns + [float(np.log1p(turn.supporter_index) / 3)]
    row += emotion.tolist() + prior.tolist()
    row += [float("?" in turn.seeker), float(np.log1p(len(turn.seeker.split())) / 4)]
    return row


def _vectorizer(params: NextStrategyParams, **kw: object) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32, token_pattern=_TOKEN, **kw
    )


def _terms(vectorizer: TfidfVectorizer) -> NDArray[np.str_]:
    vocab = vectorizer.vocabulary_
    return np.array(sorted(vocab, key=vocab.__getitem__))


def _features(
    vectorizers: Mapping[str, TfidfVectorizer],
    turns: Sequence[NextTurn],
    emotions: EmotionFeatures,
    prior: Mapping[str, FloatArray],
    params: NextStrategyParams,
    *,
    fit: bool = False,
) -> sparse.csr_matrix:
    none = np.zeros(N_LABELS)
    priors = [
        prior.get(p or "calm", prior.get("calm", none)) if params.prior else none
        for p in emotions.primaries
    ]
    rows = [dense(*row) for row in zip(turns, emotions.masses, priors, strict=True)]
    parts = [sparse.csr_matrix(np.array(rows, dtype=np.float32))]
    for block in _TEXTS if params.text_weight else ():
        texts = [getattr(t, block) for t in turns]
        vectorizer = vectorizers[block]
        matrix = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
        parts.append(matrix * params.text_weight)
    return sparse.hstack(parts, format="csr")


def log_softmax(scores: FloatArray) -> FloatArray:
    scores = scores - scores.max(axis=1, keepdims=True)
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def taxonomy_prior(catalog) -> dict[str, FloatArray]:  # noqa: ANN001
    """Emotion id -> probability over ESConv's eight strategies: the emotion's helpful
    strategies (taxonomies/emotions.yaml) counted through their `esconv` field, add-half
    smoothed. `calm` (the observer's reading when no emotion shows) stands for neutral."""
    out = {}
    for emotion in catalog.emotions.values():
        counts = np.full(N_LABELS, 0.5)
        for strategy_id in emotion.helpful_strategies:
            strategy = catalog.strategies.get(strategy_id)
            if strategy is not None:
                counts[LABELS.index(strategy.esconv)] += 1.0
        out[emotion.id] = counts / counts.sum()
    return out


@dataclass
class NextStrategyModel:
    """A loaded model: from `NextTurn`s and their emotion features to log-probabilities."""

    meta: NextStrategyMeta
    vectorizers: dict[str, TfidfVectorizer]
    coef: NDArray[np.float32]
    intercept: FloatArray
    prior: dict[str, FloatArray]
    file_sha256: str = ""

    @property
    def labels(self) -> list[str]:
        return self.meta.labels

    @property
    def version(self) -> str:
        return self.meta.version

    def log_proba(self, turns: Sequence[NextTurn], emotions: EmotionFeatures) -> FloatArray:
        """Log-probabilities of the next strategy (rows: turns, columns: `labels`)."""
        x = _features(self.vectorizers, turns, emotions, self.prior, self.meta.params)
        return log_softmax(np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept)

    def save(self, path: Path) -> None:
        arrays: dict[str, NDArray] = {}
        for block in _TEXTS:
            vectorizer = self.vectorizers.get(block)
            fitted = vectorizer is not None
            arrays[f"{block}_terms"] = _terms(vectorizer) if fitted else np.array([], dtype=str)
            arrays[f"{block}_idf"] = (
                vectorizer.idf_.astype(np.float32) if fitted else np.array([], dtype=np.float32)
            )
        arrays["coef"] = self.coef.astype(np.float32)
        arrays["intercept"] = self.intercept
        arrays["prior"] = np.array([self.prior[e] for e in self.meta.prior_emotions])
        write_model_file(path, self.meta, {name: arrays[name] for name in _ARRAYS})


def read_meta(path: Path) -> NextStrategyMeta:
    return read_model_meta_as(path, NextStrategyMeta, "next-strategy model")


def load_model(path: Path) -> NextStrategyModel:
    meta = read_meta(path)
    arrays = read_model_arrays(path, _ARRAYS)
    vectorizers: dict[str, TfidfVectorizer] = {}
    for block in _TEXTS if meta.params.text_weight else ():
        terms = arrays[f"{block}_terms"].tolist()
        vectorizer = _vectorizer(meta.params, vocabulary={t: i for i, t in enumerate(terms)})
        vectorizer.idf_ = arrays[f"{block}_idf"]
        vectorizers[block] = vectorizer
    prior = dict(zip(meta.prior_emotions, arrays["prior"], strict=True))
    width = len(dense(NextTurn(seeker=""), np.zeros(len(meta.families) + 1), np.zeros(N_LABELS)))
    width += sum(len(v.vocabulary_) for v in vectorizers.values())
    if arrays["coef"].shape != (len(meta.labels), width):
        raise DataError([f"{path}: damaged model file (array shapes do not match meta.json)"])
    return NextStrategyModel(
        meta=meta,
        vectorizers=vectorizers,
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        prior=prior,
        file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def train(
    turns: Sequence[NextTurn],
    emotions: EmotionFeatures,
    prior: Mapping[str, FloatArray],
    params: NextStrategyParams | None = None,
    *,
    families: Sequence[str],
    emotion_model: str,
    data_file: str = "",
    data_sha256: str = "",
    sources: Sequence[TrainingSource] = (),
    outcomes: Sequence[OutcomeCell] = (),
) -> NextStrategyModel:
    """Fit the model on labelled turns (`strategy`: one of ESConv's eight)."""
    params = params or NextStrategyParams()
    labels = list(LABELS)
    bad = [t.where or t.dialog for t in turns if t.strategy not in labels]
    if bad:
        raise DataError([f"{bad[0]}: strategy is not one of ESConv's eight ({', '.join(labels)})"])
    y = np.array([labels.index(t.strategy) for t in turns])  # type: ignore[arg-type]
    if len(turns) < 20 or len(set(y.tolist())) < 2:
        raise DataError([f"{data_file or 'turns'}: too few labelled turns to train on"])
    small = len(turns) < 2000  # tiny samples (tests): keep rare n-grams
    vectorizers = {
        block: _vectorizer(
            params, min_df=1 if small else params.min_df, max_features=params.max_terms
        )
        for block in _TEXTS
    }
    x = _features(vectorizers, turns, emotions, prior, params, fit=True)
    fitted = LogisticRegression(C=params.lr_c, max_iter=3000).fit(x, y)
    coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
    intercept = np.full(len(labels), -30.0)
    if len(fitted.classes_) == 2:  # one row for two classes
        coef[fitted.classes_[1]], intercept[fitted.classes_[1]] = fitted.coef_[0], 0.0
        coef[fitted.classes_[0]], intercept[fitted.classes_[0]] = 0.0, -fitted.intercept_[0]
    else:
        coef[fitted.classes_] = fitted.coef_
        intercept[fitted.classes_] = fitted.intercept_
    counts = np.bincount(y, minlength=len(labels))
    meta = NextStrategyMeta(
        code_version=CODE_VERSION,
        labels=labels,
        families=list(families),
        emotion_model=emotion_model,
        prior_emotions=sorted(prior),
        data_file=data_file,
        data_sha256=data_sha256,
        params=params,
        n_train=len(turns),
        n_dialogs=len({t.dialog for t in turns}),
        majority=[labels[k] for k in np.argsort(-counts, kind="stable")],
        sklearn_version=sklearn.__version__,
        sources=list(sources),
        outcomes=list(outcomes),
    )
    kept = {b: v for b, v in vectorizers.items() if params.text_weight}
    return NextStrategyModel(meta, kept, coef, intercept, {e: prior[e] for e in sorted(prior)})
