"""Where the trained model lives and when it is rebuilt.

The model is a cache, not a source file: it is built from the GoEmotions training file on
first use (or by `emosim observer train`) and rebuilt whenever the training file's SHA-256,
the code version or the training parameters differ from those recorded in the file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from emosim.errors import DataError
from emosim.paths import project_root

from .goemotions import (
    EKMAN_FILE,
    LABELS_FILE,
    TRAIN_FILE,
    data_dir_or_error,
    default_data_dir,
    file_sha256,
    read_ekman,
    read_examples,
    read_label_names,
)
from .mappings import GOEMOTIONS_LABELS
from .model import CODE_VERSION, EmotionModel, ModelMeta, TrainingParams, load_model, read_meta
from .model import train_model as fit_model
from .provenance import GOEMOTIONS_LICENSE, STORE_SOURCE, TrainingSource

MODEL_ENV = "EMOSIM_CLASSIFIER_MODEL"
CACHE_DIR = Path(".cache") / "classifier"
MODEL_NAME = "goemotions-emotions.npz"


def default_model_path() -> Path:
    """$EMOSIM_CLASSIFIER_MODEL, else .cache/classifier/ in the project folder (git-ignored)."""
    env = os.environ.get(MODEL_ENV)
    return Path(env) if env else project_root() / CACHE_DIR / MODEL_NAME


@dataclass(frozen=True)
class Built:
    path: Path
    meta: ModelMeta
    built: bool
    seconds: float


def _current(path: Path, data_sha256: str, params: TrainingParams) -> ModelMeta | None:
    if not path.is_file():
        return None
    try:
        meta = read_meta(path)
    except DataError:
        return None  # an unreadable cache is rebuilt, not reported
    wanted = (CODE_VERSION, data_sha256, params.model_dump_json())
    return meta if meta.cache_key() == wanted else None


def trained_from_store(path: Path) -> bool:
    """Whether `path` holds a model retrained on a label store (`observer train --from-store`)."""
    if not path.is_file():
        return False
    try:
        meta = read_meta(path)
    except DataError:
        return False
    return any(s.name == STORE_SOURCE for s in meta.sources)


def is_current(path: Path, *, data_dir: Path | None = None) -> bool:
    """Whether `path` holds a default-params model of the current code and data."""
    folder = data_dir or default_data_dir()
    if not (folder / TRAIN_FILE).is_file() or trained_from_store(path):
        return path.is_file()
    return _current(path, file_sha256(folder / TRAIN_FILE), TrainingParams()) is not None


def build_model(
    out: Path,
    *,
    data_dir: Path | None = None,
    params: TrainingParams | None = None,
    force: bool = False,
) -> Built:
    """Train into `out` unless it is already up to date with the data, code and params."""
    params = params or TrainingParams()
    folder = data_dir_or_error(data_dir)
    train_path = folder / TRAIN_FILE
    data_sha256 = file_sha256(train_path)
    if not force and (meta := _current(out, data_sha256, params)) is not None:
        return Built(out, meta, built=False, seconds=0.0)
    started = time.perf_counter()
    labels = read_label_names(folder / LABELS_FILE)
    if tuple(labels) != GOEMOTIONS_LABELS:
        raise DataError(
            [
                f"{folder / LABELS_FILE}: expected the 28 GoEmotions labels in their released "
                f"order ({', '.join(GOEMOTIONS_LABELS)}), got {', '.join(labels)}"
            ]
        )
    ekman_path = folder / EKMAN_FILE
    ekman = read_ekman(ekman_path, labels) if ekman_path.is_file() else {}
    examples = read_examples(train_path, len(labels))
    model = fit_model(
        examples,
        labels,
        params=params,
        data_file=TRAIN_FILE,
        data_sha256=data_sha256,
        ekman=ekman,
    )
    model.meta.sources = [
        TrainingSource(
            name="goemotions",
            file=TRAIN_FILE,
            sha256=data_sha256,
            rows=model.meta.n_train + model.meta.n_calibration,
            licenses=[GOEMOTIONS_LICENSE],
        )
    ]
    model.save(out)
    return Built(out, model.meta, built=True, seconds=time.perf_counter() - started)


def ensure_model(path: Path | None = None, *, data_dir: Path | None = None) -> EmotionModel:
    """A given model file as it is; else the cached model, built or rebuilt when out of date.

    Without the training data an existing cache file is used as it is (it cannot be checked).
    """
    if path is not None:
        return load_model(path)
    path = default_model_path()
    folder = data_dir or default_data_dir()
    if not (folder / TRAIN_FILE).is_file() and path.is_file():
        return load_model(path)
    if trained_from_store(path):
        return load_model(path)  # retrained on reviewed labels: GoEmotions alone cannot rebuild it
    build_model(path, data_dir=data_dir)
    return load_model(path)
