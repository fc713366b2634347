"""The learned choice among the answer index's best candidates, and whether to answer at all.

The index's scores (retrieval.py) rank bank questions well: the right one is among the first
three for almost every paraphrase. What a single score and threshold decide badly is the
rest: which of two close candidates is asked, and whether the bank answers the message at
all. A small logistic regression over a few features of each of the best `TOP` candidates
(its score and gap to the best, each view's cosine, topic, follow-up and intent agreement,
how much of the message the candidate covers and how much of the candidate the message
covers, words the bank never uses) gives each candidate the probability that its answer fits;
the most probable answers when that probability reaches the model's threshold.

The weights are data (agents/scripted/answer_ranker.yaml), trained by `python -m
emosim.agents.scripted.ranker` on what the index was not built from: each planner phrasing
(agents/scripted/asked_as/) asked of an index built without its fold of phrasings, the dev
split of the paraphrase set (data/paraphrases/answer_bank.yaml), with its off-bank questions
(dev-3 was written for this). The threshold is the one of best cross-validated dev accuracy
that matches at most `MAX_FALSE_MATCH` of dev's off-bank questions. The test splits are
never read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator

from emosim.files import atomic_writer, dump_yaml, load_yaml_model
from emosim.paths import project_root
from emosim.schemas.common import StrictModel

from .retrieval import AnswerIndex, Scored

RANKER_FILE = Path("agents") / "scripted" / "answer_ranker.yaml"
DEV_WEIGHT = 10.0  # a dev message counts as this many phrasings: it is how clients write
MAX_FALSE_MATCH = 0.08  # of dev's off-bank questions, cross-validated (the target is 0.10)
FOLDS = 5
SEED = 7
TOP = 8  # candidates the ranker weighs: the right one is among them for ~99% of messages

FEATURES = (
    "score",  # the index's score (views weighted, plus bonuses)
    "gap",  # the score less the best score
    "log_rank",  # log(1 + rank by score)
    "word",  # cosine of content stems and stem pairs, closest wording
    "char",  # cosine of character n-grams, closest wording
    "answer",  # cosine with the answers' words
    "pooled",  # cosine with all wordings pooled
    "same_topic",  # the question is of the conversation's topic, or a follow-up (any topic)
    "follow_up",  # a follow-up, which fits any topic
    "same_intent",  # it asks for the same kind of answer (an amount, a time...)
    "coverage",  # share of what is asked (idf-weighted) the question or its answers hold
    "recall",  # share of the closest wording's words (idf-weighted) the message holds
    "unknown",  # words of what is asked that no wording or answer uses (at most 3)
    "log_words",  # log(1 + the message's content words)
    "lead",  # the score less the best score of another answer (the first: its lead)
    "asks",  # the message has a question mark
    "known",  # share of what is asked that some wording or answer uses
    "no_topic",  # the conversation has no topic (same_topic says nothing)
)


class RankerFile(StrictModel):
    """A trained ranker: standardized features, logistic weights and the answer threshold."""

    version: str = Field(description="File version.")
    trained_on: str = Field(description="What the weights were fit on (counts, never test).")
    features: list[str] = Field(description="Feature names, in the order of the weights.")
    mean: list[float] = Field(description="Feature means on the training rows.")
    scale: list[float] = Field(description="Feature standard deviations on the training rows.")
    weights: list[float] = Field(description="Logistic weights of the standardized features.")
    intercept: float
    threshold: float = Field(ge=0.0, le=1.0, description="Least probability to answer.")

    @model_validator(mode="after")
    def _lengths(self) -> RankerFile:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.weights) == n):
            raise ValueError("features, mean, scale and weights must have the same length")
        return self


@dataclass(frozen=True)
class Ranker:
    """A trained ranker (see the module docstring)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float

    @classmethod
    def from_file(cls, data: RankerFile, path: Path | str = RANKER_FILE) -> Ranker:
        if tuple(data.features) != FEATURES:
            from emosim.errors import DataError

            raise DataError(
                [
                    f"{path}: features: {data.features} are not the code's {list(FEATURES)}; "
                    "retrain with `python -m emosim.agents.scripted.ranker`"
                ]
            )
        return cls(
            np.asarray(data.mean),
            np.where(np.asarray(data.scale) > 0, np.asarray(data.scale), 1.0),
            np.asarray(data.weights),
            data.intercept,
            data.threshold,
        )

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def choose(self, index: AnswerIndex, scored: Scored) -> tuple[int | None, float]:
        """The bank question to answer with and its probability; None when none reaches
        the threshold."""
        ids, rows = candidate_features(index, scored)
        probs = self.probabilities(rows)
        best = int(np.argmax(probs))
        p = float(probs[best])
        return (int(ids[best]) if p >= self.threshold else None), p


def ranker_path() -> Path:
    """The ranker file of the project, else of this checkout."""
    path = project_root() / RANKER_FILE
    return path if path.is_file() else Path(__file__).resolve().parents[3] / RANKER_FILE


