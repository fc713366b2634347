"""Rich tables for the labels commands (human output; `--json` gives the models instead)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .analytics import AnalyticsReport
from .audit import AuditedEvent
from .resolve import ResolvedLabel
from .review import ReviewImport
from .rules import RuleOutcome
from .store import utc


def _v(value: Any) -> str:
    return "∅" if value is None else str(value)


def _where(target: Any) -> str:
    parts = [target.conversation_id]
    if target.turn_index is not None:
        parts.append(f"t{target.turn_index}")
    if target.sentence_index is not None:
        parts.append(f"s{target.sentence_index}")
    return " ".join(parts)


_SUMMARY = {
    "model": "model",
    "rule": "rule",
    "human_bulk_review": "review",
    "live_operator": "operator",
    "rejected": "rejected",
}


def resolve_summary(rows: list[ResolvedLabel]) -> Table:
    table = Table(
        title="Resolved labels: targets by the source kind that won", title_justify="left"
    )
    table.add_column("field", overflow="fold")
    for col in ("targets", *_SUMMARY.values(), "disagree"):
        table.add_column(col, justify="right")
    by_field: dict[str, Counter] = {}
    for row in rows:
        c = by_field.setdefault(row.target.field, Counter())
        c["targets"] += 1
        c[row.source.kind if row.source else row.status] += 1
        c["disagree"] += row.disagreement
    for name, c in sorted(by_field.items()):
        table.add_row(name, *(str(c[k]) for k in ("targets", *_SUMMARY, "disagree")))
    return table


def disagreements_table(rows: list[ResolvedLabel]) -> Table:
    table = Table(title=f"Disagreements ({len(rows)})", title_justify="left")
    for col in ("target", "field", "current", "won by", "opinions (source: value)"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            _where(row.target),
            row.target.field,
            _v(row.value),
            f"{row.source.kind}:{row.source.name}" if row.source else row.status,
            "; ".join(f"{o.source.kind}:{o.source.name}: {_v(o.value)}" for o in row.opinions),
        )
    return table


def history_table(events: list[AuditedEvent]) -> Table:
    """One conversation's events with what each supersedes; backdated links are flagged."""
    backdated = sum(a.backdated for a in events)
    title = "Label history (oldest first)"
    if backdated:
        title += f": {backdated} event(s) dated before the event they supersede (!)"
    table = Table(title=title, title_justify="left")
    for col in ("when (UTC)", "target", "action", "value", "source", "event id", "supersedes"):
        table.add_column(col, overflow="fold")
    for a in events:
        e, t = a.event, a.event.target
        where = " ".join(
            p
            for p in (
                f"t{t.turn_index}" if t.turn_index is not None else "",
                f"s{t.sentence_index}" if t.sentence_index is not None else "",
                t.field,
            )
            if p
        )
        chain = Text(" → ".join(a.chain))
        if a.backdated:
            chain = Text.assemble((f"! dated before {a.chain[0]}", "bold red"), " ", chain)
        table.add_row(
            utc(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            where,
            e.action,
            _v(e.value),
            f"{e.source.kind}:{e.source.name}",
            e.event_id,
            chain,
        )
    return table


def review_import_table(report: ReviewImport) -> Table:
    changed = [c for c in report.changes if c.changed]
    table = Table(
        title=f"{report.file}: {report.decisions} decision(s), {report.stored} stored, "
        f"{report.already_imported} already imported, {len(changed)} label(s) changed",
        title_justify="left",
    )
    for col in ("target", "field", "action", "before", "after", "reviewer"):
        table.add_column(col)
    for c in report.changes:
        style = "bold" if c.changed else "dim"
        table.add_row(
            _where(c.target),
            c.target.field,
            c.action,
            f"{_v(c.before)} ({c.before_source or '-'})",
            f"{_v(c.after)} ({c.after_source or '-'})",
            c.reviewer,
            style=style,
        )
    return table


def rules_table(outcomes: list[RuleOutcome], dry_run: bool) -> Table:
    verb = "would add" if dry_run else "added"
    table = Table(title="Rules applied", title_justify="left")
    for col in ("rule", "field", "label", "matched", "already agreed", "already stored", verb):
        table.add_column(col, justify="left" if col in ("rule", "field", "label") else "right")
    for o in outcomes:
        table.add_row(
            o.rule.id,
            o.rule.field,
            _v(o.rule.label),
            str(o.matched),
            str(o.agreed),
            str(o.already_stored),
            str(len(o.events)),
        )
    return table


def analytics_tables(report: AnalyticsReport, limit: int = 20) -> Group:
    sources = Table(
        title=f"Sources ({report.events} events, {report.targets} targets)", title_justify="left"
    )
    for col in ("kind", "labelled", "reviewed", "corrected", "correction rate"):
        sources.add_column(col, justify="left" if col == "kind" else "right")
    for s in report.sources:
        rate = "-" if s.correction_rate is None else f"{s.correction_rate:.0%}"
        sources.add_row(s.kind, str(s.labelled), str(s.reviewed), str(s.corrected), rate)

    corrections = Table(title="Corrections by context", title_justify="left")
    for col in ("source", "field", "topic / sub-category", "correction", "by", "n / reviewed"):
        corrections.add_column(
            col, justify="right" if col.startswith("n") else "left", overflow="fold"
        )
    for c in report.corrections[:limit]:
        corrections.add_row(
            c.kind,
            c.field,
            f"{c.topic} /\n{c.subcategory}",
            f"{_v(c.from_label)} → {_v(c.to_label)}",
            c.by,
            f"{c.count} / {c.reviewed}",
        )

    phrases = Table(
        title=f"Phrase x context findings ({report.tests} tested; FDR {report.options.fdr})",
        title_justify="left",
    )
    for col in ("correction", "context", "phrase", "n / reviewed", "rate (95% low)", "p", "status"):
        phrases.add_column(col, overflow="fold")
    for p in report.phrases[:limit]:
        context = {"subcategory": p.subcategory, "topic": f"topic {p.topic}"}.get(p.scope, "any")
        phrases.add_row(
            f"{p.field}: {_v(p.from_label)} → {_v(p.to_label)}",
            context or "",
            p.phrase,
            f"{p.corrections} / {p.reviewed}",
            f"{p.rate:.0%} ({p.rate_low:.0%})",
            f"{p.p_value:.2g}",
            p.status + (f": {p.note}" if p.note and p.status != "proposed" else ""),
        )

    agreement = Table(title="Agreement between sources", title_justify="left")
    for col in ("field", "sources", "n", "agreement", "Cohen's kappa"):
        agreement.add_column(col, justify="left" if col in ("field", "sources") else "right")
    for a in report.agreement:
        kappa = "-" if a.kappa is None else f"{a.kappa:.3f}"
        agreement.add_row(
            a.field, f"{a.kind_a} / {a.kind_b}", str(a.n), f"{a.agreement:.0%}", kappa
        )

    proposed = Table(
        title="Proposed rules, best first (accept with: emosim labels accept-rule ID)",
        title_justify="left",
    )
    for col in ("id", "rule", "when", "sets", "evidence", "accepted"):
        proposed.add_column(col, overflow="fold")
    for p in report.proposed_rules[:limit]:
        when = p.rule.when
        cond = [f"model says {_v(when.model_label)}"] if when.model_label is not None else []
        cond += [f"topic {', '.join(when.topic)}"] if when.topic else []
        cond += [f"sub-category {', '.join(when.subcategory)}"] if when.subcategory else []
        cond += [f"text has '{p.rule.phrase}'"] if p.rule.phrase else []
        cond += [f"text ~ /{p.rule.pattern}/"] if p.rule.pattern else []
        e = p.evidence
        proposed.add_row(
            p.id,
            p.rule.id,
            "; ".join(cond),
            f"{p.rule.field} = {_v(p.rule.label)}",
            f"{e.corrections}/{e.reviewed} = {e.precision:.0%} (95% low {e.rate_low:.0%}, "
            f"p {e.p_value:.2g}) by {', '.join(e.by)}",
            "yes" if p.accepted else "no",
        )
    parts: list[Any] = [sources, corrections, phrases, agreement, proposed]
    if report.not_proposed:
        missing = Table(title="Not proposed: corrections without a rule", title_justify="left")
        for col in ("correction", "n", "why"):
            missing.add_column(col, overflow="fold")
        for m in report.not_proposed[:limit]:
            missing.add_row(
                f"{m.field}: {_v(m.from_label)} → {_v(m.to_label)}", str(m.corrections), m.reason
            )
        parts.append(missing)
    parts.append(report.summary)
    return Group(*parts)
