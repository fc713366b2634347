"""ESConv dialogs: a JSON list (the shared sample, FailedESConv.json, ESConv.json) or JSON Lines
(the train/valid/test split files). Both utterance layouts are read: `text`/`speaker`
usr|sys/`strategy` (splits) and `content`/`speaker` seeker|supporter|speaker|listener/
`annotation.strategy` (original release)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .config import EsconvConfig
from .raw import Problem, RawConversation, RawMessage, ReadItem, shown_value
from .textio import read_lines


def _documents(path: Path, text: str) -> Iterator[tuple[int, Any] | Problem]:
    """(line, object) per dialog, for a JSON list or JSON Lines; a located problem otherwise."""
    decoder = json.JSONDecoder()
    stripped = text.lstrip()
    if stripped.startswith("["):
        pos = text.index("[") + 1
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                return
            line = text.count("\n", 0, pos) + 1
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                yield Problem(
                    f"{path}:{exc.lineno}",
                    f"invalid JSON ({exc.msg}, column {exc.colno}); the rest of the file is skipped",
                )
                return
            yield line, obj
    for number, line_text in enumerate(text.splitlines(), start=1):
        if not line_text.strip():
            continue
        try:
            yield number, json.loads(line_text)
        except json.JSONDecodeError as exc:
            yield Problem(f"{path}:{number}", f"invalid JSON ({exc.msg}, column {exc.colno})")


def read_esconv(path: Path, cfg: EsconvConfig) -> Iterator[ReadItem]:
    lines, problems = read_lines(path)
    yield from problems
    index = 0
    for item in _documents(path, "".join(lines)):
        if isinstance(item, Problem):
            yield item
            continue
        line, doc = item
        index += 1
        where = f"{path}:{line}"
        if not isinstance(doc, dict) or not isinstance(doc.get("dialog"), list):
            yield Problem(
                where, f"dialog {index}: expected an object with a 'dialog' list (is this ESConv?)"
            )
            continue
        messages: list[RawMessage] = []
        bad = False
        for u_index, u in enumerate(doc["dialog"]):
            if not isinstance(u, dict):
                yield Problem(where, f"dialog {index}: dialog.{u_index}: expected an object")
                bad = True
                break
            speaker = str(u.get("speaker", ""))
            text = u.get("text", u.get("content"))
            if speaker in cfg.client_speakers:
                role = "client"
            elif speaker in cfg.advisor_speakers:
                role = "advisor"
            else:
                yield Problem(
                    where,
                    f"dialog {index}: dialog.{u_index}.speaker: unknown speaker {shown_value(speaker)} "
                    f"(expected one of {cfg.client_speakers + cfg.advisor_speakers})",
                )
                bad = True
                break
            if not isinstance(text, str):
                yield Problem(
                    where, f"dialog {index}: dialog.{u_index}: no 'text' or 'content' string"
                )
                bad = True
                break
            annotation = u.get("annotation") if isinstance(u.get("annotation"), dict) else {}
            label = u.get("strategy") or annotation.get("strategy")
            messages.append(RawMessage(role, text.strip(), line, [str(label)] if label else []))
        if bad:
            continue
        yield RawConversation(
            source_id=f"{path.stem}:{index}",
            line=line,
            messages=messages,
            situation=doc.get("situation") if isinstance(doc.get("situation"), str) else None,
            problem_type=doc.get("problem_type"),
            emotion_type=doc.get("emotion_type"),
        )