def load_ranker(path: Path | None = None) -> Ranker:
    path = path or ranker_path()
    return Ranker.from_file(load_yaml_model(path, RankerFile), path)


# --- features ---------------------------------------------------------------------------------


def candidate_features(index: AnswerIndex, scored: Scored) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the best `TOP` questions by score and their feature rows (FEATURES)."""
    scores = scored.scores
    k = min(TOP, len(scores))
    ids = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    ids = ids[np.argsort(-scores[ids], kind="stable")]
    top = float(scores[ids[0]])
    log_words = math.log1p(len(scored.stems))
    asks = float(scored.asks)
    known = 1.0 - scored.unknown / len(scored.asked) if scored.asked else 0.0
    templates = [index.entries[int(j)].template for j in ids]
    rows = np.empty((k, len(FEATURES)))
    for rank, j in enumerate(ids):
        j = int(j)
        rows[rank] = (
            scores[j],
            scores[j] - top,
            math.log1p(rank),
            scored.views["word"][j],
            scored.views["char"][j],
            scored.views["answer"][j],
            scored.views["pooled"][j],
            float(scored.topic is not None and index.entries[j].topic in (scored.topic, None)),
            float(index.entries[j].topic is None),
            float(bool(scored.intent) and index.intent_of(j) == scored.intent),
            index.coverage(scored.asked, j),
            index.recall(scored.stems, j),
            min(scored.unknown, 3),
            log_words,
            scores[j]
            - next(
                (
                    float(scores[i])
                    for i, t in zip(ids, templates, strict=True)
                    if t is not index.entries[j].template
                ),
                0.0,
            ),
            asks,
            known,
            float(scored.topic is None),
        )
    return ids, rows


# --- training ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A message for training or measuring: its conversation topic and the bank questions
    whose answers fit (empty: the bank has no answer)."""

    text: str
    topic: str | None
    accepted: frozenset[str]
    group: str  # where it comes from (phrasings, dev, off-bank), for the report


