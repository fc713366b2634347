"""Draw the report's figures as PNG bytes with matplotlib's object API (Agg canvas, no pyplot
state, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .models import ClassificationScores, ReportFigures

COLORS = {
    "true": "#1f4e79",
    "observed": "#d9822b",
    "advanced": "#3a8f5c",
    "stalled": "#b8b8b8",
    "regressed": "#c0392b",
    "client": "#1f77b4",
    "advisor": "#9467bd",
    "sent": "#c0392b",
    "rejected": "#7f8c8d",
}
DPI = 90


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555")
    ax.set_xticks([])
    ax.set_yticks([])


def _heatmap(
    ax: Axes,
    values: np.ndarray,
    shading: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    cmap: str,
    labels: Sequence[Sequence[str]] | None = None,
) -> None:
    ax.imshow(shading, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45 if len(cols) > 4 else 0, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            text = labels[i][j] if labels else str(int(values[i, j]))
            if text and text != "0":
                dark = shading[i, j] > 0.6
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )


def trajectories(fig_data: ReportFigures) -> bytes:
    fig = Figure(figsize=(12, 6.5))
    axes = fig.subplots(2, 3, sharey="row")
    for col, traj in enumerate(fig_data.trajectories):
        top, bottom = axes[0][col], axes[1][col]
        top.set_title(f"{traj.length_class} ({traj.conversations} conversations)")
        if not traj.points:
            _empty(top, "no client turns with a true state")
            _empty(bottom, "")
            continue
        x = [p.exchange for p in traj.points]
        top.plot(x, [p.true_valence for p in traj.points], "-o", color=COLORS["true"], label="true")
        top.plot(
            x,
            [p.observed_valence for p in traj.points],
            "--s",
            color=COLORS["observed"],
            label="observed",
        )
        bottom.plot(
            x, [p.true_intensity for p in traj.points], "-o", color=COLORS["true"], label="true"
        )
        bottom.plot(
            x,
            [p.observed_intensity for p in traj.points],
            "--s",
            color=COLORS["observed"],
            label="observed",
        )
        for ax in (top, bottom):
            ax.set_xticks(x)
            ax.grid(alpha=0.3)
        bottom.set_xlabel("exchange")
        top.set_ylim(-1, 1)
        bottom.set_ylim(0, 1)
    axes[0][0].set_ylabel("mean valence")
    axes[1][0].set_ylabel("mean intensity")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle("Client emotion over the conversation: true (hidden arc) vs observed")
    return _png(fig)


def coverage(fig_data: ReportFigures) -> bytes:
    cov = fig_data.coverage
    emotions = list(dict.fromkeys(c.emotion for c in cov.cells))
    levels = ["low", "medium", "high"]
    cell = {(c.emotion, c.level): c for c in cov.cells}
    counts = np.array([[cell[(e, lv)].count for lv in levels] for e in emotions], dtype=float)
    ratio = np.array(
        [
            [
                min(1.0, cell[(e, lv)].count / cell[(e, lv)].target)
                if cell[(e, lv)].target
                else 1.0
                for lv in levels
            ]
            for e in emotions
        ]
    )
    labels = [[f"{cell[(e, lv)].count}/{cell[(e, lv)].target}" for lv in levels] for e in emotions]
    fig = Figure(figsize=(5.5, 0.32 * len(emotions) + 1.5))
    ax = fig.subplots()
    _heatmap(ax, counts, ratio, emotions, levels, "Greens", labels)
    ax.set_title(f"Client turns vs target ({cov.cells_met}/{cov.cells_total} cells met)")
    return _png(fig)


def strategies(fig_data: ReportFigures) -> bytes:
    dist = fig_data.strategies
    names = sorted(
        set(dist.intended) | set(dist.observed),
        key=lambda s: -(dist.intended.get(s, 0) + dist.observed.get(s, 0)),
    )
    fig = Figure(figsize=(8, 0.35 * max(len(names), 3) + 1.2))
    ax = fig.subplots()
    if not names:
        _empty(ax, "no advisor turns")
        return _png(fig)
    y = np.arange(len(names))
    ax.barh(
        y - 0.2,
        [dist.intended.get(s, 0) for s in names],
        0.4,
        label="planned",
        color=COLORS["true"],
    )
    ax.barh(
        y + 0.2,
        [dist.observed.get(s, 0) for s in names],
        0.4,
        label="observed",
        color=COLORS["observed"],
    )
    ax.axvline(
        dist.target_per_strategy,
        color="#555",
        linestyle=":",
        label=f"target {dist.target_per_strategy}",
    )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("advisor turns (primary strategy)")
    ax.legend(fontsize=8)
    ax.set_title("Strategy distribution")
    return _png(fig)


def outcomes(fig_data: ReportFigures) -> bytes:
    rows = fig_data.outcomes.rows
    fig = Figure(figsize=(8, 0.35 * max(len(rows), 3) + 1.2))
    ax = fig.subplots()
    if not rows:
        _empty(ax, "no advisor turn is followed by a true client state")
        return _png(fig)
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for kind in ("advanced", "stalled", "regressed"):
        share = np.array([getattr(r, kind) / r.n if r.n else 0.0 for r in rows])
        ax.barh(y, share, left=left, color=COLORS[kind], label=kind)
        left += share
    ax.set_yticks(y, [f"{r.strategy} (n={r.n})" for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of next client turns")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("How the client's next true state moved after each strategy")
    return _png(fig)


def next_emotions(fig_data: ReportFigures) -> bytes:
    rows = fig_data.outcomes.rows
    seen = {e for r in rows for e in r.next_emotions}
    order = list(dict.fromkeys(c.emotion for c in fig_data.coverage.cells))  # taxonomy order
    emotions = [e for e in order if e in seen] + sorted(seen - set(order))
    fig = Figure(figsize=(max(6.0, 0.45 * len(emotions) + 3), 0.35 * max(len(rows), 3) + 1.5))
    ax = fig.subplots()
    if not rows:
        _empty(ax, "no advisor turn is followed by a true client state")
        return _png(fig)
    counts = np.array([[r.next_emotions.get(e, 0) for e in emotions] for r in rows], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    _heatmap(ax, counts, shares, [r.strategy for r in rows], emotions, "Blues")
    ax.set_title("True emotion of the client turn after each strategy")
    return _png(fig)


def _bars(title: str, data: dict[str, int], xlabel: str, empty: str) -> bytes:
    fig = Figure(figsize=(7, 0.33 * max(len(data), 3) + 1.2))
    ax = fig.subplots()
    if not data:
        _empty(ax, empty)
    else:
        names = list(data)
        ax.barh(range(len(names)), list(data.values()), color=COLORS["regressed"])
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _png(fig)


def rejections(fig_data: ReportFigures) -> bytes:
    rej = fig_data.rejections
    return _bars(
        f"Critic findings on {rej.rejected_drafts} rejected drafts",
        rej.reasons,
        "findings",
        "no rejected drafts",
    )


def lengths(fig_data: ReportFigures) -> bytes:
    lens = fig_data.lengths
    fig = Figure(figsize=(12, 3.4))
    a, b, c = fig.subplots(1, 3)
    a.bar([str(k) for k in lens.exchanges], list(lens.exchanges.values()), color=COLORS["true"])
    a.set_xlabel("exchanges")
    a.set_ylabel("conversations")
    a.set_title("Exchanges per conversation")
    for ax, hist, who in (
        (b, lens.client_word_histogram, "client"),
        (c, lens.advisor_word_histogram, "advisor"),
    ):
        ax.bar(list(hist), list(hist.values()), color=COLORS[who])
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        ax.set_xlabel("words per turn")
        ax.set_title(f"{who.capitalize()} turn length")
    return _png(fig)


def diversity(fig_data: ReportFigures) -> bytes:
    div = fig_data.diversity
    metrics = ["distinct_1", "distinct_2", "near_duplicate_rate"]
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    x = np.arange(len(metrics))
    for offset, who in ((-0.2, "client"), (0.2, "advisor")):
        scores = getattr(div, who)
        ax.bar(
            x + offset,
            [getattr(scores, m) for m in metrics],
            0.4,
            color=COLORS[who],
            label=f"{who} ({scores.texts} turns)",
        )
    ax.set_xticks(x, ["distinct-1", "distinct-2", f"near-duplicate rate (J>={div.threshold})"])
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Lexical diversity")
    return _png(fig)


def compliance(fig_data: ReportFigures) -> bytes:
    comp = fig_data.compliance
    names = list(comp.findings)
    fig = Figure(figsize=(7, 0.4 * max(len(names), 3) + 1.2))
    ax = fig.subplots()
    if not names:
        _empty(ax, "no compliance findings")
    else:
        y = np.arange(len(names))
        ax.barh(
            y - 0.2,
            [comp.findings[k].sent for k in names],
            0.4,
            color=COLORS["sent"],
            label="sent replies",
        )
        ax.barh(
            y + 0.2,
            [comp.findings[k].rejected for k in names],
            0.4,
            color=COLORS["rejected"],
            label="rejected drafts",
        )
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.legend(fontsize=8)
        ax.set_xlabel("findings")
    ax.set_title("Compliance findings")
    return _png(fig)


def confusion(scores: ClassificationScores, title: str) -> bytes:
    labels = scores.labels
    counts = np.array(scores.confusion, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.5, 0.42 * len(labels) + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    _heatmap(ax, counts, shares, labels, labels, "Purples")
    ax.set_xlabel("observed")
    ax.set_ylabel("true (hidden arc)")
    ax.set_title(f"{title}: accuracy {scores.accuracy:.2f}, macro-F1 {scores.macro_f1:.2f}")
    return _png(fig)


PLOTS: dict[str, Callable[[ReportFigures], bytes]] = {
    "trajectories": trajectories,
    "coverage": coverage,
    "strategies": strategies,
    "outcomes": outcomes,
    "next_emotions": next_emotions,
    "rejections": rejections,
    "lengths": lengths,
    "diversity": diversity,
    "compliance": compliance,
}


def render_plots(fig_data: ReportFigures) -> dict[str, bytes]:
    """Figure name -> PNG bytes; the observer confusions only when there is ground truth."""
    out = {name: draw(fig_data) for name, draw in PLOTS.items()}
    if fig_data.observer is not None:
        out["observer_emotion"] = confusion(fig_data.observer.emotion, "Emotion (member)")
        out["observer_family"] = confusion(fig_data.observer.family, "Family")
    return out
