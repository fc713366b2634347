"""The trained emotion model: TF-IDF word and character n-grams, one linear SVM per GoEmotions
label, Platt-calibrated probabilities and per-class thresholds.

Training is deterministic: a seeded split holds out `calibration_share` of the rows; the SVMs
are fitted on the rest, then on the held-out rows each label gets a Platt sigmoid (decision
value -> probability), an F1-maximising threshold, and one softmax temperature is fitted so
that the label distribution's confidence matches how often it is right. The file is written
as an .npz whose zip entries carry a fixed timestamp, so the same data and code give the same
bytes.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import sklearn
from joblib import Parallel, delayed
from numpy.typing import NDArray
from pydantic import Field, ValidationError
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.svm import LinearSVC

from emosim.errors import DataError
from emosim.files import atomic_writer
from emosim.schemas.common import StrictModel

from .goemotions import Example
from .provenance import (
    GOEMOTIONS_ATTRIBUTION,
    GOEMOTIONS_LICENSE,
    HumanTextScore,
    TrainingSource,
)

CODE_VERSION = "linear-svm-1"
"""Bump when features, training or calibration change: cached models are then rebuilt."""

FORMAT = "emosim-emotion-classifier"

ATTRIBUTION = GOEMOTIONS_ATTRIBUTION

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ARRAYS = ("word_terms", "word_idf", "char_terms", "char_idf", "coef", "intercept")
_ARRAYS += ("platt_a", "platt_b", "thresholds")

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
    calibration_share: float = Field(default=0.1, gt=0, lt=0.5)
    sample: int | None = Field(
        default=None, ge=50, description="Train on a seeded random sub-sample of this many rows."
    )
    seed: int = 0


class LabelCalibration(StrictModel):
    label: str
    positives: int = Field(description="Held-out rows carrying the label.")
    threshold: float = Field(description="Probability at which the label counts as present.")
    f1: float = Field(description="Held-out F1 of the label at that threshold.")


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
    n_train: int
    n_calibration: int
    temperature: float = Field(gt=0)
    calibration: list[LabelCalibration]
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
        }
        meta = self.meta.model_dump_json(indent=1).encode()
        with (
            atomic_writer(path, "wb") as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            info = zipfile.ZipInfo("meta.json", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, meta)
            for name in _ARRAYS:
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as entry:
                    np.lib.format.write_array(entry, arrays[name], allow_pickle=False)


def read_meta(path: Path) -> ModelMeta:
    """Only the metadata of a model file (cheap: used to decide whether to rebuild)."""
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("meta.json")
    except FileNotFoundError:
        raise DataError([f"{path}: model file not found"]) from None
    except (zipfile.BadZipFile, KeyError, IsADirectoryError) as exc:
        raise DataError([f"{path}: not an emosim classifier model ({exc})"]) from None
    try:
        return ModelMeta.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise DataError(
            [f"{path}: meta.json: {field}: {first['msg']} (not a model of this emosim version)"]
        ) from None


def load_model(path: Path) -> EmotionModel:
    meta = read_meta(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _ARRAYS}
    except (KeyError, ValueError, OSError) as exc:
        raise DataError([f"{path}: damaged model file ({exc})"]) from None
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
    if n_labels != len(meta.labels) or n_features != len(word.vocabulary) + len(char.vocabulary):
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
        file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


# --- training -----------------------------------------------------------------------------


def _split(n: int, params: TrainingParams) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    rng = np.random.default_rng(params.seed)
    order = rng.permutation(n)
    if params.sample is not None and params.sample < n:
        order = order[: params.sample]
    n_cal = max(1, int(round(len(order) * params.calibration_share)))
    return np.sort(order[n_cal:]), np.sort(order[:n_cal])


def _fit_label(features: sparse.csr_matrix, target: NDArray[np.int8], c: float):
    """One-vs-rest SVM for one label; a label with no positives is never predicted."""
    if target.min() == target.max():
        sign = 1.0 if target[0] else -1.0
        return np.zeros(features.shape[1], dtype=np.float32), 10.0 * sign
    svm = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0)
    svm.fit(features, target)
    return svm.coef_[0].astype(np.float32), float(svm.intercept_[0])


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
    fit_rows, cal_rows = _split(len(examples), params)
    if len(fit_rows) < 20:
        raise DataError([f"{data_file}: too few rows to train on ({len(examples)})"])
    targets = np.zeros((len(examples), len(labels)), dtype=np.int8)
    for row, example in enumerate(examples):
        targets[row, list(example.labels)] = 1
    texts = [e.text for e in examples]
    fit_texts = [texts[i] for i in fit_rows]
    cal_texts = [texts[i] for i in cal_rows]
    small = len(fit_rows) < 2000  # tiny samples: keep rare n-grams, min_df would drop all
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
    fit_x = sparse.hstack([word.fit_transform(fit_texts), char.fit_transform(fit_texts)]).tocsr()
    fit_y = targets[fit_rows]
    # Processes, not threads: liblinear's random generator is one global per process, so
    # threads sharing it would make the coefficients differ from run to run.
    # Small samples (tests) fit faster in-process than worker start-up takes.
    workers = workers or (1 if len(fit_rows) < 10000 else min(2, os.cpu_count() or 1))
    fitted = Parallel(n_jobs=workers)(
        delayed(_fit_label)(fit_x, fit_y[:, k], params.svm_c) for k in range(len(labels))
    )
    coef = np.vstack([w for w, _ in fitted])
    intercept = np.array([b for _, b in fitted], dtype=np.float64)
    cal_y = targets[cal_rows]
    cal_x = sparse.hstack([word.transform(cal_texts), char.transform(cal_texts)]).tocsr()
    decision = np.asarray(cal_x @ coef.T, dtype=np.float64) + intercept
    platt = [_platt(decision[:, k], cal_y[:, k]) for k in range(len(labels))]
    platt_a = np.array([a for a, _ in platt])
    platt_b = np.array([b for _, b in platt])
    logits = decision * platt_a + platt_b
    cuts = [_threshold(logits[:, k], cal_y[:, k]) for k in range(len(labels))]
    thresholds = np.array([t for t, _ in cuts])
    temperature = _temperature(logits - thresholds, cal_y)
    meta = ModelMeta(
        code_version=CODE_VERSION,
        labels=labels,
        ekman=ekman or {},
        data_file=data_file,
        data_sha256=data_sha256,
        params=params,
        n_train=len(fit_rows),
        n_calibration=len(cal_rows),
        temperature=round(temperature, 6),
        calibration=[
            LabelCalibration(
                label=label,
                positives=int(cal_y[:, k].sum()),
                threshold=round(float(1 / (1 + np.exp(-cuts[k][0]))), 4),
                f1=round(cuts[k][1], 4),
            )
            for k, label in enumerate(labels)
        ],
        sklearn_version=sklearn.__version__,
    )
    return EmotionModel(meta, word, char, coef, intercept, platt_a, platt_b, thresholds)
