"""The SQLite dialect of the label store (its DDL lives in `emosim.labels.ddl`)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emosim.errors import EmosimError


class SqliteDialect:
    name = "sqlite"

    def is_busy(self, exc: BaseException) -> bool:
        text = str(exc).lower()
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)

    def is_refused(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def table_names(self, conn: Any) -> set[str]:
        return {
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        }

    def guard_problems(self, conn: Any) -> list[str]:
        from ..ddl import missing_triggers

        return [
            f"trigger {name} missing: the table's append-only guard was removed"
            for name in missing_triggers(conn)
        ]

    def orphans(self, conn: Any) -> list[str]:
        return [
            f"{table} row {rowid}: refers to a missing {parent} row"
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
        ]


SQLITE = SqliteDialect()


def create_copy(
    path: Path, meta: list[tuple[str, str]], fill: Callable[[Any], None], timeout: float
) -> None:
    """A new store file at `path` with these meta rows, filled by `fill(conn)` (for `store
    copy`): built beside it and renamed into place, so a failed copy leaves no store."""
    from ..ddl import create

    if path.exists():
        raise EmosimError(f"{path}: already exists: copy into a new file")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.copying")
    for leftover in (tmp, *(tmp.with_name(tmp.name + end) for end in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, timeout=timeout, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            create(conn, meta)
            fill(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
        os.replace(tmp, path)
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
