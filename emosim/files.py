"""Reading data files with located errors, and writing files atomically."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DataError, EmosimError

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


MAX_YAML_BYTES = 20_000_000
"""Largest YAML data file read (the biggest shipped file is under 0.2 MB)."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of lists and mappings (shipped files nest under 10)."""
MAX_YAML_NODES = 1_000_000
"""Most values a file may hold once its aliases are expanded: an alias bomb (a few lines that
expand to billions of values) is refused before anything is built."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_error(where: str, exc: yaml.YAMLError) -> DataError:
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return DataError([f"{where}{line}: invalid YAML: {problem}"])


def _check_yaml_shape(text: str, where: str) -> None:
    """Depth and expanded size from the event stream, before any node is built: flat memory,
    no recursion, and an alias bomb is refused in milliseconds."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [size so far, anchor, start line] per open collection

    def add(size: int, anchor: str | None, line: int) -> None:
        if size > MAX_YAML_NODES:
            raise DataError(
                [
                    f"{where}:{line}: too many values once aliases are expanded (over "
                    f"{MAX_YAML_NODES:,}); is an alias (*name) repeating a large part?"
                ]
            )
        if anchor:
            sizes[anchor] = size
        if stack:
            stack[-1][0] += size

    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.ScalarEvent):
            add(1, event.anchor, line)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise DataError([f"{where}:{line}: invalid YAML: unknown alias *{event.anchor}"])
            add(sizes[event.anchor], None, line)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_YAML_DEPTH:
                raise DataError([f"{where}:{line}: nested deeper than {MAX_YAML_DEPTH} levels"])
            stack.append([1, event.anchor, line])
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor, start = stack.pop()
            add(size, anchor, start)


def _check_duplicate_keys(root: yaml.Node, where: str) -> None:
    """A key given twice in one mapping is an error (YAML would silently keep the last)."""
    seen: set[int] = set()
    todo: list[tuple[yaml.Node, str]] = [(root, "")]
    while todo:
        node, field = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and name != "<<":
                    if name in first:
                        path = f"{field}.{name}" if field else name
                        raise DataError(
                            [
                                f"{where}:{key.start_mark.line + 1}: {path}: duplicate key "
                                f"{_short(name)} (first at line {first[name]})"
                            ]
                        )
                    first[name] = key.start_mark.line + 1
                todo.append((value, f"{field}.{name}" if field else str(name)))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend((v, f"{field}.{i}" if field else str(i)) for i, v in enumerate(node.value))


def parse_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """The one YAML reader: safe types only, with depth, size and alias-expansion limits and
    duplicate keys refused; returns the data and its node tree (for located errors)."""
    try:
        _check_yaml_shape(text, where)
        node = yaml.compose(text, Loader=_LOADER)
        if node is None:
            return None, None
        _check_duplicate_keys(node, where)
        data = _LOADER("").construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(where, exc) from None
    return data, node


def load_yaml_node(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_text names the problem
    if size > MAX_YAML_BYTES:
        raise DataError(
            [f"{path}: {size:,} bytes is larger than the {MAX_YAML_BYTES:,}-byte limit for YAML"]
        )
    return parse_yaml(read_text(path, "a YAML file"), str(path))


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


_WRITE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a parent is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.EEXIST: "a file is in the way",
    errno.ELOOP: "a symbolic link loop",
    errno.ENAMETOOLONG: "the name is too long",
}


def write_problem(path: Path, exc: OSError) -> EmosimError:
    """One clear error for an output path that cannot be written (nothing is left half-done)."""
    why = _WRITE_ERRNOS.get(exc.errno or 0, exc.strerror or str(exc))
    return EmosimError(f"{path}: cannot write: {why}")


def check_folder(path: Path, option: str = "output folder") -> Path:
    """Refuse, before any work, an output folder that a file (it or a parent) stands in for."""
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise EmosimError(f"{option}: {parent} is a file, not a folder")
    return path


def ensure_folder(path: Path, option: str = "output folder") -> Path:
    """Create an output folder, or one clear error when a file is in the way or it is read-only."""
    check_folder(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_problem(path, exc) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise EmosimError(f"{option}: {path}: cannot write: permission denied")
    return path


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[Any]:
    """Write to a temp file beside `path`, then rename: readers never see half a file.

    A full disk, a read-only folder or a file where a folder should be is one EmosimError
    naming the path, and the temp file is removed."""
    tmp = None
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; keep the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        if exc.errno in _WRITE_ERRNOS:
            raise write_problem(path, exc) from None
        raise
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_writer(path) as handle:
        handle.write(text)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab/CR) would make it a
    formula (CSV injection), so such a cell gets a leading apostrophe (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def spreadsheet_text(cell: str) -> str:
    """Undo `spreadsheet_safe` on a cell read back from a review CSV."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell
