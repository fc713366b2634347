"""Where a model call comes from: role, conversation and turn, for messages and the cassette.

Agents are shared by every conversation of a run, and observers see only text, so the
conversation comes from LangGraph's run config (its thread id) and an observer's turn is the
turn the last client or advisor call of the same conversation was about.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


def current_conversation() -> str | None:
    """The conversation (LangGraph thread id) being played in this thread, if any."""
    try:
        from langgraph.config import get_config

        config = get_config()
    except (RuntimeError, ImportError):
        return None
    return (config.get("configurable") or {}).get("thread_id")


@dataclass
class CallSite:
    role: str
    conversation: str | None
    turn: int | None
    attempt: int = 0

    @property
    def label(self) -> str:
        """`<role> turn N`, the prefix of every failure message."""
        return f"{self.role} turn {self.turn}" if self.turn is not None else f"{self.role}"


class TurnTracker:
    """Per conversation, the turn index the latest client or advisor call was about."""

    def __init__(self) -> None:
        self._turns: dict[tuple[str | None, str], int] = {}
        self._lock = threading.Lock()

    def note(self, conversation: str | None, speaker: str, turn: int) -> None:
        with self._lock:
            self._turns[(conversation, speaker)] = turn

    def last(self, conversation: str | None, speaker: str) -> int | None:
        with self._lock:
            return self._turns.get((conversation, speaker))
