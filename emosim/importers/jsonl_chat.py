"""Chat exports, one conversation per line: {"id": ..., "messages": [{"role": "user" |
"assistant" | "system", "content": ...}]}. `content` may also be a list of parts
({"type": "text", "text": ...}), as several chat APIs write it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .raw import Problem, RawConversation, RawMessage, ReadItem, Role, shown_value
from .textio import read_lines

ROLES: dict[str, Role] = {
    "user": "client",
    "human": "client",
    "client": "client",
    "assistant": "advisor",
    "ai": "advisor",
    "advisor": "advisor",
    "system": "system",
    "developer": "system",
}


def _content(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [
            p.get("text") for p in value if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        return "\n".join(parts) if parts else None
    return None


def read_jsonl_chat(path: Path) -> Iterator[ReadItem]:
    lines, problems = read_lines(path)
    yield from problems
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(where, f"invalid JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            yield Problem(where, "expected an object with a 'messages' list")
            continue
        source_id = str(doc.get("id", f"line{number}"))
        messages: list[RawMessage] = []
        for i, m in enumerate(doc["messages"]):
            role = ROLES.get(str(m.get("role", "")).lower()) if isinstance(m, dict) else None
            content = _content(m.get("content")) if isinstance(m, dict) else None
            if role is None:
                got = m.get("role") if isinstance(m, dict) else m
                yield Problem(
                    where,
                    f"messages.{i}.role: unknown role {shown_value(got)} (expected user, assistant "
                    "or system)",
                )
                break
            if content is None:
                yield Problem(where, f"messages.{i}.content: expected text")
                break
            messages.append(RawMessage(role, content.strip(), number))
        else:
            yield RawConversation(source_id=source_id, line=number, messages=messages)
