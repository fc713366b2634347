"""The trained emotion model: TF-IDF word and character n-grams, one linear SVM per GoEmotions
label and one per Ekman group (+ neutral), Platt-calibrated probabilities and per-class
thresholds.

Training is cross-fitted and deterministic: the rows are dealt into `folds` seeded folds; every
head (label or group) is fitted once per fold on the other folds, which gives an out-of-fold
score for every row, and once on all rows (the head that is kept). On the out-of-fold scores
each head gets a Platt sigmoid (decision value -> probability) and an F1-maximising threshold,
and one softmax temperature is fitted so that the label distribution's confidence matches how
often it is right. So calibration sees every row, and the kept heads are fitted on every row.
The Ekman heads exist because a group is not the sum of its labels' thresholded decisions:
trained on the groups directly they score higher on them (see README.md).

The file is an .npz whose zip entries carry a fixed timestamp, so the same data and code give
the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import sklearn
from joblib import Parallel, delayed
from numpy.typing import NDArray
from pydantic import Field
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.svm import LinearSVC

from emosim.errors import DataError
from emosim.schemas.common import StrictModel

from .goemotions import Example
from .mappings import NEUTRAL
from .modelfile import read_model_arrays, read_model_meta_as, write_model_file
from .provenance import (
    GOEMOTIONS_ATTRIBUTION,
    GOEMOTIONS_LICENSE,
    HumanTextScore,
    TrainingSource,
)

CODE_VERSION = "linear-svm-2"
"""Bump when features, training or calibration change: cached models are then rebuilt."""

FORMAT = "emosim-emotion-classifier"

ATTRIBUTION = GOEMOTIONS_ATTRIBUTION

_ARRAYS = ("word_terms", "word_idf", "char_terms", "char_idf", "coef", "intercept")
_ARRAYS += ("platt_a", "platt_b", "thresholds")
_GROUP_ARRAYS = ("coef", "intercept", "platt_a", "platt_b", "thresholds")
_ARRAYS += tuple(f"group_{name}" for name in _GROUP_ARRAYS)

FloatArray = NDArray[np.float64]


class TrainingParams(StrictModel):
    """What a model was trained with; part of the cache key."""

    word_ngrams: tuple[int, int] = (1, 2)
    word_max_features: int = Field(default=30000, ge=1)
    word_min_df: int = Field(default=2, ge=1)
    char_ngrams: tuple[int, int] = (2, 4)
    char_max_features: int = Field(default=40000, ge=1)
    char_min_df: int = Field(default=3, ge=1)
    svm_c: float = Field(default=0.1, gt=0)
    folds: int = Field(
        default=4, ge=2, le=10, description="Cross-fitting folds for calibration and thresholds."
    )
    ekman_heads: bool = Field(
        default=True, description="Also train one head per Ekman group (+ neutral)."
    )
    sample: int | None = Field(
        default=None, ge=50, description="Train on a seeded random sub-sample of this many rows."
    )
    seed: int = 0


class LabelCalibration(StrictModel):
    label: str
    positives: int = Field(description="Training rows carrying the label.")
    threshold: float = Field(description="Probability at which the label counts as present.")
    f1: float = Field(description="Out-of-fold F1 of the label at that threshold.")


class ModelMeta(StrictModel):
    """Everything about a model file except its arrays."""

    format: Literal["emosim-emotion-classifier"] = FORMAT
    code_version: str
    labels: list[str] = Field(min_length=2)
    ekman: dict[str, str] = Field(
        default_factory=dict, description="GoEmotions label -> Ekman group, from training data."
    )
    data_file: str
    data_sha256: str
    params: TrainingParams
    n_train: int = Field(description="Rows the kept heads were fitted on.")
    n_calibration: int = Field(
        default=0,
        description="Rows held out for calibration only (0: calibrated out-of-fold, see folds).",
    )
    temperature: float = Field(gt=0)
    calibration: list[LabelCalibration]
    groups: list[str] = Field(
        default_factory=list, description="Classes of the Ekman heads (empty: none trained)."
    )
    group_calibration: list[LabelCalibration] = Field(default_factory=list)
    cv_macro_f1: float | None = Field(
        default=None,
        description="Label macro-F1 cross-validated on the training rows: each fold scored "
        "with thresholds chosen on the other folds' out-of-fold scores (not on its own).",
    )
    cv_group_macro_f1: float | None = Field(
        default=None, description="The same for the Ekman heads (None: no heads)."
    )
    sklearn_version: str
    attribution: str = ATTRIBUTION
    license: str = GOEMOTIONS_LICENSE
    sources: list[TrainingSource] = Field(
        default_factory=list,
        description="What the model was trained on, with each source's licenses (provenance.py).",
    )
    human_text: list[HumanTextScore] = Field(
        default_factory=list, description="Scores on human-labelled text measured at training."
    )

    def cache_key(self) -> tuple[str, str, str]:
        return (self.code_version, self.data_sha256, self.params.model_dump_json())


def _vectorizer(kind: Literal["word", "char"], params: TrainingParams, **kw: object):
    if kind == "word":
        return TfidfVectorizer(
            ngram_range=params.word_ngrams,
            sublinear_tf=True,
            dtype=np.float32,
            token_pattern=r"(?u)\b\w+(?:'\w+)?\b|[!?]",
            **kw,
        )
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=params.char_ngrams,
        sublinear_tf=True,
        dtype=np.float32,
        **kw,
    )


def _terms(vectorizer: TfidfVectorizer) -> NDArray[np.str_]:
    vocab = vectorizer.vocabulary_
    return np.array(sorted(vocab, key=vocab.__getitem__))


@dataclass
class EmotionModel:
    """A loaded model: from texts to per-label margins, probabilities and a distribution."""

    meta: ModelMeta
    word: TfidfVectorizer
    char: TfidfVectorizer
    coef: NDArray[np.float32]
    intercept: FloatArray
    platt_a: FloatArray
    platt_b: FloatArray
    thresholds: FloatArray  # log-odds
    group_coef: NDArray[np.float32]  # Ekman heads, rows as meta.groups (0 rows: none)
    group_intercept: FloatArray
    group_platt_a: FloatArray
    group_platt_b: FloatArray
    group_thresholds: FloatArray
    file_sha256: str = ""  # of the file it was loaded from (label provenance)

    @property
    def labels(self) -> list[str]:
        return self.meta.labels

    @property
    def version(self) -> str:
        return f"{self.meta.code_version}:{self.meta.data_sha256[:12]}"

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)]).tocsr()

    def decision(self, texts: list[str]) -> FloatArray:
        return np.asarray(self.features(texts) @ self.coef.T, dtype=np.float64) + self.intercept

    def logits(self, texts: list[str]) -> FloatArray:
        """Calibrated log-odds that each label applies (rows: texts, columns: labels)."""
        return self.decision(texts) * self.platt_a + self.platt_b

    def margins(self, texts: list[str]) -> FloatArray:
        """How far each label's log-odds is above its threshold: > 0 means predicted."""
        return self.logits(texts) - self.thresholds

    @property
    def groups(self) -> list[str]:
        return self.meta.groups

    def group_margins(self, texts: list[str]) -> FloatArray:
        """Per Ekman head (columns: `groups`): calibrated log-odds minus its threshold."""
        return self.all_margins(texts)[1]

    def all_margins(self, texts: list[str]) -> tuple[FloatArray, FloatArray]:
        """Label margins and Ekman-head margins from one pass over the features (batch path:
        the features are most of the cost)."""
        x = self.features(texts)
        labels = np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept
        groups = np.asarray(x @ self.group_coef.T, dtype=np.float64) + self.group_intercept
        return (
            labels * self.platt_a + self.platt_b - self.thresholds,
            groups * self.group_platt_a + self.group_platt_b - self.group_thresholds,
        )

    def distribution(self, margins: FloatArray) -> FloatArray:
        """One probability distribution over labels per row (tempered softmax of margins)."""
        scaled = margins / self.meta.temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        weights = np.exp(scaled)
        return weights / weights.sum(axis=1, keepdims=True)

    # --- persistence ----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        arrays = {
            "word_terms": _terms(self.word),
            "word_idf": self.word.idf_.astype(np.float32),
            "char_terms": _terms(self.char),
            "char_idf": self.char.idf_.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept,
            "platt_a": self.platt_a,
            "platt_b": self.platt_b,
            "thresholds": self.thresholds,
            "group_coef": self.group_coef.astype(np.float32),
            "group_intercept": self.group_intercept,
            "group_platt_a": self.group_platt_a,
            "group_platt_b": self.group_platt_b,
            "group_thresholds": self.group_thresholds,
        }
        write_model_file(path, self.meta, {name: arrays[name] for name in _ARRAYS})


