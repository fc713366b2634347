"""The trained strategy observer: training time and labelling throughput on ESConv's train split.

Training: `train_strategy_model` with the default parameters (5 dialog-grouped folds for the
calibration, then the final fit) against one plain TF-IDF (word 1-2-grams) + LinearSVC fit on
the utterances alone, in the same run. Target: under 3 minutes on 2 cores.

Labelling: utterances per CPU-second of this process (the sparse products run on one thread,
so per core) for the model's batch path (`predict`: features, SVM scores, calibration, as
`eval strategies` uses it) and for the observer one reply at a time with sentences and
evidence (`read`, what a live run calls), against the plain TF-IDF + LinearSVC predict on the
same texts. Target: at least 5,000 utterances/s per core for batch labelling. CPU time, not
wall time, so a busy machine does not lower the figure; the load average is printed beside it.
"""

from __future__ import annotations

import os
import time

from rich.console import Console
from rich.table import Table
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from emosim.agents.classifier.esconv_train import TRAIN_FILE, read_strategy_examples
from emosim.agents.classifier.strategy_model import StrategyParams, train_strategy_model
from emosim.agents.classifier.strategy_observer import TrainedStrategyObserver
from emosim.agents.classifier.strategy_store import default_data_dir

LABEL_ROWS = 12000
READ_ROWS = 300


def _per_cpu_second(run, items: list, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run(items)
        best = min(best, time.process_time() - started)
    return len(items) / best


def main() -> None:
    from emosim.agents.scripted.observers import LexiconStrategyObserver
    from emosim.catalog import get_catalog

    console = Console()
    examples, _ = read_strategy_examples(default_data_dir() / TRAIN_FILE)
    texts = [e.text for e in examples]
    labels = [e.strategy for e in examples]

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    plain = LinearSVC(C=0.3, random_state=0).fit(vectorizer.fit_transform(texts), labels)
    baseline = time.perf_counter() - started
    params = StrategyParams()
    started = time.perf_counter()
    model = train_strategy_model(examples, params, data_file=TRAIN_FILE, data_sha256="bench")
    seconds = time.perf_counter() - started
    load = os.getloadavg()[0]
    table = Table(title=f"strategies: training on {len(examples):,} ESConv utterances")
    for col in ("training", "wall s", "vs plain fit", "load avg"):
        table.add_column(col)
    table.add_row("plain TF-IDF + LinearSVC, utterance only (baseline)", f"{baseline:.1f}", "1.00x")
    table.add_row(
        f"train_strategy_model: {params.calibration_folds}-fold calibration + final fit",
        f"{seconds:.1f}",
        f"{seconds / baseline:.2f}x",
        f"{load:.1f}",
    )
    console.print(table)

    rows = (examples * (LABEL_ROWS // len(examples) + 1))[:LABEL_ROWS]
    row_texts = [e.text for e in rows]
    base = _per_cpu_second(lambda t: plain.predict(vectorizer.transform(t)), row_texts)
    batch = _per_cpu_second(model.predict, rows)
    catalog = get_catalog()
    observer = TrainedStrategyObserver(catalog, model, lexicon=LexiconStrategyObserver(catalog))
    sample = rows[:READ_ROWS]
    reads = _per_cpu_second(
        lambda items: [observer.read(e.text, e.context) for e in items], sample, repeat=1
    )
    table = Table(title=f"strategies: labelling, utterances per CPU-second (load {load:.1f})")
    for col in ("path", "utterances/s per core", "vs plain predict"):
        table.add_column(col)
    table.add_row("plain TF-IDF + LinearSVC predict (baseline)", f"{base:,.0f}", "1.00x")
    table.add_row(
        "batch: model.predict (+ context, shape, calibration)",
        f"{batch:,.0f}",
        f"{batch / base:.2f}x",
    )
    table.add_row(
        "observer.read, one reply, sentences + evidence", f"{reads:,.0f}", f"{reads / base:.2f}x"
    )
    console.print(table)
