"""One writer per run folder: an exclusive OS file lock on `RUN/.lock`.

Why an OS lock (flock) rather than a pid file: the kernel releases it when the holder dies,
even on `kill -9`, so a crashed batch never leaves a run locked for good. The lock file keeps
who holds it (pid, command, since) so a second writer's error can name the holder. POSIX only (flock).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .errors import EmosimError

LOCK_FILE = ".lock"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info.get("pid"):
        return "another process"
    return f"pid {info['pid']} ({info.get('command', '?')}) since {info.get('since', '?')}"


@contextmanager
def run_lock(folder: Path, command: str | None = None) -> Iterator[None]:
    """Hold the folder's writer lock for the block, or raise one clear error naming the holder."""
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EmosimError(f"{folder}: cannot lock the run folder ({exc.strerror})") from None
    try:
        if not _try_lock(fd):
            raise EmosimError(
                f"run is locked: {folder} is being written by {_holder(path)}; "
                "wait for it to finish (or stop it), then try again"
            )
        info = {
            "pid": os.getpid(),
            "command": command or " ".join(["emosim", *sys.argv[1:]]),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