def read_meta(path: Path) -> ModelMeta:
    """Only the metadata of a model file (cheap: used to decide whether to rebuild)."""
    return read_model_meta_as(path, ModelMeta, "classifier model")


def load_model(path: Path) -> EmotionModel:
    meta = read_meta(path)
    arrays = read_model_arrays(path, _ARRAYS)
    params = meta.params
    word = _vectorizer(
        "word", params, vocabulary={t: i for i, t in enumerate(arrays["word_terms"].tolist())}
    )
    word.idf_ = arrays["word_idf"]
    char = _vectorizer(
        "char", params, vocabulary={t: i for i, t in enumerate(arrays["char_terms"].tolist())}
    )
    char.idf_ = arrays["char_idf"]
    n_labels, n_features = arrays["coef"].shape
    n_groups, n_group_features = arrays["group_coef"].shape
    if (
        n_labels != len(meta.labels)
        or n_features != len(word.vocabulary) + len(char.vocabulary)
        or n_groups != len(meta.groups)
        or (n_groups and n_group_features != n_features)
    ):
        raise DataError([f"{path}: damaged model file (array shapes do not match meta.json)"])
    return EmotionModel(
        meta=meta,
        word=word,
        char=char,
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        platt_a=arrays["platt_a"],
        platt_b=arrays["platt_b"],
        thresholds=arrays["thresholds"],
        **{f"group_{name}": arrays[f"group_{name}"] for name in _GROUP_ARRAYS},
        file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


# --- training -----------------------------------------------------------------------------


def _rows(n: int, params: TrainingParams) -> NDArray[np.int64]:
    """The rows trained on: all, or a seeded random sub-sample of `params.sample`."""
    if params.sample is None or params.sample >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(params.seed).permutation(n)[: params.sample])


