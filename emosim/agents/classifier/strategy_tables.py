"""Rich tables for the strategy model's commands (training, cross-validation, readings)."""

from __future__ import annotations

from rich.table import Table

from .strategy_cv import CrossValidation
from .strategy_observer import ReplyReading
from .strategy_store import StrategyBuilt


def strategy_built_table(built: StrategyBuilt, cross: CrossValidation | None = None) -> Table:
    meta = built.meta
    table = Table(title="strategy model (ESConv)", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("model", str(built.path))
    table.add_row(
        "status", f"built in {built.seconds:.1f} s" if built.built else "up to date (cached)"
    )
    table.add_row("name / version", f"{meta.name} {meta.version}")
    table.add_row("data", f"{meta.data_file} sha256 {meta.data_sha256[:16]}...")
    table.add_row("rows", f"{meta.n_train} supporter utterances in {meta.n_dialogs} dialogs")
    table.add_row("license", meta.license or "none inherited (trained on your own labels)")
    if meta.attribution:
        table.add_row("attribution", meta.attribution)
    for s in meta.human_text:
        table.add_row(
            f"human text: {s.dataset}",
            f"accuracy {s.accuracy:.3f}, macro-F1 {s.macro_f1:.3f} on {s.n} ({s.split})",
        )
    if cross is not None:
        for row in cross.per_label:
            table.add_row(f"  F1 {row.label}", f"{row.f1:.3f} (support {row.support})")
    return table


def reading_table(readings: list[ReplyReading]) -> Table:
    table = Table(title="strategies (trained observer)")
    for column in ("text", "ESConv", "strategy", "confidence", "evidence"):
        table.add_column(column, justify="right" if column == "confidence" else "left")
    for reading in readings:
        for r, indent in ((reading, ""), *((s, "  ") for s in reading.sentences)):
            if indent and len(reading.sentences) < 2:
                continue
            table.add_row(
                indent + r.text,
                r.esconv,
                r.strategy,
                f"{r.confidence:.2f}",
                ", ".join(f"{e.term} ({e.source})" for e in r.evidence),
            )
    return table
