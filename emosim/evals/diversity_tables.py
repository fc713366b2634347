"""Rich tables for `emosim eval diversity` (`--json` writes the models instead)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from .diversity import TARGETS, DiversityEvaluation, SpeakerFigures


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _mark(text: str, ok: bool | None) -> Text:
    return Text(text, style="" if ok is None else ("green" if ok else "red"))


def _speaker_rows(s: SpeakerFigures) -> dict[str, str]:
    m = s.matched
    return {
        "turns": str(s.turns),
        "sentences": str(s.sentences),
        "patterns (masked)": str(s.patterns),
        "pattern in 5+ convs": _pct(s.widespread_share),
        "  topic/feeling masked too": (
            f"{_pct(s.slot_widespread_share)} ({s.slot_patterns})"
            if s.slot_widespread_share is not None
            else ""
        ),
        "matched: turns": f"{m.turns} of {m.target_turns}" if m else "",
        "matched: distinct-2": f"{m.distinct_2:.3f}" if m else "",
        "matched: in 5+ convs": _pct(m.widespread_share) if m else "",
        "distinct-2 (all)": f"{s.distinct_2:.3f}",
        "words/turn median": f"{s.words_median:g}",
        "words/turn mean": f"{s.words_mean:.1f}",
    }


def _checks(e: DiversityEvaluation) -> dict[tuple[str, str], bool]:
    """(row, speaker) -> whether the figure meets its target."""
    a, c = e.speakers["advisor"], e.speakers["client"]
    out = {
        ("pattern in 5+ convs", "advisor"): a.widespread_share <= 0.40,
        ("pattern in 5+ convs", "client"): c.widespread_share <= 0.40,
        ("  topic/feeling masked too", "advisor"): (a.slot_widespread_share or 0) <= 0.40,
        ("  topic/feeling masked too", "client"): (c.slot_widespread_share or 0) <= 0.40,
        ("words/turn median", "advisor"): 30 <= a.words_median <= 55,
    }
    if a.matched:
        out["matched: distinct-2", "advisor"] = a.matched.distinct_2 >= 0.50
    if c.matched:
        out["matched: distinct-2", "client"] = c.matched.distinct_2 >= 0.60
    return out


_ROW_TARGETS = {
    "pattern in 5+ convs": f"{TARGETS['advisor_widespread_share']}",
    "  topic/feeling masked too": f"{TARGETS['advisor_widespread_share']}",
    "matched: distinct-2": f"{TARGETS['advisor_distinct_2']} / {TARGETS['client_distinct_2']}",
    "words/turn median": f"{TARGETS['advisor_median_words']} (adv.)",
}


def speaker_table(e: DiversityEvaluation, reference: DiversityEvaluation | None = None) -> Table:
    table = Table(title=f"Diversity per speaker: {e.conversations} conversations ({e.kind})")
    table.add_column("figure", no_wrap=True)
    table.add_column("advisor", justify="right")
    table.add_column("client", justify="right")
    if reference is not None:
        table.add_column(f"{reference.kind} advisor", justify="right")
        table.add_column(f"{reference.kind} client", justify="right")
    table.add_column("target")
    checks = _checks(e) if e.kind == "records" else {}
    rows = {s: _speaker_rows(e.speakers[s]) for s in ("advisor", "client")}
    ref = (
        {s: _speaker_rows(reference.speakers[s]) for s in ("advisor", "client")}
        if reference
        else None
    )
    for name in rows["advisor"]:
        cells = [_mark(rows[s][name], checks.get((name, s))) for s in ("advisor", "client")]
        if ref is not None:
            cells += [Text(ref["advisor"][name]), Text(ref["client"][name])]
        table.add_row(name, *cells, _ROW_TARGETS.get(name, ""))
    return table


def patterns_table(e: DiversityEvaluation, speaker: str) -> Table:
    s = e.speakers[speaker]
    table = Table(title=f"Most widespread {speaker} sentence patterns")
    table.add_column("conversations", justify="right")
    table.add_column("sentences", justify="right")
    table.add_column("pattern")
    for p in s.top_patterns:
        table.add_row(str(p.conversations), str(p.sentences), p.pattern)
    return table


def client_table(e: DiversityEvaluation, reference: DiversityEvaluation | None = None) -> Table:
    table = Table(title="Client turns, endings and outcomes")
    table.add_column("figure", max_width=44)
    table.add_column("value", justify="right")
    if reference is not None:
        table.add_column("reference", justify="right")
    table.add_column("target")
    simulated = e.kind == "records"

    def row(name: str, value: str, ok: bool | None, ref: str, target: str = "") -> None:
        cells = [_mark(value, ok if simulated else None)]
        if reference is not None:
            cells.append(Text(ref))
        table.add_row(name, *cells, target)

    a = e.acknowledgements
    ra = reference.acknowledgements if reference else None
    row(
        "bare acknowledgement turns",
        f"{_pct(a.share)} ({a.bare}/{a.client_turns})",
        a.share <= 0.03,
        _pct(ra.share) if ra else "",
        TARGETS["bare_acknowledgement_share"],
    )
    row(
        "turns with an ack-only sentence",
        f"{_pct(a.with_bare_sentence_share)} ({a.with_bare_sentence})",
        None,
        _pct(ra.with_bare_sentence_share) if ra else "",
    )
    if a.top:
        top = ", ".join(f'"{k}" {v}' for k, v in list(a.top.items())[:5])
        row("  most frequent", top, None, "")
    o = e.outcomes
    if o.available:
        mix = ", ".join(f"{k} {v}" for k, v in o.counts.items())
        row(
            "arc outcomes",
            mix,
            None,
            "",
        )
        row(
            "arcs not completed",
            _pct(o.not_completed_share),
            (o.not_completed_share or 0) >= 0.10,
            "",
            TARGETS["not_completed_share"],
        )
        for reason, n in list(o.reasons.items())[:5]:
            short = reason if len(reason) <= 60 else reason[:59] + "…"
            row(f"  {short}", str(n), None, "")
    else:
        row("arc outcomes", "not recorded", None, "")
    s = e.sign_offs
    rs = reference.sign_offs if reference else None
    row(
        "last client turn signs off",
        f"{s.sign_offs}/{s.conversations}",
        None,
        f"{rs.sign_offs}/{rs.conversations}" if rs else "",
    )
    row(
        "  answered with a question",
        str(s.answered_with_question),
        s.answered_with_question == 0,
        str(rs.answered_with_question) if rs else "",
        TARGETS["sign_offs_answered_with_question"],
    )
    return table


def voice_table(e: DiversityEvaluation) -> Table:
    v = e.voice
    table = Table(title="Persona voice classifier (client text only)")
    table.add_column("figure", max_width=44)
    table.add_column("value", justify="right")
    table.add_column("target")
    if not v.ran:
        table.add_row("status", v.message, "")
        return table
    table.add_row(
        "personas / convs / turns",
        f"{v.personas} / {v.conversations} / {v.turns}",
        "",
    )
    table.add_row(
        f"accuracy per turn ({v.folds}-fold by conv)",
        _mark(f"{v.accuracy:.3f}", (v.accuracy or 0) >= 0.60 if e.kind == "records" else None),
        TARGETS["voice_accuracy"],
    )
    table.add_row(
        "accuracy per conversation",
        f"{v.conversation_accuracy:.3f}",
        "",
    )
    table.add_row("chance", f"{v.chance:.3f}", "")
    table.add_row("seconds", f"{v.seconds:.1f}", "")
    return table


def diversity_tables(
    e: DiversityEvaluation, reference: DiversityEvaluation | None = None
) -> list[Table]:
    return [
        speaker_table(e, reference),
        patterns_table(e, "advisor"),
        patterns_table(e, "client"),
        client_table(e, reference),
        voice_table(e),
    ]
