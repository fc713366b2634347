"""Retraining the strategy model on reviewed strategy labels from a label store, with or without
the public ESConv rows.

Store labels are taxonomy strategy ids; the strategy model reads ESConv's eight strategies,
so each label is turned into its ESConv name through the taxonomy's `esconv` field (several
ids share a name: the model learns the name). The preceding client turn is the example's
context, its place among the conversation's advisor turns its position. As for the emotion
model (retrain.py): `sample` sub-samples only the public rows, the training-data hash combines
the ESConv file's SHA-256 and the store labels' content hash, and the license is that of the
data seen (ESConv's CC BY-NC 4.0 with the public rows or ESConv-imported labels; none for a
model trained only on the user's own labels).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.labels.training import StoreTrainingSet

from .esconv_train import (
    TRAIN_FILE,
    StrategyExample,
    esconv_strategy,
    read_strategy_examples,
)
from .goemotions import file_sha256
from .provenance import (
    ESCONV_LICENSE,
    STORE_SOURCE,
    TrainingSource,
    attribution_text,
    inherited_licenses,
    license_text,
)
from .retrain import Retrained, combined_sha256
from .strategy_model import StrategyModel, StrategyParams, read_model_meta, train_strategy_model
from .strategy_store import train_file


def store_strategy_examples(training: StoreTrainingSet, catalog: Catalog) -> list[StrategyExample]:
    """The store's reviewed strategy labels as the strategy model's examples."""
    if training.field != "strategy":
        raise DataError([f"{training.path}: expected strategy labels, got {training.field!r}"])
    names = {s.id: s.esconv for s in catalog.strategies_file.strategies}
    return [
        StrategyExample(
            text=e.text,
            context=e.context,
            strategy=esconv_strategy(e.label, names),
            index=e.position,
            count=e.of,
            dialog=e.conversation_id,
            where=f"{training.path}: {e.conversation_id} turn {e.turn_index}",
        )
        for e in training.examples
    ]


def train_strategy_from_store(
    training: StoreTrainingSet,
    catalog: Catalog,
    *,
    public: bool = True,
    data_dir: Path | None = None,
    params: StrategyParams | None = None,
) -> StrategyModel:
    params = params or StrategyParams()
    store_rows = store_strategy_examples(training, catalog)
    if not store_rows and not public:
        raise DataError(
            [
                f"{training.path}: no reviewed strategy labels to train on (labels decided by "
                "live_operator or human_bulk_review events; --public adds ESConv)"
            ]
        )
    sources: list[TrainingSource] = []
    rows: list[StrategyExample] = []
    if public:
        path = train_file(data_dir)
        rows, _ = read_strategy_examples(path)
        if params.sample is not None and params.sample < len(rows):
            keep = np.sort(
                np.random.default_rng(params.seed).permutation(len(rows))[: params.sample]
            )
            rows = [rows[i] for i in keep]
        sources.append(
            TrainingSource(
                name="esconv",
                file=TRAIN_FILE,
                sha256=file_sha256(path),
                rows=len(rows),
                licenses=[ESCONV_LICENSE],
            )
        )
    sources.append(
        TrainingSource(
            name=STORE_SOURCE,
            file=training.path.name,
            sha256=training.sha256,
            rows=len(store_rows),
            licenses=training.licenses,
        )
    )
    licenses = inherited_licenses(sources)
    model = train_strategy_model(
        [*rows, *store_rows],
        # the public rows are already sub-sampled: every store row is kept
        params.model_copy(update={"sample": None}),
        data_file=" + ".join(s.file for s in sources),
        data_sha256=combined_sha256(sources),
        sources=sources,
        license=license_text(licenses),
        attribution=attribution_text(licenses),
    )
    model.meta = model.meta.model_copy(update={"params": params})
    return model


def retrain_strategy(
    training: StoreTrainingSet,
    out: Path,
    *,
    catalog: Catalog,
    public: bool = True,
    data_dir: Path | None = None,
    sample: int | None = None,
) -> Retrained:
    started = time.perf_counter()
    params = StrategyParams(sample=sample) if sample is not None else StrategyParams()
    model = train_strategy_from_store(
        training, catalog, public=public, data_dir=data_dir, params=params
    )
    model.save(out)
    return Retrained(out, read_model_meta(out), training, time.perf_counter() - started)  # type: ignore[arg-type]
