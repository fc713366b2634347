"""Cross-validation of the strategy model by dialog: the figure to trust before a held-out test.

The utterances of one dialog share a seeker, a topic and a supporter's habits, so folds hold
whole dialogs (the same round-robin folds as the model's calibration). Each fold's model is
trained, calibrated and balanced on the other folds only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from pydantic import Field

from emosim.schemas.common import StrictModel

from .esconv_train import StrategyExample
from .strategy_model import StrategyParams, dialog_folds, train_strategy_model


class LabelScore(StrictModel):
    label: str
    support: int
    precision: float
    recall: float
    f1: float


class CrossValidation(StrictModel):
    folds: int
    n: int = Field(description="Utterances scored (each once, by the model that did not see it).")
    dialogs: int
    accuracy: float
    macro_f1: float = Field(description="Macro-F1 over ESConv's eight strategies.")
    unbalanced_accuracy: float = Field(description="Without the macro-F1 offsets (argmax).")
    unbalanced_macro_f1: float
    per_label: list[LabelScore]
    seconds: float


def cross_validate(
    examples: Sequence[StrategyExample], params: StrategyParams | None = None, folds: int = 5
) -> CrossValidation:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    params = params or StrategyParams()
    started = time.perf_counter()
    fold = dialog_folds(examples, folds)
    named: list[str] = [""] * len(examples)
    argmax: list[str] = [""] * len(examples)
    labels: list[str] = []
    for k in range(folds):
        fit = [examples[i] for i in np.flatnonzero(fold != k)]
        held_rows = np.flatnonzero(fold == k)
        held = [examples[i] for i in held_rows]
        model = train_strategy_model(fit, params)
        labels = model.labels
        picked, _ = model.predict(held)
        plain = np.argmax(model.log_proba(held), axis=1)
        for j, row in enumerate(held_rows):
            named[row] = picked[j]
            argmax[row] = labels[plain[j]]
    truth = [str(e.strategy) for e in examples]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, named, labels=labels, zero_division=0
    )
    return CrossValidation(
        folds=folds,
        n=len(examples),
        dialogs=len({e.dialog for e in examples}),
        accuracy=round(float(accuracy_score(truth, named)), 4),
        macro_f1=round(float(np.mean(f1)), 4),
        unbalanced_accuracy=round(float(accuracy_score(truth, argmax)), 4),
        unbalanced_macro_f1=round(
            float(f1_score(truth, argmax, labels=labels, average="macro", zero_division=0)), 4
        ),
        per_label=[
            LabelScore(
                label=label,
                support=int(support[i]),
                precision=round(float(precision[i]), 4),
                recall=round(float(recall[i]), 4),
                f1=round(float(f1[i]), 4),
            )
            for i, label in enumerate(labels)
        ],
        seconds=round(time.perf_counter() - started, 1),
    )
