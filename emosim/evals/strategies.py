"""The strategy observer on real supporter text: ESConv's human labels through the taxonomy.

Every strategy of taxonomies/strategies.yaml names its closest ESConv strategy; the observer's
primary strategy is mapped through that and compared with the human label. Two observers:
`trained` (the ESConv model, which reads each utterance with the seeker turn before it and its
place in the dialog; see emosim/agents/classifier/strategy_model.py) and `lexicon` (cue
phrases only).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import Field

from emosim.agents.scripted.observers import LexiconStrategyObserver
from emosim.catalog import Catalog
from emosim.esconv import ATTRIBUTION
from emosim.schemas.common import StrictModel

from .esconv import LABELS, read_labelled


class LabelRow(StrictModel):
    label: str = Field(description="ESConv strategy.")
    support: int = Field(description="Utterances with this human label.")
    predicted: int = Field(description="Utterances the observer mapped to this label.")
    precision: float
    recall: float
    f1: float


class StrategyRow(StrictModel):
    strategy: str = Field(description="Taxonomy strategy the observer named.")
    esconv: str = Field(description="Its ESConv label in the taxonomy.")
    predicted: int = Field(description="Utterances where it was the observer's primary.")
    correct: int = Field(description="Of these, how many carry that ESConv label.")
    precision: float | None


class StrategyEvaluation(StrictModel):
    file: str
    observer: str
    attribution: str
    n: int = Field(description="Labelled supporter utterances scored.")
    skipped_labels: int = Field(description="Utterances with a label outside ESConv's eight.")
    no_cue_share: float | None = Field(
        description="Share of utterances with no strategy cue (the lexicon fell back to a "
        "default); None for the trained observer."
    )
    license: str = Field(
        default="", description="License the observer's labels inherit (trained: ESConv's)."
    )
    accuracy: float
    macro_f1: float = Field(description="Macro-F1 over the eight ESConv labels.")
    labels: list[str] = Field(description="Row/column order of the confusion matrix.")
    confusion: list[list[int]] = Field(description="Rows: human label; columns: observer's.")
    per_label: list[LabelRow]
    per_strategy: list[StrategyRow]


def evaluate_strategies(
    catalog: Catalog,
    path: Path,
    *,
    observer: Literal["trained", "lexicon"] = "trained",
    model_path: Path | None = None,
) -> StrategyEvaluation:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    mapping = {s.id: s.esconv for s in catalog.strategies_file.strategies}
    no_cue: int | None = None
    license = ""
    if observer == "trained":
        from emosim.agents.classifier.esconv_train import read_strategy_examples
        from emosim.agents.classifier.strategy_observer import build_strategy_observer

        examples, skipped = read_strategy_examples(path)
        trained = build_strategy_observer(catalog, model_path=model_path)
        labels_named = trained.label(examples)
        named = [
            trained.member(label, e.text) for label, e in zip(labels_named, examples, strict=True)
        ]
        truth = [str(e.strategy) for e in examples]
        name, license = trained.name, trained.model.meta.license
    else:
        items, skipped = read_labelled(path)
        lexicon = LexiconStrategyObserver(catalog)
        named = []
        no_cue = 0
        for item in items:
            no_cue += not lexicon.scores(item.text)
            named.append(lexicon.observe(item.text).primary)
        truth = [i.label for i in items]
        name = lexicon.name
    predicted = [mapping[s] for s in named]
    labels = list(LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    predicted_counts = Counter(predicted)
    per_label = [
        LabelRow(
            label=label,
            support=int(support[k]),
            predicted=predicted_counts[label],
            precision=round(float(precision[k]), 4),
            recall=round(float(recall[k]), 4),
            f1=round(float(f1[k]), 4),
        )
        for k, label in enumerate(labels)
    ]
    named_counts = Counter(named)
    correct = Counter(s for s, gold in zip(named, truth, strict=True) if mapping[s] == gold)
    per_strategy = [
        StrategyRow(
            strategy=s.id,
            esconv=s.esconv,
            predicted=named_counts[s.id],
            correct=correct[s.id],
            precision=round(correct[s.id] / named_counts[s.id], 4) if named_counts[s.id] else None,
        )
        for s in catalog.strategies_file.strategies
    ]
    return StrategyEvaluation(
        file=str(path),
        observer=name,
        attribution=ATTRIBUTION,
        license=license,
        n=len(truth),
        skipped_labels=skipped,
        no_cue_share=None if no_cue is None else round(no_cue / len(truth), 4),
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        macro_f1=round(float(f1.mean()), 4),
        labels=labels,
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
        per_label=per_label,
        per_strategy=per_strategy,
    )
