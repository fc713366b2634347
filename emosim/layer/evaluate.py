"""Next-strategy accuracy on human conversations: top-1 and top-3 against the majority anchor.

Cross-validation holds whole dialogs out (their utterances share a seeker, a topic and a
supporter's habits); each fold's model is trained on the other folds only, and the anchor
ranks strategies by their frequency in those same training folds. A held-out file is scored
by the cached model, which never saw it (the command says so when it did).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import Field

from emosim.agents.classifier.strategy_model import dialog_folds
from emosim.evals.esconv import LABELS
from emosim.schemas.common import StrictModel

from .model import (
    EmotionFeatures,
    FloatArray,
    NextStrategyModel,
    NextStrategyParams,
    train,
)
from .turns import NextTurn


class LabelRecall(StrictModel):
    label: str
    support: int
    top1_recall: float
    top3_recall: float


class LayerEvaluation(StrictModel):
    """How often the layer's ranked strategies contain the human supporter's next strategy."""

    file: str
    mode: str = Field(description="cross-validation (k folds by dialog) or held-out file.")
    n: int = Field(description="Supporter utterances predicted.")
    dialogs: int
    top1: float
    top3: float
    majority_top1: float = Field(description="Always the commonest training strategy.")
    majority_top3: float = Field(description="The three commonest training strategies.")
    prior: bool = Field(description="The taxonomy prior was among the features.")
    per_label: list[LabelRecall]
    model_saw_file: bool = Field(default=False, description="The model was trained on it.")
    license: str = ""
    seconds: float


def _hits(log_p: FloatArray, gold: np.ndarray, k: int) -> np.ndarray:
    top = np.argsort(-log_p, axis=1, kind="stable")[:, :k]
    return (top == gold[:, None]).any(axis=1)


def _anchor(train_gold: np.ndarray) -> np.ndarray:
    """Strategy indices by frequency in the training rows (ties: label order)."""
    return np.argsort(-np.bincount(train_gold, minlength=len(LABELS)), kind="stable")


def _summary(
    file: str,
    mode: str,
    turns: Sequence[NextTurn],
    gold: np.ndarray,
    blended: FloatArray,
    prior: bool,
    anchor_top: np.ndarray,
    started: float,
    **extra: object,
) -> LayerEvaluation:
    top1, top3 = _hits(blended, gold, 1), _hits(blended, gold, 3)
    per_label = [
        LabelRecall(
            label=label,
            support=int((gold == k).sum()),
            top1_recall=round(float(top1[gold == k].mean()) if (gold == k).any() else 0.0, 4),
            top3_recall=round(float(top3[gold == k].mean()) if (gold == k).any() else 0.0, 4),
        )
        for k, label in enumerate(LABELS)
    ]
    return LayerEvaluation(
        file=file,
        mode=mode,
        n=len(turns),
        dialogs=len({t.dialog for t in turns}),
        top1=round(float(top1.mean()), 4),
        top3=round(float(top3.mean()), 4),
        majority_top1=round(float((anchor_top[:, 0] == gold).mean()), 4),
        majority_top3=round(float((anchor_top[:, :3] == gold[:, None]).any(axis=1).mean()), 4),
        prior=prior,
        per_label=per_label,
        seconds=round(time.perf_counter() - started, 1),
        **extra,  # type: ignore[arg-type]
    )


def _gold(turns: Sequence[NextTurn]) -> np.ndarray:
    return np.array([LABELS.index(t.strategy) for t in turns])  # type: ignore[arg-type]


def _subset(emotions: EmotionFeatures, rows: np.ndarray) -> EmotionFeatures:
    return EmotionFeatures(emotions.masses[rows], [emotions.primaries[i] for i in rows])


def cross_validate(
    turns: Sequence[NextTurn],
    emotions: EmotionFeatures,
    prior: Mapping[str, FloatArray],
    *,
    params: NextStrategyParams | None = None,
    folds: int = 5,
    file: str = "",
    families: Sequence[str] = (),
) -> LayerEvaluation:
    started = time.perf_counter()
    params = params or NextStrategyParams()
    fold = dialog_folds(turns, folds)  # type: ignore[arg-type]
    gold = _gold(turns)
    blended = np.zeros((len(turns), len(LABELS)))
    anchor_top = np.zeros((len(turns), len(LABELS)), dtype=np.int64)
    for k in range(folds):
        fit, held = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        if held.size == 0:
            continue
        model = train(
            [turns[i] for i in fit],
            _subset(emotions, fit),
            prior,
            params,
            families=families,
            emotion_model="",
        )
        held_turns = [turns[i] for i in held]
        held_emotions = _subset(emotions, held)
        blended[held] = model.log_proba(held_turns, held_emotions)
        anchor_top[held] = _anchor(gold[fit])
    mode = f"{folds}-fold cross-validation by dialog"
    return _summary(file, mode, turns, gold, blended, params.prior, anchor_top, started)


def evaluate_file(
    model: NextStrategyModel,
    turns: Sequence[NextTurn],
    emotions: EmotionFeatures,
    *,
    file: str = "",
    saw_file: bool = False,
) -> LayerEvaluation:
    """Score a trained model on a file it did not see (a held-out split)."""
    started = time.perf_counter()
    gold = _gold(turns)
    order = np.array([model.labels.index(label) for label in model.meta.majority])
    anchor_top = np.tile(order, (len(turns), 1))
    blended = model.log_proba(turns, emotions)
    return _summary(
        file,
        "held-out file (the cached model, trained on the train split)",
        turns,
        gold,
        blended,
        model.meta.params.prior,
        anchor_top,
        started,
        model_saw_file=saw_file,
        license=model.meta.license,
    )