def _fold_of(n: int, params: TrainingParams) -> NDArray[np.int64]:
    """Seeded fold of each row, as even as can be."""
    order = np.random.default_rng(params.seed + 1).permutation(n)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) % params.folds
    return fold


def _fit_head(features: sparse.csr_matrix, target: NDArray[np.int8], c: float):
    """One-vs-rest SVM for one head; a head with no positives is never predicted."""
    if target.min() == target.max():
        sign = 1.0 if target[0] else -1.0
        return np.zeros(features.shape[1], dtype=np.float32), 10.0 * sign
    svm = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0)
    svm.fit(features, target)
    return svm.coef_[0].astype(np.float32), float(svm.intercept_[0])


def _fit_heads(
    features: sparse.csr_matrix,
    targets: NDArray[np.int8],
    usable: NDArray[np.bool_],
    heads: list[int],
    c: float,
) -> list[tuple[NDArray[np.float32], float]]:
    """The given heads fitted on the rows each can use (all rows are the common case)."""
    fitted = []
    for k in heads:
        keep = usable[:, k]
        if keep.all():
            fitted.append(_fit_head(features, targets[:, k], c))
        else:
            fitted.append(_fit_head(features[keep], targets[keep, k], c))
    return fitted


def _platt(decision: FloatArray, target: NDArray[np.int8]) -> tuple[float, float]:
    if target.min() == target.max():
        return 1.0, 0.0
    fit = LogisticRegression(C=100.0).fit(decision.reshape(-1, 1), target)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _threshold(logit: FloatArray, target: NDArray[np.int8]) -> tuple[float, float]:
    """F1-maximising log-odds threshold, set midway to the next lower score (not on a row)."""
    if target.sum() == 0:
        return 0.0, 0.0
    precision, recall, cuts = precision_recall_curve(target, logit)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1]))
    lower = logit[logit < cuts[best]]
    cut = (cuts[best] + lower.max()) / 2 if lower.size else cuts[best] - 0.5
    return float(cut), float(f1[best])


