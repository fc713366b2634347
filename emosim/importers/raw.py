"""What a reader hands on: conversations as messages, and problems located by line."""

from __future__ import annotations

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
