"""Where the trained strategy model lives and when it is rebuilt.

Like the emotion model it is a cache, not a source file: built from ESConv's train split
(shipped in data/esconv_train/) on first use or by `emosim observer train --kind strategy`, and
rebuilt whenever the training file's SHA-256, the code version or the parameters differ from
those recorded in the file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from emosim.errors import DataError
from emosim.paths import project_root, shipped_data

from .esconv_train import DATA_ENV, TRAIN_FILE, read_strategy_examples
from .goemotions import file_sha256
from .provenance import ESCONV_LICENSE, STORE_SOURCE, HumanTextScore, TrainingSource
from .store import CACHE_DIR
from .strategy_cv import CrossValidation
from .strategy_model import (
    CODE_VERSION,
    StrategyModel,
    StrategyModelMeta,
    StrategyParams,
    load_strategy_model,
    read_model_meta,
    subsample_rows,
    train_strategy_model,
)

MODEL_ENV = "EMOSIM_STRATEGY_MODEL"
MODEL_NAME = "esconv-strategies.npz"


def default_data_dir() -> Path:
    """$EMOSIM_ESCONV_TRAIN_DIR, else the copy the project ships in data/esconv_train."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else shipped_data("esconv_train")


def default_model_path() -> Path:
    """$EMOSIM_STRATEGY_MODEL, else .cache/classifier/ in the project folder (git-ignored)."""
    env = os.environ.get(MODEL_ENV)
    return Path(env) if env else project_root() / CACHE_DIR / MODEL_NAME


def train_file(data_dir: Path | None) -> Path:
    folder = data_dir or default_data_dir()
    path = folder / TRAIN_FILE
    if not path.is_file():
        raise DataError(
            [
                f"{path}: ESConv training file not found (pass --data DIR with {TRAIN_FILE} "
                f"or set {DATA_ENV})"
            ]
        )
    return path


@dataclass(frozen=True)
class StrategyBuilt:
    path: Path
    meta: StrategyModelMeta
    built: bool
    seconds: float


def _current(path: Path, data_sha256: str, params: StrategyParams) -> StrategyModelMeta | None:
    if not path.is_file():
        return None
    try:
        meta = read_model_meta(path)
    except DataError:
        return None  # an unreadable cache is rebuilt, not reported
    wanted = (CODE_VERSION, data_sha256, params.model_dump_json())
    return meta if meta.cache_key() == wanted else None


def current_meta(
    path: Path, data_dir: Path | None, params: StrategyParams
) -> StrategyModelMeta | None:
    """The meta of `path` when it is up to date with the training file, code and params."""
    folder = data_dir or default_data_dir()
    if not (folder / TRAIN_FILE).is_file():
        return None
    return _current(path, file_sha256(folder / TRAIN_FILE), params)


def store_cross_validation(
    built: StrategyBuilt, folds: int, *, data_dir: Path | None = None
) -> tuple[StrategyBuilt, CrossValidation]:
    """Cross-validate the model's recipe by dialog on its training file and keep the figures in
    the model's meta (`human_text`), where reports read them."""
    from .strategy_cv import cross_validate

    path = train_file(data_dir)
    examples, _ = read_strategy_examples(path)
    params = built.meta.params
    if params.sample is not None and params.sample < len(examples):
        examples = [examples[i] for i in subsample_rows(examples, params)]
    cross = cross_validate(examples, params, folds)
    score = HumanTextScore(
        dataset="esconv",
        split=f"train split, {folds}-fold cross-validation by dialog (not a held-out test)",
        level="ESConv strategy (8)",
        n=cross.n,
        accuracy=cross.accuracy,
        macro_f1=cross.macro_f1,
        baseline_accuracy=round(max(s.support for s in cross.per_label) / cross.n, 4),
        command=f"emosim observer train --kind strategy --cv {folds} --force",
    )
    model = load_strategy_model(built.path)
    kept = [s for s in model.meta.human_text if not s.split.startswith("train split")]
    model.meta = model.meta.model_copy(update={"human_text": [*kept, score]})
    model.save(built.path)
    return StrategyBuilt(built.path, model.meta, built.built, built.seconds), cross


def is_current(path: Path, *, data_dir: Path | None = None) -> bool:
    """Whether `path` holds a default-params model of the current code and data."""
    folder = data_dir or default_data_dir()
    if not (folder / TRAIN_FILE).is_file():
        return path.is_file()
    return _current(path, file_sha256(folder / TRAIN_FILE), StrategyParams()) is not None


def build_strategy_model(
    out: Path,
    *,
    data_dir: Path | None = None,
    params: StrategyParams | None = None,
    force: bool = False,
) -> StrategyBuilt:
    """Train into `out` unless it is already up to date with the data, code and params."""
    params = params or StrategyParams()
    path = train_file(data_dir)
    data_sha256 = file_sha256(path)
    if not force and (meta := _current(out, data_sha256, params)) is not None:
        return StrategyBuilt(out, meta, built=False, seconds=0.0)
    started = time.perf_counter()
    examples, _ = read_strategy_examples(path)
    rows = min(len(examples), params.sample or len(examples))
    source = TrainingSource(
        name="esconv", file=TRAIN_FILE, sha256=data_sha256, rows=rows, licenses=[ESCONV_LICENSE]
    )
    model = train_strategy_model(
        examples, params, data_file=TRAIN_FILE, data_sha256=data_sha256, sources=[source]
    )
    model.save(out)
    return StrategyBuilt(out, model.meta, built=True, seconds=time.perf_counter() - started)


def _trained_from_store(path: Path) -> bool:
    """Whether `path` holds a model retrained on a label store (`--from-store`)."""
    try:
        return path.is_file() and any(s.name == STORE_SOURCE for s in read_model_meta(path).sources)
    except DataError:
        return False


def ensure_strategy_model(
    path: Path | None = None, *, data_dir: Path | None = None
) -> StrategyModel:
    """A given model file as it is; else the cached model, built or rebuilt when out of date.

    Without the training data an existing cache file is used as it is (it cannot be checked).
    """
    if path is not None:
        return load_strategy_model(path)
    path = default_model_path()
    folder = data_dir or default_data_dir()
    if not (folder / TRAIN_FILE).is_file() and path.is_file():
        return load_strategy_model(path)
    if _trained_from_store(path):
        return load_strategy_model(path)  # retrained on reviewed labels: ESConv cannot rebuild it
    build_strategy_model(path, data_dir=data_dir)
    return load_strategy_model(path)
