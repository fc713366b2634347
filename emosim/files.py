"""Reading data files with located errors, and writing files atomically."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DataError

M = TypeVar("M", bound=BaseModel)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _yaml_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `loc` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                # unknown key: point at the key itself when it exists
                key = next((k for k, _ in node.value if k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


_UNION_TAGS = {"client", "advisor"}


def _drop_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic puts a discriminated union's tag in the path (turns.3.client.text): drop it."""
    kept: list[Any] = []
    for part in loc:
        if part in _UNION_TAGS and kept and isinstance(kept[-1], int):
            continue
        kept.append(part)
    return tuple(kept)


def format_validation_error(
    error: ValidationError, where: str, yaml_root: yaml.Node | None = None
) -> list[str]:
    """One line per problem: `file:line: field.path: message (got value)`."""
    lines = []
    for problem in error.errors():
        loc = _drop_union_tags(problem["loc"])
        path = ".".join(str(p) for p in loc) or "<root>"
        line = _yaml_line(yaml_root, loc) if yaml_root is not None else None
        place = f"{where}:{line}" if line else where
        got = "" if problem["type"] == "missing" else f" (got {_short(problem.get('input'))})"
        lines.append(f"{place}: {path}: {problem['msg']}{got}")
    return lines


def read_text(path: Path, expected: str) -> str:
    """A UTF-8 text file's content; a missing file, a folder or other bytes is one DataError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise DataError([f"{path}: is a folder; expected {expected}"]) from None
    except UnicodeDecodeError as exc:
        raise DataError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None


def load_yaml_node(path: Path) -> tuple[Any, yaml.Node | None]:
    text = read_text(path, "a YAML file")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError([f"{path}{line}: invalid YAML: {problem}"]) from None
    return data, node


def load_yaml_model(path: Path, model: type[M]) -> M:
    data, node = load_yaml_node(path)
    if not isinstance(data, dict):
        raise DataError([f"{path}: expected a mapping at the top level, got {_short(data)}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path), node)) from None


def iter_json_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """Yield (location, document) from a .json file (object or list) or a .jsonl file."""
    text = read_text(path, "a .json or .jsonl record file")
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    [f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})"]
                ) from None
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            [f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"]
        ) from None
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield f"{path}[{i}]", item
    else:
        yield str(path), data


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[Any]:
    """Write to a temp file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; keep the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_writer(path) as handle:
        handle.write(text)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