def example_rows(
    index: AnswerIndex, examples: Iterable[Example]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Example]]:
    """Feature rows, labels (1: the candidate's answer fits) and the message number of each
    row, for messages the index scores by meaning (exact and pattern matches are skipped)."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    qs: list[np.ndarray] = []
    kept: list[Example] = []
    for ex in examples:
        if index.literal(ex.text) is not None:
            continue
        scored = index.scored(ex.text, ex.topic)
        if scored is None:
            continue
        ids, rows = candidate_features(index, scored)
        xs.append(rows)
        ys.append(np.asarray([index.entries[int(j)].question in ex.accepted for j in ids]))
        qs.append(np.full(len(ids), len(kept)))
        kept.append(ex)
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=int), kept
    return np.vstack(xs), np.concatenate(ys).astype(float), np.concatenate(qs), kept


def fit(
    rows: np.ndarray, labels: np.ndarray, c: float = 1.0, weight: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Mean, scale, weights and intercept of a logistic regression on standardized rows."""
    from sklearn.linear_model import LogisticRegression

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((rows - mean) / scale, labels, sample_weight=weight)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def decisions(
    probs: np.ndarray, labels: np.ndarray, message: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per message: the best candidate's probability and whether that candidate fits."""
    best_p = np.full(n, -1.0)
    best_ok = np.zeros(n, dtype=bool)
    for p, y, q in zip(probs, labels, message, strict=True):
        if p > best_p[q]:
            best_p[q], best_ok[q] = p, bool(y)
    return best_p, best_ok


def write_ranker(path: Path, data: RankerFile) -> None:
    with atomic_writer(path) as fh:
        fh.write(
            "# The answer index's learned ranker (emosim/agents/scripted/ranker.py), written by\n"
            "# `python -m emosim.agents.scripted.ranker`; do not edit by hand: retrain.\n"
        )
        fh.write(dump_yaml(data.model_dump()))


# --- the training command ---------------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    """What `train` fit, and its cross-validated figures on dev (for the report)."""

    data: RankerFile
    dev_accuracy: float
    dev_false_match_rate: float
    phrasing_accuracy: float  # held-out phrasings answered right (no threshold)
    phrasing_top_score: float  # the same by the index's best score alone


def training_examples(
    index: AnswerIndex, root: Path, paraphrases: Path | None = None
) -> list[tuple[AnswerIndex, list[Example], int]]:
    """(index, messages, fold) groups: each planner phrasing asked of an index built without
    its fold of phrasings, and the dev split of the paraphrase set asked of `index`."""
    import random

    from emosim.evals.paraphrases import load_paraphrases

    from .asked_as import AskedAsFile, asked_as_paths

    phrasings: list[tuple[str, str, str | None]] = []
    for path in asked_as_paths(root):
        data = load_yaml_model(path, AskedAsFile)
        phrasings += [(q, p, data.topic) for q, ps in data.asked_as.items() for p in ps]
    topics = sorted({e.topic for e in index.entries if e.topic})
    rng = random.Random(SEED)
    folds = [rng.randrange(FOLDS) for _ in phrasings]
    groups: list[tuple[AnswerIndex, list[Example], int]] = []
    for f in range(FOLDS):
        kept: dict[str, list[str]] = {}
        for (q, p, _), g in zip(phrasings, folds, strict=True):
            if g != f:
                kept.setdefault(q, []).append(p)
        held = AnswerIndex(index.entries, index.params, index.glossary, index.topic_names, kept)
        examples = [
            Example(p, _topic(i, t, topics), frozenset([q]), "phrasing")
            for i, ((q, p, t), g) in enumerate(zip(phrasings, folds, strict=True))
            if g == f
        ]
        groups.append((held, examples, f))
    bare = AnswerIndex(
        index.entries, index.params, index.glossary, index.topic_names, index.phrasings
    )
    for item in load_paraphrases(paraphrases).items:
        if item.split == "dev":
            example = Example(item.text, item.topic, item.accepted, "dev")
            groups.append((bare, [example], rng.randrange(FOLDS)))
    return groups


def _topic(i: int, topic: str | None, topics: Sequence[str]) -> str | None:
    """The conversation topic a phrasing is asked in: every fourth without one (a message
    outside a topic's conversation), a follow-up inside some topic's conversation."""
    if i % 4 == 0:
        return None
    return topic or topics[i % len(topics)]


def train(
    index: AnswerIndex,
    root: Path,
    paraphrases: Path | None = None,
    dev_weight: float = DEV_WEIGHT,
) -> Training:
    """Fit the ranker on `training_examples`; the threshold by cross-validation on dev."""
    rows, labels, message, fold, dev, positive = [], [], [], [], [], []
    n = 0
    for held, examples, f in training_examples(index, root, paraphrases):
        x, y, q, kept = example_rows(held, examples)
        rows.append(x)
        labels.append(y)
        message.append(q + n)
        n += len(kept)
        fold += [f] * len(kept)
        dev += [e.group == "dev" for e in kept]
        positive += [bool(e.accepted) for e in kept]
    x, y, q = np.vstack(rows), np.concatenate(labels), np.concatenate(message)
    folds, is_dev, is_pos = np.asarray(fold), np.asarray(dev), np.asarray(positive)
    weight = np.where(is_dev[q], dev_weight, 1.0)
    probs = np.zeros(len(y))
    for f in range(FOLDS):
        train_rows = np.isin(q, np.flatnonzero(folds != f))
        mean, scale, weights, intercept = fit(x[train_rows], y[train_rows], 1.0, weight[train_rows])
        test_rows = ~train_rows
        z = ((x[test_rows] - mean) / scale) @ weights + intercept
        probs[test_rows] = 1.0 / (1.0 + np.exp(-z))
    best_p, best_ok = decisions(probs, y, q, n)
    pos, neg = is_dev & is_pos, is_dev & ~is_pos
    threshold, accuracy, false_rate = 0.5, 0.0, 1.0
    for t in np.round(np.arange(0.2, 0.8, 0.01), 2):
        acc = float(np.mean(best_ok[pos] & (best_p[pos] >= t)))
        fmr = float(np.mean(best_p[neg] >= t))
        if fmr <= MAX_FALSE_MATCH and acc > accuracy:
            threshold, accuracy, false_rate = float(t), acc, fmr
    top_score = np.zeros(n, dtype=bool)
    top_score[q[(x[:, FEATURES.index("log_rank")] == 0) & (y == 1)]] = True
    phrasing = ~is_dev
    mean, scale, weights, intercept = fit(x, y, 1.0, weight)
    data = RankerFile(
        version="1",
        trained_on=f"{int(phrasing.sum())} planner phrasings (asked of an index without their "
        f"fold), {int(pos.sum())} dev paraphrases and {int(neg.sum())} dev off-bank questions",
        features=list(FEATURES),
        mean=[round(float(v), 6) for v in mean],
        scale=[round(float(v), 6) for v in scale],
        weights=[round(float(v), 6) for v in weights],
        intercept=round(intercept, 6),
        threshold=threshold,
    )
    return Training(
        data,
        round(accuracy, 4),
        round(false_rate, 4),
        round(float(np.mean(best_ok[phrasing])), 4),
        round(float(np.mean(top_score[phrasing])), 4),
    )


def main() -> None:
    """Train the ranker on the shipped data and write agents/scripted/answer_ranker.yaml
    (`python -m emosim.agents.scripted.ranker`)."""
    from emosim.agents.backends import load_advisor_templates
    from emosim.catalog import get_catalog

    catalog = get_catalog()
    index = AnswerIndex.build(load_advisor_templates(catalog).answers, catalog, ranker=False)
    result = train(index, catalog.root)
    path = project_root() / RANKER_FILE
    write_ranker(path, result.data)
    print(
        f"wrote {path}: threshold {result.data.threshold}; cross-validated dev accuracy "
        f"{result.dev_accuracy:.1%}, dev off-bank matched {result.dev_false_match_rate:.1%}; "
        f"held-out phrasings answered right {result.phrasing_accuracy:.1%} (best score alone "
        f"{result.phrasing_top_score:.1%})"
    )


if __name__ == "__main__":
    main()
