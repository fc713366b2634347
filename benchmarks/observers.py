"""The trained observers: emotion classifier training time and labelling throughput.

Training: `train_model` on GoEmotions' train split with the default parameters (4-fold
cross-fitted calibration, 28 label heads + 7 Ekman heads) against one plain fit of the same
features and 35 heads on all rows (no cross-fitting), in the same run. Both run in this
process (one worker) and are timed in CPU seconds, which a busy machine does not inflate; the
heads are fitted in 2 worker processes in real use, so the time on 2 cores is about half.
Target: under 3 minutes on 2 cores.

Labelling: utterances per CPU-second of this process (one core: the sparse products run on
one thread) for the model's batch path (`all_margins`: label and Ekman-head margins from one
pass over the features, as `eval` uses it) and for the observer one turn at a time with
evidence (`observe`, what a live run calls), against TF-IDF feature extraction alone as the
baseline. Target: at least 5,000 utterances/s per core for batch labelling. CPU time, not
wall time, so a busy machine does not lower the figure; the load average is printed beside it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy import sparse

from emosim.agents.classifier.goemotions import (
    EKMAN_FILE,
    LABELS_FILE,
    TRAIN_FILE,
    default_data_dir,
    read_ekman,
    read_examples,
    read_label_names,
)
from emosim.agents.classifier.model import (
    TrainingParams,
    _fit_heads,
    _vectorizer,
    group_targets,
    train_model,
)

DEV_FILE = "dev.tsv"
LABEL_ROWS = 5426  # the dev split, repeated if needed
OBSERVE_ROWS = 300


def _plain_fit(examples, labels, ekman, params: TrainingParams) -> float:
    """CPU seconds for the same features and 35 heads fitted once on all rows (baseline)."""
    started = time.process_time()
    texts = [e.text for e in examples]
    word = _vectorizer(
        "word", params, max_features=params.word_max_features, min_df=params.word_min_df
    )
    char = _vectorizer(
        "char", params, max_features=params.char_max_features, min_df=params.char_min_df
    )
    features = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    targets = np.zeros((len(examples), len(labels)), dtype=np.int8)
    for row, example in enumerate(examples):
        targets[row, list(example.labels)] = 1
    _, group_y, has_group = group_targets(examples, labels, ekman)
    targets = np.hstack([targets, group_y])
    usable = np.hstack(
        [np.ones((len(examples), len(labels)), bool), np.repeat(has_group[:, None], 7, axis=1)]
    )
    chunks = [list(range(k, targets.shape[1], 4)) for k in range(4)]
    for heads in chunks:
        _fit_heads(features, targets, usable, heads, params.svm_c)
    return time.process_time() - started


def _per_cpu_second(run, texts: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run(texts)
        best = min(best, time.process_time() - started)
    return len(texts) / best


def main() -> None:
    console = Console()
    folder = default_data_dir()
    labels = read_label_names(folder / LABELS_FILE)
    ekman = read_ekman(folder / EKMAN_FILE, labels)
    examples = read_examples(folder / TRAIN_FILE, len(labels))
    params = TrainingParams()

    baseline = _plain_fit(examples, labels, ekman, params)
    started = time.process_time()
    model = train_model(
        examples,
        labels,
        params=params,
        data_file=TRAIN_FILE,
        data_sha256="bench",
        ekman=ekman,
        workers=1,
    )
    seconds = time.process_time() - started
    load = os.getloadavg()[0]
    table = Table(title=f"observers: emotion training on {len(examples):,} rows, CPU seconds")
    for col in ("training", "CPU s", "vs plain fit", "load avg"):
        table.add_column(col)
    table.add_row("plain fit: features + 35 heads once", f"{baseline:.1f}", "1.00x", "")
    table.add_row(
        f"train_model: {params.folds}-fold cross-fitted, 35 heads",
        f"{seconds:.1f}",
        f"{seconds / baseline:.2f}x",
        f"{load:.1f}",
    )
    console.print(table)

    dev = [e.text for e in read_examples(folder / DEV_FILE, len(labels))]
    texts = (dev * (LABEL_ROWS // len(dev) + 1))[:LABEL_ROWS]
    features = _per_cpu_second(model.features, texts)
    batch = _per_cpu_second(model.all_margins, texts)
    observe_rate = _observe_rate(model, texts[:OBSERVE_ROWS])
    table = Table(
        title=f"observers: emotion labelling, utterances per CPU-second (load {load:.1f})"
    )
    for col in ("path", "utterances/s per core", "vs features alone"):
        table.add_column(col)
    table.add_row("TF-IDF features alone (baseline)", f"{features:,.0f}", "1.00x")
    table.add_row("batch: margins + Ekman heads", f"{batch:,.0f}", f"{batch / features:.2f}x")
    table.add_row(
        "observer.observe, one turn, with evidence",
        f"{observe_rate:,.0f}",
        f"{observe_rate / features:.2f}x",
    )
    console.print(table)


def _observe_rate(model, texts: list[str]) -> float:
    import tempfile

    from emosim.agents.classifier import build_classifier_observer
    from emosim.agents.messages import EmotionObserverInput
    from emosim.catalog import get_catalog

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        model.save(path)
        observer = build_classifier_observer(get_catalog(), model_path=path)

    def run(batch: list[str]) -> None:
        previous = None
        for text in batch:
            previous = observer.observe(EmotionObserverInput(text=text, previous=previous))

    return _per_cpu_second(run, texts, repeat=1)
