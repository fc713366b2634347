"""The SQLite dialect of the label store (its DDL lives in `emosim.labels.ddl`)."""

from __future__ import annotations

import sqlite3
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

    def after_copy(self, conn: Any) -> None:
        """AUTOINCREMENT follows the largest seq inserted: nothing to do."""


SQLITE = SqliteDialect()


def create_empty(path: Path, meta: list[tuple[str, str]], timeout: float) -> sqlite3.Connection:
    """A new store file at `path` with these meta rows (for `store copy`); refuses a file
    that is there already."""
    from ..ddl import create

    if path.exists() and path.stat().st_size > 0:
        raise EmosimError(f"{path}: already exists: copy into a new file")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            create(conn, meta)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except BaseException:
        conn.close()
        raise
    return conn
