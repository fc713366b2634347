"""The emotion observer against the hidden arc: simulated records carry the true state of every
client turn, and the observer never saw it, so these scores are a real measurement.

Only simulated records count: in hand-authored seeds the same person wrote the state and the
annotation, so their agreement measures no observer.
"""

from __future__ import annotations

from collections.abc import Sequence

from emosim.catalog import Catalog
from emosim.schemas import ConversationRecord

from .models import ClassificationScores, ObserverAccuracy


def classification(
    truth: Sequence[str], predicted: Sequence[str], order: Sequence[str]
) -> ClassificationScores:
    """Accuracy, macro-F1 and confusion matrix; labels seen in either list, in `order`'s order."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    seen = set(truth) | set(predicted)
    labels = [x for x in order if x in seen] + sorted(seen - set(order))
    matrix = confusion_matrix(truth, predicted, labels=labels)
    return ClassificationScores(
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        macro_f1=round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        labels=labels,
        confusion=matrix.tolist(),
    )


def observer_accuracy(
    records: list[ConversationRecord], catalog: Catalog
) -> ObserverAccuracy | None:
    from sklearn.metrics import mean_absolute_error

    pairs = [
        (t.ground_truth, t.annotation)
        for r in records
        if r.provenance.source == "simulated"
        for t in r.client_turns
        if t.ground_truth is not None and t.annotation is not None
    ]
    if not pairs:
        return None
    emotion_order = [e.id for e in catalog.emotions_file.emotions]
    family_order = [f.id for f in catalog.emotions_file.families]
    return ObserverAccuracy(
        observer=sorted({a.observer for _, a in pairs}),
        n=len(pairs),
        emotion=classification(
            [g.emotion for g, _ in pairs], [a.primary for _, a in pairs], emotion_order
        ),
        family=classification(
            [g.family for g, _ in pairs], [a.family for _, a in pairs], family_order
        ),
        intensity_mae=round(
            float(
                mean_absolute_error(
                    [g.intensity for g, _ in pairs], [a.intensity for _, a in pairs]
                )
            ),
            4,
        ),
        level_accuracy=round(
            sum(g.intensity_level == a.intensity_level for g, a in pairs) / len(pairs), 4
        ),
    )
