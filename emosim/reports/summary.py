"""The report's headline numbers, shared by the HTML page and the terminal summary."""

from __future__ import annotations

from rich.table import Table

from .models import ReportFigures


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def headline(f: ReportFigures) -> list[tuple[str, str]]:
    obs = f.observer
    rows = [
        ("conversations", str(f.conversations)),
        ("advisor turns", str(f.rejections.advisor_turns)),
        *_human_text_rows(f),
        (
            "observer emotion accuracy / macro-F1, simulated text (vs hidden arc)",
            f"{_fmt(obs.emotion.accuracy)} / {_fmt(obs.emotion.macro_f1)}" if obs else "n/a",
        ),
        (
            "observer family accuracy / macro-F1, simulated text (vs hidden arc)",
            f"{_fmt(obs.family.accuracy)} / {_fmt(obs.family.macro_f1)}" if obs else "n/a",
        ),
        (
            "observer intensity MAE / level accuracy, simulated text",
            f"{_fmt(obs.intensity_mae)} / {_fmt(obs.level_accuracy)}" if obs else "n/a",
        ),
        ("strategy observer agreement", _fmt(f.strategies.observer_agreement)),
        ("critic first-pass acceptance", _fmt(f.rejections.first_pass_rate)),
        ("rejected drafts", str(f.rejections.rejected_drafts)),
        ("sent replies with compliance findings", str(f.compliance.sent_replies_with_findings)),
        ("coverage cells met", f"{f.coverage.cells_met}/{f.coverage.cells_total}"),
        (
            "distinct-2 client / advisor",
            f"{_fmt(f.diversity.client.distinct_2)} / {_fmt(f.diversity.advisor.distinct_2)}",
        ),
        (
            "near-duplicate rate client / advisor",
            f"{_fmt(f.diversity.client.near_duplicate_rate)} / "
            f"{_fmt(f.diversity.advisor.near_duplicate_rate)}",
        ),
        *_preference_rows(f),
        (
            "model cost (USD)",
            f"{f.cost.cost_usd:.4f}"
            + (
                f" + {f.cost.unpriced_conversations} unpriced"
                if f.cost.unpriced_conversations
                else ""
            ),
        ),
    ]
    return rows


def _preference_rows(f: ReportFigures) -> list[tuple[str, str]]:
    """Human preference review: what was judged and Krippendorff's alpha per task."""
    p = f.preferences
    if p is None:
        return []
    rows = [
        ("candidate sets ranked / rankings", f"{p.ranked_sets}/{p.candidate_sets} / {p.rankings}"),
        ("human preference pairs", str(p.preference_pairs)),
    ]
    if p.reviewed_conversations:
        rows.append(
            (
                "conversations reviewed (accept / reject verdicts)",
                f"{p.reviewed_conversations} ({p.verdicts.get('accept', 0)} / "
                f"{p.verdicts.get('reject', 0)})",
            )
        )
    rows += [(f"reviewer agreement, {a.task} (alpha)", _fmt(a.alpha)) for a in p.agreement]
    return rows


def _human_text_rows(f: ReportFigures) -> list[tuple[str, str]]:
    """Observer accuracy on human text, from each model's stored scores."""
    rows = []
    for o in f.human_text:
        name = o.observer.split("/", 1)[0]
        for s in o.scores:
            rows.append(
                (
                    f"{name} {s.level} accuracy / macro-F1, human text ({s.dataset})",
                    f"{_fmt(s.accuracy)} / {_fmt(s.macro_f1)}",
                )
            )
        if not o.scores:
            rows.append((f"{name} accuracy on human text", "not measured"))
    return rows


def summary_table(f: ReportFigures) -> Table:
    table = Table(title="Quality report", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value", justify="right")
    for name, value in headline(f):
        table.add_row(name, value)
    return table
