"""What a reader hands on: conversations as messages, and problems located by line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["client", "advisor", "system"]


@dataclass
class RawMessage:
    role: Role
    text: str
    line: int
    labels: list[str] = field(default_factory=list)  # labels that came with the data
    time: float | None = None


@dataclass
class RawConversation:
    source_id: str
    line: int
    messages: list[RawMessage]
    situation: str | None = None
    problem_type: str | None = None
    emotion_type: str | None = None


@dataclass
class Problem:
    """One thing that went wrong, located: `where` is 'file:line'."""

    where: str
    message: str
    fatal: bool = True  # False: a warning, the conversation still imports

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


ReadItem = RawConversation | Problem


def shown_value(value: object) -> str:
    """A role-like word is shown; anything else (often a person's name or a whole message)
    is described, never echoed: import errors must not leak what anonymization removes."""
    if isinstance(value, str) and re.fullmatch(r"[a-z_]{1,16}", value):
        return repr(value)
    kind = f"{len(value)}-character text" if isinstance(value, str) else type(value).__name__
    return f"({kind}, not shown: it may identify someone)"
