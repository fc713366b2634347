"""Retraining the emotion model on reviewed labels from a label store, with or without the
public GoEmotions rows.

A store label is an emosim emotion id; the model learns it as its own label `emosim:<id>`
(read by the observer as that emotion, no mapping needed), beside GoEmotions' 28 labels when
the public rows are used. Store rows are always all kept (`sample` sub-samples only the
public rows), so a few dozen corrections reach the model. The model's training-data hash
combines the public file's SHA-256 and the store labels' content hash (labels/training.py);
its license and attribution are those of the data it saw: GoEmotions' CC BY 4.0 when the
public rows are used, plus any license the store labels carry (e.g. ESConv's annotations);
none for a model trained only on the user's own labels.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.labels.training import StoreTrainingSet

from .goemotions import (
    EKMAN_FILE,
    LABELS_FILE,
    TRAIN_FILE,
    Example,
    data_dir_or_error,
    default_data_dir,
    file_sha256,
    read_ekman,
    read_examples,
    read_label_names,
)
from .mappings import GOEMOTIONS_LABELS, NEUTRAL, store_label
from .model import EmotionModel, ModelMeta, TrainingParams, read_meta, train_model
from .provenance import (
    GOEMOTIONS_LICENSE,
    MODEL_PLACEHOLDER,
    STORE_SOURCE,
    TrainingSource,
    attribution_text,
    inherited_licenses,
    license_text,
)


def _sample(rows: list[Example], size: int | None, seed: int) -> list[Example]:
    """A seeded sub-sample of the public rows, in file order."""
    if size is None or size >= len(rows):
        return rows
    keep = np.sort(np.random.default_rng(seed).permutation(len(rows))[:size])
    return [rows[i] for i in keep]


def combined_sha256(sources: list[TrainingSource]) -> str:
    """One training-data hash over every source's hash, in training order."""
    text = "\n".join(f"{s.name}:{s.sha256}" for s in sources)
    return hashlib.sha256(text.encode()).hexdigest()


def train_emotion_from_store(
    training: StoreTrainingSet,
    *,
    public: bool = True,
    data_dir: Path | None = None,
    params: TrainingParams | None = None,
    workers: int | None = None,
) -> EmotionModel:
    """The emotion model trained on the store's reviewed labels (and the public rows)."""
    if training.field != "emotion":
        raise DataError([f"{training.path}: expected emotion labels, got {training.field!r}"])
    params = params or TrainingParams()
    if not training.examples and not public:
        raise DataError(
            [
                f"{training.path}: no reviewed emotion labels to train on (labels decided by "
                "live_operator or human_bulk_review events; --public adds GoEmotions)"
            ]
        )
    emotions = sorted({e.label for e in training.examples})
    sources: list[TrainingSource] = []
    rows: list[Example] = []
    ekman: dict[str, str] = {}
    if public:
        folder = data_dir_or_error(data_dir)
        labels = read_label_names(folder / LABELS_FILE)
        if tuple(labels) != GOEMOTIONS_LABELS:
            raise DataError(
                [f"{folder / LABELS_FILE}: expected the 28 GoEmotions labels in released order"]
            )
        if (folder / EKMAN_FILE).is_file():
            ekman = read_ekman(folder / EKMAN_FILE, labels)
        rows = _sample(read_examples(folder / TRAIN_FILE, len(labels)), params.sample, params.seed)
        sources.append(
            TrainingSource(
                name="goemotions",
                file=TRAIN_FILE,
                sha256=file_sha256(folder / TRAIN_FILE),
                rows=len(rows),
                licenses=[GOEMOTIONS_LICENSE],
            )
        )
    else:
        labels = [NEUTRAL]  # the observer's "no emotion" label; never a positive here
    labels = [*labels, *(store_label(e) for e in emotions)]
    index = {label: k for k, label in enumerate(labels)}
    rows += [
        Example(
            line=0,
            text=e.text,
            labels=(index[store_label(e.label)],),
            comment_id=f"{e.conversation_id}:t{e.turn_index}",
        )
        for e in training.examples
    ]
    sources.append(
        TrainingSource(
            name=STORE_SOURCE,
            file=training.path.name,
            sha256=training.sha256,
            rows=len(training.examples),
            licenses=training.licenses,
        )
    )
    data_file = " + ".join(s.file for s in sources)
    data_sha256 = combined_sha256(sources)
    model = train_model(
        rows,
        labels,
        # the public rows are already sub-sampled: every store row is kept
        params=params.model_copy(update={"sample": None}),
        data_file=data_file,
        data_sha256=data_sha256,
        ekman=ekman,
        workers=workers,
    )
    licenses = inherited_licenses(sources)
    model.meta = model.meta.model_copy(
        update={
            "params": params,
            "sources": sources,
            "license": license_text(licenses),
            "attribution": attribution_text(licenses),
        }
    )
    return model


# --- the command's steps --------------------------------------------------------------------


@dataclass(frozen=True)
class Retrained:
    path: Path
    meta: ModelMeta
    training: StoreTrainingSet
    seconds: float


def default_store_model_path(store: Path, kind: str) -> Path:
    """Beside the store: `<store folder>/<kind>-observer.npz`."""
    return store.parent / f"{kind}-observer.npz"


def retrain_emotion(
    training: StoreTrainingSet,
    out: Path,
    *,
    catalog: Catalog,
    public: bool = True,
    data_dir: Path | None = None,
    params: TrainingParams | None = None,
    measure: bool = True,
) -> Retrained:
    """Train, save, and (measure) store the scores on human text in the model's meta."""
    started = time.perf_counter()
    model = train_emotion_from_store(training, public=public, data_dir=data_dir, params=params)
    model.save(out)
    if measure:
        store_human_text(out, catalog, data_dir=data_dir)
    return Retrained(out, read_meta(out), training, time.perf_counter() - started)


def store_human_text(path: Path, catalog: Catalog, *, data_dir: Path | None = None) -> ModelMeta:
    """Score the model at `path` on human text and write the figures into its meta."""
    from . import build_classifier_observer, load_mappings
    from .human_text import measure_human_text

    observer = build_classifier_observer(catalog, model_path=path)
    scores = measure_human_text(
        observer,
        load_mappings(catalog),
        goemotions_dir=data_dir or default_data_dir(),
        model_file=MODEL_PLACEHOLDER,  # the file may move: the report fills in where it is
        shown=shown,
    )
    model = observer.model
    model.meta = model.meta.model_copy(update={"human_text": scores})
    model.save(path)
    return model.meta


def shown(path: Path) -> str:
    """A path as a command line would give it: relative to the working folder when inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
