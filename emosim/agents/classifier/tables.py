"""Rich tables for the classifier's commands: evaluation scores and annotations."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from emosim.schemas import EmotionAnnotation

from .evaluate import Scores
from .model import ModelMeta
from .retrain import Retrained
from .store import Built


def scores_tables(scores: Scores, width: int) -> Group:
    """Summary, per-class scores and the confusion matrix (its top cells when too wide)."""
    head = Table(title=f"{scores.dataset} - level {scores.level}", show_header=False)
    head.add_column(style="bold")
    head.add_column()
    head.add_row("file", scores.file)
    head.add_row("n", str(scores.n))
    head.add_row("accuracy", f"{scores.accuracy:.4f}")
    head.add_row("macro-F1", f"{scores.macro_f1:.4f}")
    for key, value in scores.extra.items():
        head.add_row(key.replace("_", " "), "-" if value is None else f"{value:g}")
    for key, count in scores.skipped.items():
        head.add_row("skipped", f"{count} x {key}")
    head.add_row("observer", scores.model)

    per_class = Table(title="per class")
    for name in ("class", "precision", "recall", "F1", "support", "predicted"):
        per_class.add_column(name, justify="left" if name == "class" else "right")
    for c in scores.classes:
        per_class.add_row(
            c.label,
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.f1:.3f}",
            str(c.support),
            str(c.predicted),
        )

    return Group(head, per_class, _confusion(scores, width))


def _confusion(scores: Scores, width: int) -> Table:
    labels, rows = scores.labels, scores.confusion
    cell = max(len(str(len(labels))), *(len(str(n)) for row in rows for n in row)) + 1
    name = max(len(f"{i} {label}") for i, label in enumerate(labels)) + 2
    if name + len(labels) * (cell + 1) <= width:
        matrix = Table(
            title="confusion (rows: gold, columns: predicted)", box=box.SIMPLE_HEAD, padding=(0, 1)
        )
        matrix.add_column("gold \\ predicted")
        for i in range(len(labels)):
            matrix.add_column(str(i), justify="right")
        for i, (label, row) in enumerate(zip(labels, rows, strict=True)):
            cells = [
                Text(str(n), "bold") if j == i else (str(n) if n else ".")
                for j, n in enumerate(row)
            ]
            matrix.add_row(f"{i} {label}", *cells)
        return matrix
    pairs = sorted(
        (
            (n, labels[i], labels[j])
            for i, row in enumerate(rows)
            for j, n in enumerate(row)
            if i != j and n
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )[:15]
    table = Table(title="most frequent confusions (full matrix: --json or a wider terminal)")
    for column in ("gold", "predicted", "rows"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for n, gold, predicted in pairs:
        table.add_row(gold, predicted, str(n))
    return table


def built_table(built: Built) -> Table:
    meta = built.meta
    table = Table(title="emotion classifier", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("model", str(built.path))
    table.add_row(
        "status", f"built in {built.seconds:.1f} s" if built.built else "up to date (cached)"
    )
    table.add_row("code version", meta.code_version)
    table.add_row("data", f"{meta.data_file} sha256 {meta.data_sha256[:16]}...")
    table.add_row(
        "rows",
        f"{meta.n_train} (calibrated on {meta.params.folds}-fold out-of-fold scores)",
    )
    mean_f1 = sum(c.f1 for c in meta.calibration) / len(meta.calibration)
    table.add_row("out-of-fold label F1", f"{mean_f1:.3f} (mean over labels, at thresholds)")
    if meta.group_calibration:
        group_f1 = sum(c.f1 for c in meta.group_calibration) / len(meta.group_calibration)
        table.add_row(
            "out-of-fold Ekman F1", f"{group_f1:.3f} (mean over {len(meta.groups)} groups)"
        )
    for name, value in (("label", meta.cv_macro_f1), ("Ekman", meta.cv_group_macro_f1)):
        if value is not None:
            table.add_row(
                f"cross-validated {name} macro-F1",
                f"{value:.3f} (thresholds chosen on the other folds)",
            )
    _provenance_rows(table, meta)
    return table


def _provenance_rows(table: Table, meta: ModelMeta) -> None:
    """License, attribution and the scores on human text stored in the model."""
    table.add_row("license", meta.license or "none inherited (trained on your own labels)")
    if meta.attribution:
        table.add_row("attribution", meta.attribution)
    for s in meta.human_text:
        table.add_row(
            f"human text: {s.dataset}",
            f"{s.level} accuracy {s.accuracy:.3f}, macro-F1 {s.macro_f1:.3f} on {s.n} ({s.split})",
        )


def retrained_table(result: Retrained, kind: str) -> Table:
    meta = result.meta
    training = result.training
    table = Table(title=f"{kind} observer retrained from reviewed labels", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("model", str(result.path))
    table.add_row("built in", f"{result.seconds:.1f} s")
    table.add_row(
        "store labels",
        f"{len(training.examples)} from {training.path} (content sha256 {training.sha256[:16]}...)",
    )
    if training.skipped:
        table.add_row(
            "not used",
            ", ".join(f"{why}: {n}" for why, n in sorted(training.skipped.items())),
        )
    table.add_row("labels", ", ".join(f"{k} {v}" for k, v in training.counts().items()) or "-")
    table.add_row(
        "trained on",
        "; ".join(f"{s.name} ({s.file}, {s.rows} rows)" for s in meta.sources),
    )
    table.add_row("data sha256", f"{meta.data_sha256[:16]}...")
    _provenance_rows(table, meta)
    return table


def annotation_table(texts: list[str], annotations: list[EmotionAnnotation]) -> Table:
    table = Table(title="emotion observer")
    for name in ("text", "primary", "family", "secondary", "intensity", "confidence", "evidence"):
        table.add_column(name)
    for text, a in zip(texts, annotations, strict=True):
        evidence = ", ".join(f"{c.text!r}@{c.start}:{c.signals}" for c in a.cues)
        table.add_row(
            text,
            a.primary,
            a.family,
            a.secondary or "-",
            f"{a.intensity:.2f} ({a.intensity_level})",
            f"{a.confidence:.2f}",
            evidence or "-",
        )
    return table
