"""Rich tables for the evaluations' human output (`--json` prints the models instead)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from emosim.reports.models import ObserverAccuracy

from .critic import CriticEvaluation
from .strategies import StrategyEvaluation


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def observer_table(result: ObserverAccuracy) -> Table:
    table = Table(
        title=f"Emotion observer vs hidden arc: agreement on simulated text "
        f"({result.n} client turns)"
    )
    table.add_column("level")
    table.add_column("accuracy", justify="right")
    table.add_column("macro-F1", justify="right")
    table.add_row(
        "emotion (member)", f"{result.emotion.accuracy:.3f}", f"{result.emotion.macro_f1:.3f}"
    )
    table.add_row("family", f"{result.family.accuracy:.3f}", f"{result.family.macro_f1:.3f}")
    table.add_row("intensity level", f"{result.level_accuracy:.3f}", "")
    table.add_row("intensity MAE", f"{result.intensity_mae:.3f}", "")
    return table


def critic_tables(result: CriticEvaluation, *, show_misses: int = 2) -> list[Table]:
    rows = Table(title=f"Critic evaluation: {result.critic} (seed {result.seed}, n {result.n})")
    for col in ("category", "kind", "n", "rejected", "recall", "false rejects", "codes"):
        rows.add_column(
            col, justify="right" if col in {"n", "rejected", "recall", "false rejects"} else "left"
        )
    for r in result.categories:
        bad_miss = r.kind == "bad" and (r.recall or 0) < result.target_recall
        good_miss = (
            r.kind == "good" and (r.false_reject_rate or 0) > result.target_false_reject_rate
        )
        style = "red" if bad_miss or good_miss else ""
        name = r.category + ("" if r.independent else " *")
        codes = ", ".join(f"{k} {v}" for k, v in list(r.codes.items())[:3])
        rows.add_row(
            Text(name, style=style),
            r.kind,
            str(r.n),
            str(r.rejected),
            _pct(r.recall),
            _pct(r.false_reject_rate),
            codes,
        )
    totals = Table(
        title="Totals (target: recall >= "
        f"{_pct(result.target_recall)}, false rejects <= "
        f"{_pct(result.target_false_reject_rate)})"
    )
    for col in (
        "group",
        "bad",
        "recall",
        "good",
        "false rejects",
        "independent false rejects",
        "meets target",
    ):
        totals.add_column(col, justify="left" if col == "group" else "right")
    for name, t in [*result.groups.items(), ("overall", result.overall)]:
        totals.add_row(
            Text(name, style="bold" if name == "overall" else ""),
            str(t.bad),
            _pct(t.recall),
            str(t.good),
            _pct(t.false_reject_rate),
            _pct(t.independent_false_reject_rate),
            Text("yes", "green") if t.meets_target else Text("no", "red"),
        )
    out = [rows, totals]
    if show_misses:
        misses = Table(title="Examples the critic got wrong", show_lines=True)
        misses.add_column("category")
        misses.add_column("critic codes")
        misses.add_column("text")
        for r in result.categories:
            for m in r.misses[:show_misses]:
                misses.add_row(r.category, ", ".join(m.codes) or "(none)", m.text)
        if misses.row_count:
            out.append(misses)
    return out


def strategy_tables(result: StrategyEvaluation) -> list[Table]:
    head = Table(
        title=f"Strategy observer {result.observer} vs ESConv human labels ({result.n} utterances)"
    )
    head.add_column("measure")
    head.add_column("value", justify="right")
    head.add_row("accuracy", f"{result.accuracy:.3f}")
    head.add_row("macro-F1 (8 labels)", f"{result.macro_f1:.3f}")
    if result.no_cue_share is not None:
        head.add_row("no strategy cue", _pct(result.no_cue_share))
    head.add_row("labels outside the eight (skipped)", str(result.skipped_labels))
    head.caption = result.attribution + (
        f" The observer's labels inherit: {result.license}." if result.license else ""
    )

    labels = Table(title="Per ESConv strategy")
    for col in ("label", "support", "predicted", "precision", "recall", "F1"):
        labels.add_column(col, justify="left" if col == "label" else "right")
    for r in result.per_label:
        labels.add_row(
            r.label,
            str(r.support),
            str(r.predicted),
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            f"{r.f1:.3f}",
        )

    strategies = Table(title="Per taxonomy strategy (observer's primary)")
    for col in ("strategy", "ESConv label", "predicted", "correct", "precision"):
        strategies.add_column(
            col, justify="right" if col in {"predicted", "correct", "precision"} else "left"
        )
    for r in result.per_strategy:
        strategies.add_row(
            r.strategy,
            r.esconv,
            str(r.predicted),
            str(r.correct),
            "" if r.precision is None else f"{r.precision:.3f}",
        )

    short = {label: "".join(w[0] for w in label.split()).upper() for label in result.labels}
    confusion = Table(title="Confusion (rows: human label, columns: observer)")
    confusion.add_column("")
    for label in result.labels:
        confusion.add_column(short[label], justify="right")
    for label, row in zip(result.labels, result.confusion, strict=True):
        confusion.add_row(f"{short[label]} {label}", *(str(v) for v in row))
    return [head, labels, strategies, confusion]
