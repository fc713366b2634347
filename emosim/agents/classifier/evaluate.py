"""Scoring the classifier observer against human labels (GoEmotions rows, ESConv dialogs).

GoEmotions `fine` and `ekman` levels are scored as the GoEmotions paper scores them
(Demszky et al. 2020, `calculate_metrics.py`): multi-label. Each row has a gold set (its
labels, mapped to the level) and a predicted set (every class the model puts above its
threshold; the top class when none is, since every GoEmotions row has at least one label).
Per class: binary precision, recall and F1 over the rows; `macro_f1` averages the classes'
F1, `neutral` included (the paper's Ekman 0.64 is this average over 6 groups + neutral).

`accuracy` and the confusion matrix read one decision per row (the top class), counted
correct when it is any of the row's gold classes; for the matrix the row's gold class is the
predicted one when it was right, else its first gold class. `extra.top1_macro_f1` is the
macro-F1 of that single decision (what earlier versions reported as macro-F1).

Levels for GoEmotions: `fine` = GoEmotions' own 28 labels; `ekman` = the six Ekman groups of
ekman_mapping.json plus `neutral`, read from the model's own Ekman heads (trained on the
groups directly) or, for a model without them, from the groups of its predicted labels;
`family` = our Goleman families through taxonomies/mappings.yaml plus `neutral`, one
decision per row by the observer's own rule (neutral wins when its mass is at least every
family's), scored single-label.

Macro-F1 averages over the classes that occur in the gold or predicted column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field
from scipy.stats import spearmanr
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from emosim.errors import DataError

from .esconv import SeekerDialog
from .goemotions import Example
from .mappings import GOEMOTIONS_LABELS, NEUTRAL, EmotionMappings, store_label_emotion
from .observer import ClassifierEmotionObserver

GoLevel = Literal["fine", "ekman", "family"]
EsconvLevel = Literal["family", "emotion"]


class ClassScore(BaseModel):
    label: str
    precision: float
    recall: float
    f1: float
    support: int = Field(
        description="Rows whose gold class is this (fine, ekman: rows whose gold set holds it)."
    )
    predicted: int = Field(description="Rows predicted as this class.")


class Scores(BaseModel):
    """One evaluation: overall scores, per class, and the confusion matrix."""

    dataset: Literal["goemotions", "esconv"]
    file: str
    level: str
    n: int = Field(description="Rows (GoEmotions) or dialogs (ESConv) scored.")
    accuracy: float
    macro_f1: float
    classes: list[ClassScore]
    labels: list[str] = Field(description="Row/column order of the confusion matrix.")
    confusion: list[list[int]] = Field(description="confusion[gold][predicted].")
    model: str = Field(description="Observer name: backend, model version, data hash.")
    skipped: dict[str, int] = Field(
        default_factory=dict, description="What was left out, and how many."
    )
    extra: dict[str, float | None] = Field(default_factory=dict)


def score(
    gold_sets: Sequence[Sequence[str]],
    predicted: Sequence[str],
    order: Sequence[str],
) -> tuple[float, float, list[ClassScore], list[str], list[list[int]]]:
    """Accuracy, macro-F1, per-class scores and confusion matrix with 'any gold label' credit."""
    gold = [p if p in g else g[0] for g, p in zip(gold_sets, predicted, strict=True)]
    correct = sum(p in g for g, p in zip(gold_sets, predicted, strict=True))
    present = set(gold) | set(predicted)
    labels = [c for c in order if c in present] + sorted(present - set(order))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    counts = Counter(predicted)
    classes = [
        ClassScore(
            label=label,
            precision=round(float(precision[i]), 4),
            recall=round(float(recall[i]), 4),
            f1=round(float(f1[i]), 4),
            support=int(support[i]),
            predicted=counts[label],
        )
        for i, label in enumerate(labels)
    ]
    matrix = confusion_matrix(gold, predicted, labels=labels).tolist()
    accuracy = correct / len(gold) if gold else 0.0
    return round(accuracy, 4), round(float(np.mean(f1)), 4), classes, labels, matrix


def multilabel_score(
    gold: NDArray[np.int8], predicted: NDArray[np.int8], order: Sequence[str]
) -> tuple[float, float, list[ClassScore]]:
    """Macro-F1, micro-F1 and per-class scores of multi-label sets (rows x classes of `order`).

    The classes averaged are those in the gold or predicted sets (all of them on a full split).
    """
    present = (gold.sum(axis=0) + predicted.sum(axis=0)) > 0
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, average=None, zero_division=0
    )
    _, _, micro, _ = precision_recall_fscore_support(
        gold, predicted, average="micro", zero_division=0
    )
    classes = [
        ClassScore(
            label=label,
            precision=round(float(precision[k]), 4),
            recall=round(float(recall[k]), 4),
            f1=round(float(f1[k]), 4),
            support=int(support[k]),
            predicted=int(predicted[:, k].sum()),
        )
        for k, label in enumerate(order)
        if present[k]
    ]
    macro = float(np.mean(f1[present])) if present.any() else 0.0
    return round(macro, 4), round(float(micro), 4), classes


def _scores(
    gold_sets: Sequence[Sequence[str]],
    predicted: Sequence[str],
    order: Sequence[str],
    **about: Any,
) -> Scores:
    """`score` as a Scores record; `about` names the dataset, file, level, model, extras."""
    accuracy, macro_f1, classes, labels, matrix = score(gold_sets, predicted, order)
    return Scores(
        accuracy=accuracy,
        macro_f1=macro_f1,
        classes=classes,
        labels=labels,
        confusion=matrix,
        **about,
    )


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def evaluate_goemotions(
    observer: ClassifierEmotionObserver,
    examples: list[Example],
    *,
    level: GoLevel,
    mappings: EmotionMappings,
    ekman: dict[str, str],
    file: Path,
    batch: int = 2048,
) -> Scores:
    model = observer.model
    labels = model.labels
    if level == "ekman" and not ekman:
        raise DataError([f"{file}: --level ekman needs ekman_mapping.json (pass --ekman FILE)"])
    table = mappings.goemotions_map()

    def group(label: str) -> str:
        if label == NEUTRAL:
            return NEUTRAL
        if level == "fine":
            return label
        if level == "ekman":
            return ekman.get(label, NEUTRAL)
        stored = store_label_emotion(label)  # a label learned from a label store
        return observer.catalog.emotions[stored].family if stored else table[label].family

    order = {
        "fine": labels,
        "ekman": [*sorted(set(ekman.values())), NEUTRAL],
        "family": [*observer.family_ids, NEUTRAL],
    }[level]
    # the model's own Ekman heads, when they are the groups of this mapping
    heads = level == "ekman" and sorted(model.groups) == sorted(order)
    to_order = [order.index(g) for g in model.groups] if heads else []
    members = np.zeros((len(labels), len(order)), dtype=np.int8)
    for k, label in enumerate(labels):
        members[k, order.index(group(label))] = 1
    predicted: list[str] = []
    sets: list[NDArray[np.int8]] = []
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        texts = [e.text for e in chunk]
        margins, head_margins = model.all_margins(texts)
        if level == "family":
            for example, row in zip(chunk, margins, strict=True):
                reading = observer.read(example.text, row)
                predicted.append(reading.family or NEUTRAL)
            continue
        if heads:
            group_margins = np.zeros((len(chunk), len(order)))
            group_margins[:, to_order] = head_margins
            chosen = label_sets(group_margins)
        else:
            # one class per predicted label (ekman without heads: the labels' groups)
            chosen = (label_sets(margins) @ members > 0).astype(np.int8)
        sets.append(chosen)
        if level == "fine":
            predicted += [labels[k] for k in margins.argmax(axis=1)]
        elif heads:
            predicted += [order[k] for k in group_margins.argmax(axis=1)]
        else:
            dist = model.distribution(margins)
            mass = dist @ members
            mass[:, -1] += 1e-12  # neutral (last column) wins ties, as in the observer
            predicted += [order[k] for k in mass.argmax(axis=1)]
    # gold indices name GoEmotions labels (a model trained on a label store has others too)
    gold_sets = [_dedupe([group(GOEMOTIONS_LABELS[k]) for k in e.labels]) for e in examples]
    shares = Counter(c for g in gold_sets for c in g)
    majority = shares.most_common(1)[0][1] / len(gold_sets) if gold_sets else 0.0
    about = {
        "dataset": "goemotions",
        "file": str(file),
        "level": level,
        "n": len(examples),
        "model": observer.name,
    }
    if level == "family":
        extra = {"majority_baseline_accuracy": round(majority, 4)}
        return _scores(gold_sets, predicted, order, **about, extra=extra)
    accuracy, top1_macro, _, matrix_labels, matrix = score(gold_sets, predicted, order)
    gold = np.zeros((len(examples), len(order)), dtype=np.int8)
    index = {c: k for k, c in enumerate(order)}
    for row, classes in enumerate(gold_sets):
        gold[row, [index[c] for c in classes if c in index]] = 1
    chosen_all = np.vstack(sets) if sets else np.zeros_like(gold)
    macro_f1, micro_f1, classes = multilabel_score(gold, chosen_all, order)
    extra = {
        "majority_baseline_accuracy": round(majority, 4),
        "top1_macro_f1": top1_macro,
        "micro_f1": micro_f1,
    }
    if level == "ekman":
        extra["ekman_heads"] = 1.0 if heads else 0.0
    return Scores(
        accuracy=accuracy,
        macro_f1=macro_f1,
        classes=classes,
        labels=matrix_labels,
        confusion=matrix,
        **about,
        extra=extra,
    )


def label_sets(margins: NDArray[np.float64]) -> NDArray[np.int8]:
    """Every class above its threshold (margin > 0); the top class when none is."""
    chosen = (margins > 0).astype(np.int8)
    empty = chosen.sum(axis=1) == 0
    chosen[empty, margins[empty].argmax(axis=1)] = 1
    return chosen


def evaluate_esconv(
    observer: ClassifierEmotionObserver,
    dialogs: list[SeekerDialog],
    *,
    level: EsconvLevel,
    mappings: EmotionMappings,
    file: Path,
    half_life: float = 5.0,
    negative_only: bool = True,
) -> Scores:
    """The seeker's dominant emotion per dialog against ESConv's `emotion_type`.

    Each seeker turn is read in order, with the previous turn's annotation as its previous
    state. The dominant emotion is the one with the most mass summed over the turns, within
    the family with the most mass. Two choices, both because of what `emotion_type` is (the
    distress the seeker reported before the chat): only emotions with negative valence in
    taxonomies/emotions.yaml count (thanks and greetings to the supporter are not the
    problem's emotion; `negative_only=False` counts all), and turn i weighs 0.5 ** (i /
    half_life), so the opening turns, where the problem is told, count most (0: all equal).
    """
    table = mappings.esconv_map()
    unmapped = Counter(d.emotion_type for d in dialogs if d.emotion_type not in table)
    kept = [d for d in dialogs if d.emotion_type in table]
    if not kept:
        found = ", ".join(sorted(unmapped)) or "none"
        raise DataError(
            [
                f"{file}: no dialog with an emotion_type mapped in taxonomies/mappings.yaml "
                f"(found: {found})"
            ]
        )
    catalog = observer.catalog
    counted = np.array(
        [not negative_only or catalog.emotions[e].valence < 0 for e in observer.emotion_ids]
    )
    texts = [t for d in kept for t in d.turns]
    margins = observer.model.margins(texts)
    predicted: list[str] = []
    gold: list[list[str]] = []
    observed_intensity: list[float] = []
    reported_intensity: list[float] = []
    row = 0
    for dialog in kept:
        total = np.zeros(len(observer.emotion_ids))
        previous = None
        intensities = []
        for i, text in enumerate(dialog.turns):
            reading = observer.read(text, margins[row], previous)
            previous = observer.annotate(text, margins[row], reading, previous, evidence=False)
            row += 1
            weight = 0.5 ** (i / half_life) if half_life > 0 else 1.0
            total += weight * np.where(counted, reading.emotions, 0.0)
            intensities.append(previous.intensity)
        families = np.bincount(
            observer.family_of, weights=total, minlength=len(observer.family_ids)
        )
        family = int(np.argmax(families))
        emotion = observer.emotion_ids[
            int(np.argmax(np.where(observer.family_of == family, total, -1.0)))
        ]
        target = table[dialog.emotion_type]
        if level == "family":
            predicted.append(observer.family_ids[family])
            gold.append([target.family])
        else:
            predicted.append(emotion)
            gold.append([target.emotion])
        if dialog.initial_intensity is not None:
            observed_intensity.append(float(np.mean(intensities[:3])))
            reported_intensity.append(dialog.initial_intensity)
    order = observer.family_ids if level == "family" else observer.emotion_ids
    rho = None
    if len(observed_intensity) >= 3 and len(set(reported_intensity)) > 1:
        rho = round(float(spearmanr(observed_intensity, reported_intensity).statistic), 4)
    majority = Counter(g[0] for g in gold).most_common(1)[0][1] / len(gold)
    skipped = {f"unmapped emotion_type {k!r}": v for k, v in sorted(unmapped.items())}
    return _scores(
        gold,
        predicted,
        order,
        dataset="esconv",
        file=str(file),
        level=level,
        n=len(kept),
        model=observer.name,
        skipped=skipped,
        extra={
            "seeker_turns": float(len(texts)),
            "majority_baseline_accuracy": round(majority, 4),
            "intensity_spearman": rho,
        },
    )
