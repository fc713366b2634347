"""What the scripted advisor says when a client asks again a question her answers do not
cover: plainly what she cannot tell them yet, what she can say, and the next step
(agents/scripted/limits.yaml), instead of one more open question. A client asking a third
time after two generic replies was the fault this fixes."""

from __future__ import annotations

import random
import re
from pathlib import Path

from pydantic import Field, model_validator

from emosim.files import load_yaml_model
from emosim.schemas.common import StrictModel

from .text import expand, fill, sentence_case

LIMITS_FILE = Path("agents") / "scripted" / "limits.yaml"
SLOTS = frozenset({"asked", "subtopic_phrase", "topic_phrase"})


class LimitsFile(StrictModel):
    """Elena's lines for a question she cannot answer yet, asked again."""

    version: str = Field(description="File version.")
    admit: list[str] = Field(
        min_length=1, description="What she cannot tell them yet, naming {asked}."
    )
    can_say: list[str] = Field(min_length=1, description="What she can say about it.")
    next_step: list[str] = Field(min_length=1, description="The next step she offers.")

    @model_validator(mode="after")
    def _slots(self) -> LimitsFile:
        for part in ("admit", "can_say", "next_step"):
            for line in getattr(self, part):
                unknown = set(re.findall(r"\{([a-z_]+)\}", line)) - SLOTS
                if unknown:
                    raise ValueError(
                        f"{part}: {line!r} uses {sorted(unknown)}, not {sorted(SLOTS)}"
                    )
        missing = [line for line in self.admit if "{asked}" not in line]
        if missing:
            raise ValueError(f"admit: {missing[0]!r} does not name {{asked}}")
        return self


def load_limits(path: Path) -> LimitsFile:
    return load_yaml_model(path, LimitsFile)


# "Should I pay the loan off first?" -> "whether you should pay the loan off first"
_YES_NO = re.compile(
    r"^(should|can|could|would|will|is|are|am|was|were|have|has)\s+"
    r"(i|we|it|this|that|they|there)\b\s*(.*?)\s*\?*$",
    re.IGNORECASE,
)
_SUBJECT = {"i": "you", "we": "you"}
_PRONOUNS = (
    (re.compile(r"\b(?:I|we)\b", re.IGNORECASE), "you"),
    (re.compile(r"\b(?:my|our)\b", re.IGNORECASE), "your"),
    (re.compile(r"\b(?:me|us)\b", re.IGNORECASE), "you"),
    (re.compile(r"\b(?:mine|ours)\b", re.IGNORECASE), "yours"),
    (re.compile(r"\bI'm\b", re.IGNORECASE), "you're"),
)


def indirect(question: str) -> str:
    """The client's question as Elena names it in a sentence: a yes-no question put as
    "whether ...", in the second person; any other quoted as asked (`your question, "...",`:
    a line puts it where a comma may follow)."""
    q = question.strip()
    m = _YES_NO.match(q)
    if m:
        aux, subject, rest = m.group(1).lower(), m.group(2).lower(), m.group(3)
        subject = _SUBJECT.get(subject, subject)
        aux = "are" if aux == "am" else aux
        if subject == "you" and aux in {"is", "was", "has"}:
            aux = {"is": "are", "was": "were", "has": "have"}[aux]
        for rx, repl in _PRONOUNS:
            rest = rx.sub(repl, rest)
        return f"whether {subject} {aux} {rest}".strip().rstrip(".?")
    return f'your question, "{q}",'


_DOUBLED = re.compile(r",\s*([,:;.])")  # the quoted question's comma before a line's own


def limits_sentences(
    data: LimitsFile, rng: random.Random, question: str, slots: dict[str, str], said: str
) -> list[dict[str, object]]:
    """Three sentences: what she cannot say yet, what she can, the next step (each line not
    said already in the conversation, when another is left)."""
    filled = {**slots, "asked": indirect(question)}

    def pick(lines: list[str]) -> str:
        texts = [
            sentence_case(_DOUBLED.sub(r"\1", fill(expand(line, rng), filled))) for line in lines
        ]
        fresh = [t for t in texts if t.lower() not in said]
        return rng.choice(fresh or texts)

    return [
        {
            "text": pick(data.admit),
            "function": "state_boundary",
            "strategy": "honest_reassurance",
            "_keep": True,
        },
        {
            "text": pick(data.can_say),
            "function": "explain_concept",
            "strategy": "education",
            "_keep": True,
        },
        {
            "text": pick(data.next_step),
            "function": "invite_next_step",
            "strategy": "collaborative_agenda",
            "_keep": True,
        },
    ]
