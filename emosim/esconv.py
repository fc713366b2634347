"""ESConv files (Liu et al., 2021, "Towards Emotional Support Dialog Systems", ACL 2021;
CC BY-NC 4.0: non-commercial use, attribution required): the one reader every ESConv consumer
shares.

ESConv comes in two shapes: the split files (`text`, `speaker` "usr"/"sys", `strategy`), as a
JSON list or as JSON Lines, and the original `ESConv.json` / `FailedESConv.json` (`content`,
`speaker` "seeker"/"supporter" or "speaker"/"listener", `annotation: {strategy}`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import DataError

SEEKER = frozenset({"usr", "seeker", "speaker"})
SUPPORTER = frozenset({"sys", "supporter", "listener"})
ATTRIBUTION = (
    "ESConv: Liu et al. (2021), Towards Emotional Support Dialog Systems, ACL 2021. "
    "CC BY-NC 4.0 (non-commercial use, attribution required)."
)


def read_documents(path: Path) -> list[tuple[str, Any]]:
    """(location, dialog object) from a JSON list, a JSON object or JSON Lines file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise DataError([f"{path}: is a folder, expected an ESConv .json or .jsonl file"]) from None
    except UnicodeDecodeError as exc:
        raise DataError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    if not text.strip():
        raise DataError([f"{path}: empty file (expected ESConv dialogs)"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as whole:
        if whole.msg != "Extra data":
            raise DataError(
                [f"{path}:{whole.lineno}: invalid JSON: {whole.msg} (column {whole.colno})"]
            ) from None
        docs = []  # JSON Lines: one dialog per line
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append((f"{path}:{number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(
                    [f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})"]
                ) from None
        return docs
    if isinstance(data, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(data)]
    return [(str(path), data)]