def _temperature(margins: FloatArray, gold: NDArray[np.int8]) -> float:
    """Softmax temperature that best predicts 'one of the gold labels' on held-out rows."""

    def loss(log_t: float) -> float:
        scaled = margins / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(scaled).sum(axis=1))
        hit = np.log((np.exp(scaled) * gold).sum(axis=1) + 1e-12)
        return float((log_z - hit).mean())

    result = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def group_targets(
    examples: list[Example], labels: list[str], ekman: dict[str, str]
) -> tuple[list[str], NDArray[np.int8], NDArray[np.bool_]]:
    """Ekman groups + neutral, each row's gold groups, and which rows have any.

    A label outside the mapping and not `neutral` (e.g. one learned from a label store) has no
    group: a row with only such labels is left out of the group heads, not read as negative.
    """
    groups = [*sorted(set(ekman.values())), NEUTRAL]
    column = {label: groups.index(ekman.get(label, NEUTRAL)) for label in labels}
    column = {label: k for label, k in column.items() if label in ekman or label == NEUTRAL}
    targets = np.zeros((len(examples), len(groups)), dtype=np.int8)
    for row, example in enumerate(examples):
        for index in example.labels:
            if labels[index] in column:
                targets[row, column[labels[index]]] = 1
    return groups, targets, targets.any(axis=1)


def _calibrate(
    oof: FloatArray, targets: NDArray[np.int8], usable: NDArray[np.bool_], names: list[str]
) -> tuple[FloatArray, FloatArray, FloatArray, list[LabelCalibration]]:
    """Per head, on its out-of-fold scores: Platt sigmoid, then the F1-maximising threshold."""
    platt = [_platt(oof[usable[:, k], k], targets[usable[:, k], k]) for k in range(len(names))]
    platt_a = np.array([a for a, _ in platt])
    platt_b = np.array([b for _, b in platt])
    logits = oof * platt_a + platt_b
    cuts = [
        _threshold(logits[usable[:, k], k], targets[usable[:, k], k]) for k in range(len(names))
    ]
    thresholds = np.array([t for t, _ in cuts])
    calibration = [
        LabelCalibration(
            label=name,
            positives=int(targets[usable[:, k], k].sum()),
            threshold=round(float(1 / (1 + np.exp(-cuts[k][0]))), 4),
            f1=round(cuts[k][1], 4),
        )
        for k, name in enumerate(names)
    ]
    return platt_a, platt_b, thresholds, calibration


def _cv_macro_f1(
    logits: FloatArray,
    targets: NDArray[np.int8],
    usable: NDArray[np.bool_],
    fold: NDArray[np.int64],
    folds: int,
) -> float:
    """Macro-F1 of the predicted sets (heads above threshold, else the top head), each fold
    scored with thresholds chosen on the other folds' scores: the figure a user can expect,
    where the F1 of `_calibrate` (thresholds chosen on the scored rows) is optimistic.

    Rows with no usable head (e.g. store-only labels for the Ekman heads) are left out.
    """
    rows = usable.all(axis=1)
    logits, targets, fold = logits[rows], targets[rows], fold[rows]
    predicted = np.zeros_like(targets)
    for f in range(folds):
        held, rest = fold == f, fold != f
        cuts = np.array(
            [_threshold(logits[rest, k], targets[rest, k])[0] for k in range(targets.shape[1])]
        )
        margins = logits[held] - cuts
        chosen = (margins > 0).astype(np.int8)
        empty = chosen.sum(axis=1) == 0
        chosen[empty, margins[empty].argmax(axis=1)] = 1
        predicted[held] = chosen
    tp = (predicted & targets).sum(axis=0)
    denominator = predicted.sum(axis=0) + targets.sum(axis=0)
    present = denominator > 0
    return round(float(np.mean(2 * tp[present] / denominator[present])), 4)


