"""Where the next-strategy model lives and when it is rebuilt.

A cache like the observers' models (.cache/classifier/, git-ignored; $EMOSIM_LAYER_MODEL
overrides): built from ESConv's train split on first use or by `emosim layer train`, rebuilt
when the training file, the code, the parameters or the emotion model differ from the file's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosim.agents.classifier.esconv_train import TRAIN_FILE
from emosim.agents.classifier.goemotions import file_sha256
from emosim.agents.classifier.provenance import ESCONV_LICENSE, TrainingSource
from emosim.agents.classifier.store import CACHE_DIR
from emosim.agents.classifier.strategy_store import train_file
from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.paths import project_root

from .model import (
    CODE_VERSION,
    NextStrategyMeta,
    NextStrategyModel,
    NextStrategyParams,
    OutcomeCell,
    load_model,
    read_emotions,
    read_meta,
    taxonomy_prior,
    train,
)
from .turns import read_next_turns

MODEL_ENV = "EMOSIM_LAYER_MODEL"
MODEL_NAME = "esconv-next-strategy.npz"


def default_model_path() -> Path:
    env = os.environ.get(MODEL_ENV)
    return Path(env) if env else project_root() / CACHE_DIR / MODEL_NAME


@dataclass(frozen=True)
class Built:
    path: Path
    meta: NextStrategyMeta
    built: bool
    seconds: float


def _current(
    path: Path,
    data_sha256: str,
    params: NextStrategyParams,
    emotion_model: str,
    outcomes: Sequence[OutcomeCell] | None,
    prior: dict,
) -> NextStrategyMeta | None:
    if not path.is_file():
        return None
    try:
        meta = read_meta(path)
    except DataError:
        return None  # an unreadable cache is rebuilt, not reported
    same = (
        meta.code_version == CODE_VERSION
        and meta.data_sha256 == data_sha256
        and meta.params == params
        and meta.emotion_model == emotion_model
        and (outcomes is None or meta.outcomes == list(outcomes))
        and meta.prior_emotions == sorted(prior)
    )
    if same:  # the stored prior table must be the taxonomy's current one
        stored = load_model(path).prior
        same = all(np.allclose(stored[e], prior[e]) for e in prior)
    return meta if same else None


def build_model(
    out: Path,
    observer,  # noqa: ANN001 - the classifier emotion observer
    catalog: Catalog,
    *,
    data_dir: Path | None = None,
    params: NextStrategyParams | None = None,
    outcomes: Sequence[OutcomeCell] | None = None,
    force: bool = False,
) -> Built:
    """Train into `out` unless it is up to date. `outcomes=None` keeps the file's own
    outcome table (rebuilding keeps what `layer train --records` learned)."""
    params = params or NextStrategyParams()
    path = train_file(data_dir)
    data_sha256 = file_sha256(path)
    emotion_model = observer.model.version
    prior = taxonomy_prior(catalog)
    meta = None if force else _current(out, data_sha256, params, emotion_model, outcomes, prior)
    if meta is not None:
        return Built(out, meta, built=False, seconds=0.0)
    if outcomes is None and out.is_file():
        try:
            outcomes = read_meta(out).outcomes
        except DataError:
            outcomes = None
    started = time.perf_counter()
    turns, _ = read_next_turns(path)
    emotions = read_emotions(observer, [t.seeker for t in turns])
    source = TrainingSource(
        name="esconv",
        file=TRAIN_FILE,
        sha256=data_sha256,
        rows=len(turns),
        licenses=[ESCONV_LICENSE],
    )
    model = train(
        turns,
        emotions,
        prior,
        params,
        families=observer.family_ids,
        emotion_model=emotion_model,
        data_file=TRAIN_FILE,
        data_sha256=data_sha256,
        sources=[source],
        outcomes=outcomes or (),
    )
    model.save(out)
    return Built(out, model.meta, built=True, seconds=time.perf_counter() - started)


def ensure_model(
    observer,  # noqa: ANN001
    catalog: Catalog,
    path: Path | None = None,
    *,
    data_dir: Path | None = None,
) -> NextStrategyModel:
    """A given file as it is; else the cached model, built or rebuilt when out of date
    (without the training data an existing cache is used as it is)."""
    if path is not None:
        return load_model(path)
    path = default_model_path()
    try:
        train_file(data_dir)
    except DataError:
        if path.is_file():
            return load_model(path)
        raise
    build_model(path, observer, catalog, data_dir=data_dir)
    return load_model(path)


def emotion_observer(catalog: Catalog, model_path: Path | None = None):  # noqa: ANN201
    """The classifier emotion observer the layer reads with (lexicon fused in); `model_path`
    as it is, else the cached GoEmotions model."""
    from emosim.agents.classifier import build_classifier_observer

    return build_classifier_observer(catalog, model_path=model_path)
