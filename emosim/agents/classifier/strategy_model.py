"""The trained strategy model: what strategy a supporter's utterance uses, learned from ESConv.

Features (each block a TF-IDF or a few dense numbers, concatenated):
- the utterance's word 1-2-grams (sublinear tf) and its first three words as their own
  n-grams ("how", "i understand", "have you": openings carry much of the strategy);
- the preceding seeker turn's word 1-2-grams, down-weighted (`context_weight`);
- shape: stage of the conversation (relative position in ten bins, absolute index up to 7),
  question marks, length, first- and second-person words, and how many of the utterance's
  content words repeat the seeker's (restatement and reflection reuse them).

One linear SVM per strategy (liblinear, one-vs-rest, classes weighted inversely to their
frequency, C = 0.1: chosen by 5-fold cross-validation by dialog on the train split). Calibration: the SVMs are refitted on
`calibration_folds` dialog-grouped folds, and a multinomial logistic regression over the
out-of-fold decision values turns the eight scores into probabilities (the confidence).
`balance` adds per-class offsets to the log-probabilities, chosen on the same out-of-fold rows
to maximise macro-F1, so small strategies (Information, Restatement) are named as often as the
data supports; the confidence stays the calibrated probability.

Deterministic: dialog-ordered folds, liblinear's fixed seed, lbfgs, and an .npz whose zip
entries carry a fixed timestamp. Same data and code give the same bytes (tested).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
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
from sklearn.svm import LinearSVC

from emosim.errors import DataError
from emosim.evals.esconv import LABELS
from emosim.schemas.common import StrictModel

from .esconv_train import StrategyExample
from .modelfile import read_model_arrays, read_model_meta_as, write_model_file
from .provenance import (
    ESCONV_ATTRIBUTION,
    ESCONV_LICENSE,
    HumanTextScore,
    TrainingSource,
)

CODE_VERSION = "strategy-svm-3"
"""Bump when features, training or calibration change: cached models are then rebuilt."""

FORMAT = "emosim-strategy-classifier"
NAME = "esconv-strategy"

_TEXTS = ("word", "opening", "context")
_ARRAYS = tuple(f"{b}_{k}" for b in _TEXTS for k in ("terms", "idf"))
_ARRAYS += ("coef", "intercept", "cal_coef", "cal_intercept", "offsets", "position_mean")
_TOKEN = r"(?u)\b\w+(?:'\w+)?\b|[!?]"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_STOP = frozenset(
    "the a an and or but to of in on at for with is are was were be been am i you it that this "
    "so do did have has had my your me we they he she them his her its not no yes just very "
    "really can will would could should about what how why when there here if as from by up "
    "out all".split()
)
N_POSITION = 10 + 8
N_SHAPE = N_POSITION + 11

FloatArray = NDArray[np.float64]


class StrategyParams(StrictModel):
    """What a strategy model was trained with; part of the cache key."""

    word_ngrams: tuple[int, int] = (1, 2)
    word_min_df: int = Field(default=2, ge=1)
    opening_words: int = Field(default=3, ge=0, description="0: no opening-words block.")
    opening_weight: float = Field(default=0.5, ge=0)
    context_weight: float = Field(default=0.5, ge=0, description="0: the seeker turn is unused.")
    shape_weight: float = Field(default=1.0, ge=0)
    svm_c: float = Field(default=0.1, gt=0)
    class_weight: Literal["none", "balanced"] = "balanced"
    calibration_folds: int = Field(default=5, ge=2)
    balance: bool = Field(default=True, description="Offsets that maximise macro-F1.")
    sample: int | None = Field(
        default=None, ge=50, description="Train on a seeded random sub-sample of this many rows."
    )
    seed: int = 0


class StrategyModelMeta(StrictModel):
    """Everything about a strategy model file except its arrays."""

    format: Literal["emosim-strategy-classifier"] = FORMAT
    name: str = NAME
    code_version: str
    labels: list[str] = Field(min_length=2, description="ESConv strategies, column order.")
    data_file: str
    data_sha256: str
    params: StrategyParams
    n_train: int
    n_dialogs: int
    sklearn_version: str
    license: str = ESCONV_LICENSE
    attribution: str = ESCONV_ATTRIBUTION
    sources: list[TrainingSource] = Field(default_factory=list)
    human_text: list[HumanTextScore] = Field(
        default_factory=list, description="Scores on human-labelled text measured at training."
    )

    @property
    def version(self) -> str:
        return f"{self.code_version}:{self.data_sha256[:12]}"

    def cache_key(self) -> tuple[str, str, str]:
        return (self.code_version, self.data_sha256, self.params.model_dump_json())


@dataclass(frozen=True)
class Evidence:
    """One feature that pushed the named strategy up: an n-gram, or a shape feature."""

    term: str
    source: Literal["reply", "opening", "context", "shape"]
    weight: float


def _vectorizer(block: str, params: StrategyParams, **kw: object) -> TfidfVectorizer:
    if block == "opening":
        return TfidfVectorizer(
            ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32, token_pattern=r"\S+", **kw
        )
    return TfidfVectorizer(
        ngram_range=params.word_ngrams if block == "word" else (1, 2),
        sublinear_tf=True,
        dtype=np.float32,
        token_pattern=_TOKEN,
        **kw,
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def opening(text: str, n: int) -> str:
    """The first `n` words, marked so they do not share n-grams with the word block."""
    return " ".join(f"^{w}" for w in _words(text)[:n])


SHAPE_NAMES = (
    *(f"stage {k / 10:.1f}-{(k + 1) / 10:.1f}" for k in range(10)),
    *(f"supporter utterance {k}" for k in range(7)),
    "supporter utterance 7+",
    "asks (?)",
    "ends with ?",
    "length",
    "continues own turn",
    "no seeker words before",
    "repeats seeker's words",
    "covers seeker's words",
    "says 'you'",
    "says 'I/my/me'",
    "says 'feel'",
    "says '!'",
)


def shape(example: StrategyExample, position_mean: FloatArray | None = None) -> list[float]:
    """The dense features of one example (names in SHAPE_NAMES). An example whose place in
    the dialog is unknown (a reply read on its own) gets the training rows' average position
    features (`position_mean`), so it is scored as an utterance of no particular stage."""
    row = [0.0] * N_SHAPE
    if example.index is None or not example.count:
        if position_mean is not None:
            row[:N_POSITION] = position_mean.tolist()
    else:
        rel = example.index / max(1, example.count - 1)
        row[min(9, int(rel * 10))] = 1.0
        row[10 + min(7, example.index)] = 1.0
    text = example.text
    words = _words(text)
    content = [w for w in words if w not in _STOP]
    seeker = {w for w in _words(example.context) if w not in _STOP}
    n = max(1, len(words))
    row[18:] = [
        float("?" in text),
        float(text.rstrip().endswith("?")),
        float(np.log1p(len(words)) / 4),
        float(example.follows_supporter),
        float(not example.context),
        sum(w in seeker for w in content) / max(1, len(content)),
        len(set(content) & seeker) / max(1, len(seeker)),
        words.count("you") / n,
        (words.count("i") + words.count("my") + words.count("me")) / n,
        float(any(w.startswith("feel") for w in words)),
        float("!" in text),
    ]
    return row


def _terms(vectorizer: TfidfVectorizer) -> NDArray[np.str_]:
    vocab = vectorizer.vocabulary_
    return np.array(sorted(vocab, key=vocab.__getitem__))


@dataclass
class StrategyModel:
    """A loaded model: from examples to calibrated strategy probabilities and evidence."""

    meta: StrategyModelMeta
    vectorizers: dict[str, TfidfVectorizer]
    coef: NDArray[np.float32]
    intercept: FloatArray
    cal_coef: FloatArray
    cal_intercept: FloatArray
    offsets: FloatArray
    position_mean: FloatArray
    file_sha256: str = ""  # of the file it was loaded from (label provenance)

    @property
    def labels(self) -> list[str]:
        return self.meta.labels

    @property
    def version(self) -> str:
        return self.meta.version

    def features(self, examples: Sequence[StrategyExample]) -> sparse.csr_matrix:
        return _features(self.vectorizers, examples, self.meta.params, self.position_mean)

    def decision(
        self, examples: Sequence[StrategyExample], features: sparse.csr_matrix | None = None
    ) -> FloatArray:
        matrix = self.features(examples) if features is None else features
        return np.asarray(matrix @ self.coef.T, dtype=np.float64) + self.intercept

    def log_proba(
        self, examples: Sequence[StrategyExample], features: sparse.csr_matrix | None = None
    ) -> FloatArray:
        """Calibrated log-probabilities (rows: examples, columns: labels)."""
        decision = self.decision(examples, features)
        return _log_softmax(decision @ self.cal_coef.T + self.cal_intercept)

    def predict(
        self, examples: Sequence[StrategyExample], features: sparse.csr_matrix | None = None
    ) -> tuple[list[str], FloatArray]:
        """The named strategy of each example and the calibrated probabilities (`features`:
        the examples' feature rows, when already computed)."""
        log_p = self.log_proba(examples, features)
        best = np.argmax(log_p + self.offsets, axis=1)
        return [self.labels[k] for k in best], np.exp(log_p)

    def evidence(
        self,
        example: StrategyExample,
        label: str,
        top: int = 3,
        row: sparse.csr_matrix | None = None,
    ) -> list[Evidence]:
        """The features that pushed `label` up the most for this example (largest first);
        `row`: its feature row, when already computed."""
        row = self.features([example]) if row is None else row
        k = self.labels.index(label)
        cols = row.indices
        contrib = row.data * self.coef[k, cols]
        order = np.argsort(-contrib, kind="stable")
        names = self._feature_names()
        # words first: a shape feature (length, stage) is named only when no n-gram speaks
        ranked = [i for i in order if contrib[i] > 0 and names[int(cols[i])][0] != "shape"]
        ranked = ranked or [i for i in order if contrib[i] > 0]
        out: list[Evidence] = []
        for i in ranked[:top]:
            source, term = names[int(cols[i])]
            out.append(Evidence(term=term, source=source, weight=round(float(contrib[i]), 3)))  # type: ignore[arg-type]
        return out

    def _feature_names(self) -> list[tuple[str, str]]:
        cached = getattr(self, "_names", None)
        if cached is None:
            cached = []
            for block, source in (
                ("word", "reply"),
                ("opening", "opening"),
                ("context", "context"),
            ):
                vectorizer = self.vectorizers.get(block)
                if vectorizer is not None:
                    terms = _terms(vectorizer)
                    if block == "opening":
                        terms = np.array([t.replace("^", "") for t in terms.tolist()])
                    cached += [(source, str(t)) for t in terms.tolist()]
            cached += [("shape", name) for name in SHAPE_NAMES]
            self._names = cached
        return cached

    # --- persistence ----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        arrays: dict[str, NDArray] = {}
        for block in _TEXTS:
            vectorizer = self.vectorizers.get(block)
            arrays[f"{block}_terms"] = (
                _terms(vectorizer) if vectorizer is not None else np.array([], dtype=str)
            )
            arrays[f"{block}_idf"] = (
                vectorizer.idf_.astype(np.float32)
                if vectorizer is not None
                else np.array([], dtype=np.float32)
            )
        arrays |= {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept,
            "cal_coef": self.cal_coef,
            "cal_intercept": self.cal_intercept,
            "offsets": self.offsets,
            "position_mean": self.position_mean,
        }
        write_model_file(path, self.meta, {name: arrays[name] for name in _ARRAYS})


def _log_softmax(scores: FloatArray) -> FloatArray:
    scores = scores - scores.max(axis=1, keepdims=True)
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def _blocks(params: StrategyParams) -> list[str]:
    blocks = ["word"]
    if params.opening_words and params.opening_weight:
        blocks.append("opening")
    if params.context_weight:
        blocks.append("context")
    return blocks


def _block_texts(block: str, examples: Sequence[StrategyExample], params: StrategyParams):
    if block == "word":
        return [e.text for e in examples]
    if block == "opening":
        return [opening(e.text, params.opening_words) for e in examples]
    return [e.context for e in examples]


def _features(
    vectorizers: dict[str, TfidfVectorizer],
    examples: Sequence[StrategyExample],
    params: StrategyParams,
    position_mean: FloatArray | None = None,
    *,
    fit: bool = False,
) -> sparse.csr_matrix:
    weights = {"word": 1.0, "opening": params.opening_weight, "context": params.context_weight}
    parts = []
    for block in _blocks(params):
        texts = _block_texts(block, examples, params)
        vectorizer = vectorizers[block]
        matrix = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
        parts.append(matrix * weights[block] if weights[block] != 1.0 else matrix)
    dense = np.array([shape(e, position_mean) for e in examples], dtype=np.float32)
    dense = dense.reshape(-1, N_SHAPE)
    parts.append(sparse.csr_matrix(dense * params.shape_weight))
    return sparse.hstack(parts, format="csr")


def read_model_meta(path: Path) -> StrategyModelMeta:
    """Only the metadata of a strategy model file (cheap: used to decide whether to rebuild)."""
    return read_model_meta_as(path, StrategyModelMeta, "strategy model")


def load_strategy_model(path: Path) -> StrategyModel:
    meta = read_model_meta(path)
    arrays = read_model_arrays(path, _ARRAYS)
    vectorizers: dict[str, TfidfVectorizer] = {}
    width = N_SHAPE
    for block in _blocks(meta.params):
        terms = arrays[f"{block}_terms"].tolist()
        vectorizer = _vectorizer(block, meta.params, vocabulary={t: i for i, t in enumerate(terms)})
        vectorizer.idf_ = arrays[f"{block}_idf"]
        vectorizers[block] = vectorizer
        width += len(terms)
    n_labels, n_features = arrays["coef"].shape
    if n_labels != len(meta.labels) or n_features != width:
        raise DataError([f"{path}: damaged model file (array shapes do not match meta.json)"])
    return StrategyModel(
        meta=meta,
        vectorizers=vectorizers,
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        cal_coef=arrays["cal_coef"],
        cal_intercept=arrays["cal_intercept"],
        offsets=arrays["offsets"],
        position_mean=arrays["position_mean"],
        file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


# --- training -----------------------------------------------------------------------------


def dialog_folds(examples: Sequence[StrategyExample], k: int) -> NDArray[np.int64]:
    """Fold number per example: whole dialogs, dealt round-robin in order of first appearance
    (deterministic, no shuffling; examples without a dialog each count as their own)."""
    order: dict[str, int] = {}
    fold = np.zeros(len(examples), dtype=np.int64)
    for i, example in enumerate(examples):
        key = example.dialog or f"#{i}"
        fold[i] = order.setdefault(key, len(order)) % k
    return fold


def _fit_svm(
    x: sparse.csr_matrix, y: NDArray[np.int64], n_labels: int, params: StrategyParams
) -> tuple[NDArray[np.float32], FloatArray]:
    svm = LinearSVC(
        C=params.svm_c,
        class_weight="balanced" if params.class_weight == "balanced" else None,
        dual=True,
        max_iter=5000,
        random_state=0,
    )
    svm.fit(x, y)
    coef = np.zeros((n_labels, x.shape[1]), dtype=np.float32)
    intercept = np.full(n_labels, -10.0)
    present = svm.classes_
    if len(present) == 2:  # liblinear gives one row for two classes
        coef[present[1]] = svm.coef_[0]
        coef[present[0]] = -svm.coef_[0]
        intercept[present[1]] = svm.intercept_[0]
        intercept[present[0]] = -svm.intercept_[0]
    else:
        coef[present] = svm.coef_
        intercept[present] = svm.intercept_
    return coef, intercept


def _position_mean(examples: Sequence[StrategyExample]) -> FloatArray:
    """Average position features of the examples whose place is known."""
    rows = [shape(e)[:N_POSITION] for e in examples if e.index is not None and e.count]
    return np.mean(rows, axis=0) if rows else np.zeros(N_POSITION)


def _fit_vectorizers(
    examples: Sequence[StrategyExample], params: StrategyParams, position_mean: FloatArray
) -> tuple[dict[str, TfidfVectorizer], sparse.csr_matrix]:
    small = len(examples) < 2000  # tiny samples (tests): keep rare n-grams
    vectorizers = {
        block: _vectorizer(block, params, min_df=1 if small else params.word_min_df)
        for block in _blocks(params)
    }
    return vectorizers, _features(vectorizers, examples, params, position_mean, fit=True)


def _macro_f1(gold: NDArray[np.int64], pred: NDArray[np.int64], n: int) -> float:
    scores = []
    for k in range(n):
        tp = np.sum((pred == k) & (gold == k))
        denom = np.sum(pred == k) + np.sum(gold == k)
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def _offsets(log_p: FloatArray, gold: NDArray[np.int64], rounds: int = 3) -> FloatArray:
    """Per-class log-probability offsets that maximise macro-F1 (coordinate ascent on a grid)."""
    n = log_p.shape[1]
    offsets = np.zeros(n)
    grid = np.round(np.arange(-1.5, 1.51, 0.1), 2)
    best = _macro_f1(gold, np.argmax(log_p, axis=1), n)
    for _ in range(rounds):
        changed = False
        for k in range(n):
            for value in grid:
                trial = offsets.copy()
                trial[k] = value
                score = _macro_f1(gold, np.argmax(log_p + trial, axis=1), n)
                if score > best + 1e-9:
                    best, offsets, changed = score, trial, True
        if not changed:
            break
    return offsets


def subsample_rows(examples: Sequence[StrategyExample], params: StrategyParams) -> list[int]:
    """The rows a `sample` param keeps (seeded, in file order); all rows without it."""
    rows = list(range(len(examples)))
    if params.sample is not None and params.sample < len(rows):
        rng = np.random.default_rng(params.seed)
        rows = sorted(rng.permutation(len(rows))[: params.sample].tolist())
    return rows


def train_strategy_model(
    examples: Sequence[StrategyExample],
    params: StrategyParams | None = None,
    *,
    data_file: str = "",
    data_sha256: str = "",
    sources: Sequence[TrainingSource] = (),
    license: str = ESCONV_LICENSE,
    attribution: str = ESCONV_ATTRIBUTION,
) -> StrategyModel:
    """Fit the model on labelled examples (`strategy`: one of ESConv's eight names).

    Examples from other sources (e.g. reviewed labels of a label store) can be mixed in; give
    the license and attribution of the data the model then inherits (`license=""` for a model
    trained only on the user's own labels).
    """
    params = params or StrategyParams()
    labels = list(LABELS)
    rows = subsample_rows(examples, params)
    chosen = [examples[i] for i in rows]
    bad = [
        f"{e.where or f'example {i}'}: strategy {e.strategy!r} is not one of ESConv's eight "
        f"({', '.join(labels)})"
        for i, e in zip(rows, chosen, strict=True)
        if e.strategy not in labels
    ]
    if bad:
        raise DataError(bad[:5] + ([f"... and {len(bad) - 5} more"] if len(bad) > 5 else []))
    y = np.array([labels.index(e.strategy) for e in chosen])  # type: ignore[arg-type]
    if len(chosen) < 20 or len(set(y.tolist())) < 2:
        raise DataError(
            [f"{data_file or 'examples'}: too few labelled utterances to train on ({len(chosen)})"]
        )
    position_mean = _position_mean(chosen)
    folds = dialog_folds(chosen, params.calibration_folds)
    out_of_fold = np.zeros((len(chosen), len(labels)))
    for k in range(params.calibration_folds):
        fit, held = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        if held.size == 0 or len(set(y[fit].tolist())) < 2:
            continue
        vectorizers, x = _fit_vectorizers([chosen[i] for i in fit], params, position_mean)
        coef, intercept = _fit_svm(x, y[fit], len(labels), params)
        held_x = _features(vectorizers, [chosen[i] for i in held], params, position_mean)
        out_of_fold[held] = np.asarray(held_x @ coef.T, dtype=np.float64) + intercept
    calibration = LogisticRegression(C=1.0, max_iter=2000).fit(out_of_fold, y)
    cal_coef = np.zeros((len(labels), len(labels)))
    cal_intercept = np.full(len(labels), -30.0)
    cal_coef[calibration.classes_] = calibration.coef_
    cal_intercept[calibration.classes_] = calibration.intercept_
    offsets = np.zeros(len(labels))
    if params.balance:
        log_p = _log_softmax(out_of_fold @ cal_coef.T + cal_intercept)
        offsets = _offsets(log_p, y)
    vectorizers, x = _fit_vectorizers(chosen, params, position_mean)
    coef, intercept = _fit_svm(x, y, len(labels), params)
    meta = StrategyModelMeta(
        code_version=CODE_VERSION,
        labels=labels,
        data_file=data_file,
        data_sha256=data_sha256,
        params=params,
        n_train=len(chosen),
        n_dialogs=len({e.dialog or f"#{i}" for i, e in enumerate(chosen)}),
        sklearn_version=sklearn.__version__,
        license=license,
        attribution=attribution,
        sources=list(sources),
    )
    return StrategyModel(
        meta, vectorizers, coef, intercept, cal_coef, cal_intercept, offsets, position_mean
    )
