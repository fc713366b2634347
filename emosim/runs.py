"""Run folders: `runs/<run_id>/` with manifest, records, events and checkpoints.

The checkpoints and turn ledger are the folder's `checkpoints.sqlite`, or live in PostgreSQL
when the run was made with the store setting on a postgresql:// address (`storage.json`
then says where; see emosim/storage/runs.py). Everything else stays in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import structlog

from . import __version__
from .errors import EmosimError
from .files import write_text_atomic

MANIFEST = "manifest.json"
RECORDS = "conversations.jsonl"
EVENTS = "events.jsonl"
CHECKPOINTS = "checkpoints.sqlite"


def new_run_id(label: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{label}-{uuid.uuid4().hex[:6]}"


def conversation_id(scenario_id: str, seed: int, scenario_hash: str) -> str:
    """Same scenario content and seed -> same id, in any run."""
    digest = hashlib.sha256(f"{scenario_hash}:{seed}".encode()).hexdigest()[:10]
    return f"{scenario_id}-s{seed}-{digest}"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "emosim": __version__}
    for name in (
        "langgraph",
        "langgraph-checkpoint-sqlite",
        "langchain-core",
        "pydantic",
        "anthropic",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


class _LineLogger:
    """Minimal structlog output: one line per event, no flush per line."""

    def __init__(self, handle: IO[str]):
        self.handle = handle

    def msg(self, message: str) -> None:
        self.handle.write(message + "\n")

    info = debug = warning = error = critical = exception = msg

    def flush(self) -> None:
        self.handle.flush()


def _orjson_dumps(obj: Any, default: Any = None, **_: Any) -> str:
    """structlog's serializer hook; `default` renders what JSON cannot (paths, errors)."""
    return orjson.dumps(obj, default=default).decode()


def flush_events(log: Any) -> None:
    target = getattr(log, "_logger", None)
    if hasattr(target, "flush"):
        target.flush()


@dataclass
class RunFolder:
    path: Path
    store: Any = field(default=None, compare=False, repr=False)
    """The store setting this process reached the run's server with (a `Dsn` carrying the
    password, never written to disk); None: the run's own address, or $EMOSIM_STORE."""

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def records_path(self) -> Path:
        return self.path / RECORDS

    @property
    def checkpoints_path(self) -> Path:
        return self.path / CHECKPOINTS

    @classmethod
    def create(cls, runs_dir: Path, label: str, store: Any = None) -> RunFolder:
        """A new run folder. `store` (default: the setting, $EMOSIM_STORE): a postgresql://
        address keeps the run's checkpoints and ledger there; anything else, the folder's own
        SQLite file. The server is reached before the folder is made."""
        from .files import ensure_folder, write_problem
        from .storage.location import Dsn, from_env, parse_location

        ensure_folder(runs_dir, "--runs-dir")
        path = runs_dir / new_run_id(label)
        where = from_env() if store is None else parse_location(store)
        if isinstance(where, Dsn):
            from .storage.runs import open_run_storage

            open_run_storage(where, path.name).close()  # fails here, not mid-run
        try:
            path.mkdir(exist_ok=False)
        except OSError as exc:
            raise write_problem(path, exc) from None
        if isinstance(where, Dsn):
            from .storage.runs import write_storage

            write_storage(path, where, path.name)
            return cls(path, where)
        return cls(path)

    def open_store(self, *, create: bool = True) -> Any:
        """The run's checkpointer and ledger (a `emosim.storage.runs.RunStore`)."""
        from .storage.runs import open_folder_storage

        return open_folder_storage(self.path, self.run_id, create=create, given=self.store)

    def storage(self) -> Any:
        """Where the checkpoints are (`emosim.storage.runs.RunStorage`)."""
        from .storage.runs import read_storage

        return read_storage(self.path)

    @classmethod
    def open(cls, runs_dir: Path, run: str) -> RunFolder:
        """A run by folder path or by id under runs_dir."""
        candidate = Path(run)
        path = candidate if (candidate / MANIFEST).is_file() else runs_dir / run
        if not (path / MANIFEST).is_file():
            known = sorted(p.name for p in runs_dir.glob("*") if (p / MANIFEST).is_file())
            hint = f" (known runs: {', '.join(known[-5:])})" if known else ""
            raise EmosimError(f"run {run!r}: no such run in {runs_dir}{hint}")
        return cls(path)

    def lock(self, command: str | None = None) -> Any:
        """The run's one-writer lock (emosim/runlock.py): batch, resume, fork, import hold it."""
        from .runlock import run_lock

        return run_lock(self.path, command)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text_atomic(
            self.path / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        )

    def manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise EmosimError(f"{path}: unreadable run manifest ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("jobs", []), list):
            raise EmosimError(f"{path}: not a run manifest (expected an object with jobs)")
        return data

    def connect(self) -> sqlite3.Connection:
        """A connection to the folder's own checkpoints.sqlite."""
        from .storage.runs import connect_sqlite

        return connect_sqlite(self.checkpoints_path)

    @contextmanager
    def events(self) -> Any:
        """A structlog logger writing JSON lines to events.jsonl.

        Lines are buffered and flushed by `flush_events()` after each conversation (and on
        close): flushing every node step costs more than the step's own work, and events of
        an unfinished conversation are written again when it resumes.
        """
        handle: IO[str] = open(self.path / EVENTS, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
        try:
            yield event_logger(handle)
        finally:
            handle.close()

    def append_records(self, lines: list[str]) -> None:
        """Append whole lines, flushed and synced: a crash or Ctrl-C never leaves half a record."""
        if not lines:
            return
        from .interrupts import held_interrupt

        with held_interrupt(), open(self.records_path, "a", encoding="utf-8") as handle:
            handle.write("".join(line.rstrip("\n") + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())


def event_logger(handle: IO[str]) -> Any:
    """A structlog logger writing JSON event lines to `handle`: bound once (a lazy proxy
    re-binds on every call); orjson renders twice as fast."""
    return structlog.wrap_logger(
        _LineLogger(handle),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ],
    ).bind()