def train_model(
    examples: list[Example],
    labels: list[str],
    *,
    params: TrainingParams,
    data_file: str,
    data_sha256: str,
    ekman: dict[str, str] | None = None,
    workers: int | None = None,
) -> EmotionModel:
    """Train on labelled examples (`Example.labels` index `labels`): the entry point for any
    data, GoEmotions' own or a label store's rows added to it (retrain.py).

    `ekman` (GoEmotions label -> group) adds the Ekman heads when `params.ekman_heads` and
    `labels` holds `neutral`; `params.sample` trains on a seeded sub-sample of `examples`.
    """
    chosen = _rows(len(examples), params)
    if len(chosen) < 20:
        raise DataError([f"{data_file}: too few rows to train on ({len(examples)})"])
    rows = [examples[i] for i in chosen]
    targets = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for row, example in enumerate(rows):
        targets[row, list(example.labels)] = 1
    usable = np.ones_like(targets, dtype=bool)
    groups: list[str] = []
    if ekman and params.ekman_heads and NEUTRAL in labels:
        groups, group_y, has_group = group_targets(rows, labels, ekman)
        if has_group.sum() < 20:  # e.g. a label store's rows alone: no GoEmotions groups
            groups = []
        else:
            targets = np.hstack([targets, group_y])
            usable = np.hstack([usable, np.repeat(has_group[:, None], len(groups), axis=1)])
    texts = [e.text for e in rows]
    small = len(rows) < 2000  # tiny samples: keep rare n-grams, min_df would drop all
    word = _vectorizer(
        "word",
        params,
        max_features=params.word_max_features,
        min_df=1 if small else params.word_min_df,
    )
    char = _vectorizer(
        "char",
        params,
        max_features=params.char_max_features,
        min_df=1 if small else params.char_min_df,
    )
    features = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    fold = _fold_of(len(rows), params)
    # Processes, not threads: liblinear's random generator is one global per process, so
    # threads sharing it would make the coefficients differ from run to run.
    # Small samples (tests) fit faster in-process than worker start-up takes.
    workers = workers or (1 if len(rows) < 10000 else min(2, os.cpu_count() or 1))
    n_heads = targets.shape[1]
    chunks = [list(range(k, n_heads, 4)) for k in range(min(4, n_heads))]
    splits = [fold != f for f in range(params.folds)] + [np.ones(len(rows), dtype=bool)]
    jobs = [(split, heads) for split in splits for heads in chunks]
    c = params.svm_c
    results = iter(
        Parallel(n_jobs=workers)(
            delayed(_fit_heads)(features[split], targets[split], usable[split], heads, c)
            for split, heads in jobs
        )
    )
    fitted: list[tuple[NDArray[np.float32], FloatArray]] = []
    for _ in splits:
        by_head = {k: fit for heads in chunks for k, fit in zip(heads, next(results), strict=True)}
        coef = np.vstack([by_head[k][0] for k in range(n_heads)])
        fitted.append((coef, np.array([by_head[k][1] for k in range(n_heads)])))
    oof = np.zeros(targets.shape)
    for f, (coef, intercept) in enumerate(fitted[:-1]):
        held = fold == f
        oof[held] = np.asarray(features[held] @ coef.T, dtype=np.float64) + intercept
    coef, intercept = fitted[-1]
    n = len(labels)
    platt_a, platt_b, thresholds, calibration = _calibrate(oof, targets, usable, labels + groups)
    temperature = _temperature(
        oof[:, :n] * platt_a[:n] + platt_b[:n] - thresholds[:n], targets[:, :n]
    )
    logits = oof * platt_a + platt_b
    cv_labels = _cv_macro_f1(logits[:, :n], targets[:, :n], usable[:, :n], fold, params.folds)
    cv_groups = (
        _cv_macro_f1(logits[:, n:], targets[:, n:], usable[:, n:], fold, params.folds)
        if groups
        else None
    )
    meta = ModelMeta(
        code_version=CODE_VERSION,
        labels=labels,
        ekman=ekman or {},
        data_file=data_file,
        data_sha256=data_sha256,
        params=params,
        n_train=len(rows),
        temperature=round(temperature, 6),
        calibration=calibration[:n],
        groups=groups,
        group_calibration=calibration[n:],
        cv_macro_f1=cv_labels,
        cv_group_macro_f1=cv_groups,
        sklearn_version=sklearn.__version__,
    )
    return EmotionModel(
        meta,
        word,
        char,
        coef[:n],
        intercept[:n],
        platt_a[:n],
        platt_b[:n],
        thresholds[:n],
        group_coef=coef[n:],
        group_intercept=intercept[n:],
        group_platt_a=platt_a[n:],
        group_platt_b=platt_b[n:],
        group_thresholds=thresholds[n:],
    )
