"""Readable rich views of records: the transcript with emotions, strategies and critic calls."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .schemas import AdvisorTurn, ClientTurn, ConversationRecord

_LEVEL_STYLE = {"low": "green", "medium": "yellow", "high": "red"}


def _state(label: str, emotion: str, level: str, intensity: float) -> Text:
    return Text.assemble(
        (f"{label} ", "dim"),
        (emotion, "bold"),
        (f" {level} {intensity:.2f}", _LEVEL_STYLE.get(level, "")),
    )


def conversation_panel(record: ConversationRecord, *, details: bool = False) -> Panel:
    sc = record.scenario
    name = sc.client_persona.name if sc.client_persona else sc.client_persona_id
    advisor = sc.advisor_persona_id.split("_")[0].title()  # elena_morales -> Elena
    rows: list[Text | Table] = []
    for turn in record.turns:
        if isinstance(turn, ClientTurn):
            head = Text.assemble((f"{name} ", "bold cyan"), (f"#{turn.exchange}", "dim"))
            rows.append(head)
            rows.append(Text(turn.text))
            meta = Text("   ")
            if turn.ground_truth:
                g = turn.ground_truth
                meta.append_text(_state("true", g.emotion, g.intensity_level, g.intensity))
            if turn.annotation:
                a = turn.annotation
                mark = "✓" if turn.ground_truth and a.primary == turn.ground_truth.emotion else "✗"
                meta.append("  ")
                meta.append_text(_state("observed", a.primary, a.intensity_level, a.intensity))
                meta.append(f" {mark}", "green" if mark == "✓" else "red")
            rows.append(meta)
        elif isinstance(turn, AdvisorTurn):
            for d in turn.rejected_drafts:
                reasons = "; ".join(f.code for f in d.verdict.findings) or "rejected"
                rows.append(
                    Text.assemble(
                        ("  ✗ rejected draft ", "red"),
                        (f"({d.anti_pattern or 'no marker'}: {reasons}) ", "dim red"),
                        (d.text if details else d.text[:110] + "…", "strike dim"),
                    )
                )
            rows.append(
                Text.assemble((f"{advisor} ", "bold magenta"), (f"#{turn.exchange}", "dim"))
            )
            rows.append(Text(turn.text))
            strategies = turn.intended_strategies or turn.strategies
            if strategies:
                combo = ", ".join(strategies.combination)
                info = Text.assemble(
                    ("   strategies ", "dim"),
                    (strategies.primary, "bold"),
                    (f" + {combo}" if combo else "", ""),
                )
                if turn.critic:
                    info.append(
                        f"  critic {turn.critic.scores.overall:.2f}",
                        "green" if turn.critic.accepted else "red",
                    )
                rows.append(info)
            if details:
                for s in turn.sentences:
                    rows.append(Text(f"     [{s.function}] {s.text}", "dim"))
                rows.append(Text(f"   learn: {turn.learning_objective}", "italic dim"))
        rows.append(Text(""))
    o = record.outcome
    rows.append(Text(o.resolution_summary, "italic"))
    # a panel title is cut to the panel's width, so the id (which people copy) and the
    # details go inside, where they wrap whole
    heading = Text.assemble(
        (record.id, "bold"),
        (
            f" · {sc.topic}/{sc.subcategory} · {sc.length_class} · "
            f"{'arc completed' if o.arc_completed else 'arc not completed'} · {o.status}",
            "dim",
        ),
    )
    return Panel(Group(heading, Text(""), *rows), border_style="blue")


def scores_table(records: list[ConversationRecord]) -> Table:
    table = Table(
        title="Run summary",
        box=box.SIMPLE_HEAD,
    )
    # the id folds rather than being cut (people copy it); the figures never wrap
    table.add_column("conversation", overflow="fold")
    for col in ("exch", "emotion", "family", "critic", "rej.", "arc", "status"):
        table.add_column(col, no_wrap=True)
    for r in records:
        s = r.quality.scores
        table.add_row(
            r.id,
            str(len(r.advisor_turns)),
            f"{s.get('observer_emotion_accuracy', 0):.2f}",
            f"{s.get('observer_family_accuracy', 0):.2f}",
            f"{s.get('critic_first_pass_rate', 0):.2f}",
            str(sum(len(t.rejected_drafts) for t in r.advisor_turns)),
            "✓" if r.outcome.arc_completed else "·",
            r.outcome.status,
        )
    return table


def print_conversation(
    console: Console, record: ConversationRecord, *, details: bool = False
) -> None:
    console.print(conversation_panel(record, details=details))
