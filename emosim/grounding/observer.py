"""The fact observer: reads the client's words only and keeps the conversation's running facts.

Rules, not a model: a figure's meaning comes from the words of its clause, which is what a
reader of the transcript has. It serves every backend alike (a model advisor gets the same
running facts as the scripted one), so what Elena may quote is decided outside the advisor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from emosim.schemas.grounding import ClientFacts, OpenQuestion, StatedFact

from .figures import find_figures, meaning

VERSION = "fact-observer-1"
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


class RuleFactObserver:
    name = VERSION

    def observe(self, text: str, turn: int) -> ClientFacts:
        facts: list[StatedFact] = []
        for n, figure in enumerate(find_figures(text), start=1):
            kind, subject, evidence = meaning(text, figure)
            same_unit = [f for f in facts if f.unit == figure.unit]
            if kind == "amount" and same_unit:  # "... $2,150 a month at 62 and $3,050 at 67"
                kind, subject = same_unit[-1].kind, same_unit[-1].subject
            facts.append(
                StatedFact(
                    id=f"t{turn}-f{n}",
                    turn=turn,
                    kind=kind,
                    value=figure.value,
                    unit=figure.unit,
                    text=figure.text,
                    start=figure.start,
                    end=figure.end,
                    evidence=evidence.strip(),
                    subject=subject,
                )
            )
        questions = [s.strip() for s in _SENTENCE.findall(text) if s.rstrip().endswith("?")]
        return ClientFacts(facts=facts, questions=questions)


def merge_questions(
    open_questions: list[OpenQuestion], turn: int, asked: list[str], answered: str | None
) -> list[OpenQuestion]:
    """The open questions after a client turn asked `asked` (the last one is the newest) and
    the reply before it answered `answered`."""
    out = [
        q.model_copy(update={"answered": True}) if answered and q.text == answered else q
        for q in open_questions
    ]
    return out + [OpenQuestion(turn=turn, text=q) for q in asked]


def mark_echoes(facts: list[StatedFact], said_before: str | None) -> list[StatedFact]:
    """Facts whose figure Elena said in her replies before (`said_before`): the client quoting
    her ("$7,500 a month? That's a lot"; "Really, $95?" two turns on) is not stating a fact of
    their own."""
    if not said_before:
        return facts
    heard = {(round(f.value, 2), f.unit.startswith("usd")) for f in find_figures(said_before)}
    return [
        f.model_copy(update={"echo": True})
        if (round(f.value, 2), f.unit.startswith("usd")) in heard
        else f
        for f in facts
    ]


_ASKING = re.compile(
    r"\b(?:what|how|when|why|where|which|who|whose|should|could|would|can|do|does|did|is|are|"
    r"am|will|was|were|have|has|any|anything)\b",
    re.IGNORECASE,
)
_INTERJECTIONS = frozenset(
    "wait really so oh hmm huh um uh seriously just only whoa wow sorry okay ok honestly".split()
)
_UNIT_WORDS = frozenset("a an per month months year years week weeks apr percent".split())


def drop_check_backs(questions: list[str], said_before: str | None) -> list[str]:
    """The questions that ask something (see `is_check_back`)."""
    if not said_before:
        return questions
    return [q for q in questions if not is_check_back(q, said_before)]


def is_check_back(question: str, said_before: str | None) -> bool:
    """ "Wait, 36 months?" or "Really, $95?" after Elena said the figure: the client taking it
    in, not a question she left open (answering it as one quotes it back: 'Straight answer on
    your question, "Wait, 36 months?"')."""
    if not said_before:
        return False
    figures = find_figures(question)
    if not figures:
        return False
    heard = {(round(f.value, 2), f.unit.startswith("usd")) for f in find_figures(said_before)}
    if any((round(f.value, 2), f.unit.startswith("usd")) not in heard for f in figures):
        return False
    rest = question
    for f in sorted(figures, key=lambda f: f.start, reverse=True):
        rest = rest[: f.start] + " " + rest[f.end :]
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", rest)]
    content = [w for w in words if w not in _INTERJECTIONS and w not in _UNIT_WORDS]
    return len(content) <= 2 and not _ASKING.search(rest)


def running_facts(lines: Iterable[tuple[int, str, str]]) -> list[StatedFact]:
    """The fact observer's running facts over (index, speaker, text) lines, with echoes of
    Elena's figures marked: what a reader of the transcript knows the client has stated."""
    observer = RuleFactObserver()
    facts: list[StatedFact] = []
    said: str | None = None
    for index, speaker, text in lines:
        if speaker == "client":
            facts += mark_echoes(observer.observe(text, index).facts, said)
        else:
            said = f"{said} {text}" if said else text
    return facts
