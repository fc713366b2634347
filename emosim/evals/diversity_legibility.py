"""Can a reader see the client's hidden feeling? Two readers against the hidden arc, per emotion.

The run's own emotion observer (its annotation on each client turn) shares a vocabulary of
everyday emotion words with any text that names feelings, so a rise on it alone could be the
generator drifting toward the observer. The second reader is one the client never saw: the
GoEmotions-trained classifier (emosim/agents/classifier) without the taxonomy's lexicon, each
turn read on its own, at the family level (our 8 families + neutral) and at Ekman's 6 groups +
neutral (its own Ekman heads; our families mapped: shame -> sadness, as GoEmotions groups
embarrassment and remorse; enjoyment and love -> joy). A client turn is legible to a reader
when the reader names the hidden family (or Ekman group).

    emosim eval legibility RUN... [--json OUT]

Figures are agreement on simulated text, not accuracy on people's messages (see
`emosim eval emotions` for that).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from emosim.agents.scripted.text import split_sentences
from emosim.catalog import Catalog
from emosim.schemas import ConversationRecord

EKMAN_OF_FAMILY = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "sadness": "sadness",
    "shame": "sadness",
    "enjoyment": "joy",
    "love": "joy",
    "surprise": "surprise",
}
"""Our Goleman family -> the Ekman group GoEmotions puts its nearest labels in."""


class Turn(BaseModel):
    emotion: str
    family: str
    run_emotion: str
    run_family: str
    family_read: str = Field(description="The independent reader's family (or neutral).")
    ekman_read: str = Field(description="The independent reader's Ekman group (or neutral).")
    in_a_sentence: bool = Field(
        default=False,
        description="The independent reader, reading each sentence on its own, names the hidden "
        "family in at least one: the feeling is in the words even when a question or a thank-you "
        "outweighs it in the whole turn.",
    )


class EmotionRow(BaseModel):
    emotion: str
    family: str
    turns: int
    run_emotion: float = Field(description="Run observer names the emotion.")
    run_family: float = Field(description="Run observer names the family.")
    reader_family: float = Field(description="Independent reader names the family.")
    reader_ekman: float = Field(description="Independent reader names the Ekman group.")
    reader_sentence: float = Field(
        default=0.0, description="Independent reader names the family in some sentence."
    )


_ROW_FIGURES = ("run_emotion", "run_family", "reader_family", "reader_ekman", "reader_sentence")


class Legibility(BaseModel):
    turns: int
    run_observer: list[str]
    reader: str
    run_emotion: float
    run_family: float
    reader_family: float
    reader_ekman: float
    reader_sentence: float = Field(
        description="Share of turns with a sentence the independent reader reads as the family."
    )
    reader_neutral: float = Field(description="Share of turns the reader finds no emotion in.")
    per_emotion: list[EmotionRow]
    run_confusion: dict[str, dict[str, int]] = Field(description="Hidden family -> run family.")
    reader_confusion: dict[str, dict[str, int]] = Field(
        description="Hidden family -> independent reader's family."
    )


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def read_turns(
    records: Sequence[ConversationRecord], catalog: Catalog, observer=None
) -> list[Turn]:  # noqa: ANN001
    """Every simulated client turn with a hidden state and an annotation, read by both readers.
    `observer`: a ClassifierEmotionObserver without lexicon (built from the cached model when
    None)."""
    if observer is None:
        from emosim.agents.classifier import build_classifier_observer

        observer = build_classifier_observer(catalog, lexicon=False)
    rows = [
        (t.text, t.ground_truth, t.annotation)
        for r in records
        if r.provenance.source == "simulated"
        for t in r.client_turns
        if t.ground_truth is not None and t.annotation is not None
    ]
    if not rows:
        return []
    texts = [text for text, _, _ in rows]
    margins = observer.model.margins(texts)
    sentences = [[s for _, _, s in split_sentences(text)] or [text] for text in texts]
    flat = [s for group in sentences for s in group]
    flat_margins = observer.model.margins(flat)
    families: list[set[str]] = []
    k = 0
    for group in sentences:
        families.append(
            {observer.read(s, flat_margins[k + j], None).family or "" for j, s in enumerate(group)}
        )
        k += len(group)
    groups = observer.model.groups
    ekman = observer.model.group_margins(texts) if groups else None
    out = []
    for i, (text, truth, seen) in enumerate(rows):
        reading = observer.read(text, margins[i], None)
        out.append(
            Turn(
                emotion=truth.emotion,
                family=truth.family,
                run_emotion=seen.primary,
                run_family=seen.family,
                family_read=reading.family or "neutral",
                ekman_read=groups[int(ekman[i].argmax())] if ekman is not None else "",
                in_a_sentence=truth.family in families[i],
            )
        )
    return out


def _confusion(turns: Sequence[Turn], attr: str) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for t in turns:
        table[t.family][getattr(t, attr)] += 1
    return {f: dict(sorted(c.items())) for f, c in sorted(table.items())}


def legibility(turns: Sequence[Turn], observers: list[str], reader: str) -> Legibility:
    by: dict[str, list[Turn]] = defaultdict(list)
    for t in turns:
        by[t.emotion].append(t)

    def figures(ts: Sequence[Turn]) -> tuple[float, float, float, float, float]:
        return (
            _share([t.run_emotion == t.emotion for t in ts]),
            _share([t.run_family == t.family for t in ts]),
            _share([t.family_read == t.family for t in ts]),
            _share([t.ekman_read == EKMAN_OF_FAMILY.get(t.family) for t in ts]),
            _share([t.in_a_sentence for t in ts]),
        )

    run_e, run_f, read_f, read_k, read_s = figures(turns)
    rows = [
        EmotionRow(
            emotion=e,
            family=ts[0].family,
            turns=len(ts),
            **dict(zip(_ROW_FIGURES, figures(ts), strict=True)),
        )
        for e, ts in sorted(by.items())
    ]
    return Legibility(
        turns=len(turns),
        run_observer=observers,
        reader=reader,
        run_emotion=run_e,
        run_family=run_f,
        reader_family=read_f,
        reader_ekman=read_k,
        reader_sentence=read_s,
        reader_neutral=_share([t.family_read == "neutral" for t in turns]),
        per_emotion=rows,
        run_confusion=_confusion(turns, "run_family"),
        reader_confusion=_confusion(turns, "family_read"),
    )


def tables(result: Legibility):  # noqa: ANN202
    from rich.table import Table

    head = Table(title=f"Legibility of the hidden feeling ({result.turns} client turns)")
    for col in ("reader", "emotion", "family", "Ekman group", "family in a sentence"):
        head.add_column(col, justify="left" if col == "reader" else "right")
    head.add_row(
        f"run observer ({', '.join(result.run_observer)})",
        f"{result.run_emotion:.3f}",
        f"{result.run_family:.3f}",
        "",
        "",
    )
    head.add_row(
        f"independent: {result.reader}",
        "",
        f"{result.reader_family:.3f}",
        f"{result.reader_ekman:.3f}",
        f"{result.reader_sentence:.3f}",
    )
    per = Table(title="Per hidden emotion: share of turns each reader names it")
    for col in (
        "emotion",
        "turns",
        "run: emotion",
        "run: family",
        "reader: family",
        "reader: Ekman",
    ):
        per.add_column(col, justify="left" if col == "emotion" else "right")
    for r in result.per_emotion:
        per.add_row(
            r.emotion,
            str(r.turns),
            f"{r.run_emotion:.2f}",
            f"{r.run_family:.2f}",
            f"{r.reader_family:.2f}",
            f"{r.reader_ekman:.2f}",
            f"{r.reader_sentence:.2f}",
        )
    tables = [head, per]
    for title, confusion in (
        ("run observer", result.run_confusion),
        ("independent reader", result.reader_confusion),
    ):
        cols = sorted({c for row in confusion.values() for c in row})
        table = Table(title=f"Hidden family (rows) x {title}'s family (columns)")
        table.add_column("hidden")
        for c in cols:
            table.add_column(c[:9], justify="right")
        for family, row in confusion.items():
            table.add_row(family, *(str(row.get(c, 0)) for c in cols))
        tables.append(table)
    return tables
