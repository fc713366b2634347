"""One writer per run folder: an exclusive OS file lock on `RUN/.lock`.

Why an OS lock rather than a pid file: the kernel releases it when the holder dies, even on
`kill -9`, so a crashed batch never leaves a run locked for good. `filelock` takes it the same
way on every platform (flock on Linux and macOS, LockFileEx on Windows). Who holds it (pid,
command, since) is kept beside it in `RUN/.lock.holder`, so a second writer's error can name
the holder: the lock file itself cannot carry it, since on Windows its locked byte cannot be
read by others and filelock may truncate it when it opens it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import EmosimError

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.holder"


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info.get("pid"):
        return "another process"
    return f"pid {info['pid']} ({info.get('command', '?')}) since {info.get('since', '?')}"


def _writable(path: Path, folder: Path) -> None:
    """Open the lock file once so that a read-only or missing folder is its own clear error
    (filelock would report it as a lock held by someone else)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as exc:
        raise EmosimError(f"{folder}: cannot lock the run folder ({exc.strerror})") from None


@contextmanager
def run_lock(folder: Path, command: str | None = None) -> Iterator[None]:
    """Hold the folder's writer lock for the block, or raise one clear error naming the holder."""
    path, holder = folder / LOCK_FILE, folder / HOLDER_FILE
    _writable(path, folder)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise EmosimError(
            f"run is locked: {folder} is being written by {_holder(holder)}; "
            "wait for it to finish (or stop it), then try again"
        ) from None
    except OSError as exc:
        raise EmosimError(f"{folder}: cannot lock the run folder ({exc.strerror})") from None
    try:
        info = {
            "pid": os.getpid(),
            "command": command or " ".join(["emosim", *sys.argv[1:]]),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with suppress(OSError):  # the lock holds without its note; a second writer names no pid
            holder.write_text(json.dumps(info), encoding="utf-8")
        yield
    finally:
        with suppress(OSError):
            holder.unlink(missing_ok=True)
        lock.release()
