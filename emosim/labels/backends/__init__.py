"""The label store's two SQL backends: SQLite (the default file) and PostgreSQL (shared).

The store's queries are written once, in the SQL both understand; a Postgres connection
(`postgres.PgConnection`) translates the few SQLite spellings they use (`?` parameters,
`json_each(?)`, `BEGIN IMMEDIATE`). What differs beyond that — the catalogue, the guards'
DDL, error classes — is a `Dialect`, one per backend, found from the connection.
"""

from __future__ import annotations

from typing import Any, Protocol


class Dialect(Protocol):
    """What the store, the chain check and `store copy` need to know of one backend."""

    name: str

    def is_busy(self, exc: BaseException) -> bool:
        """Another writer held the store too long (give up, say 'busy')."""
        ...

    def is_refused(self, exc: BaseException) -> bool:
        """A guard or constraint refused the write (nothing was stored)."""
        ...

    def table_names(self, conn: Any) -> set[str]: ...

    def guard_problems(self, conn: Any) -> list[str]:
        """Append-only guards that are absent or disabled, one line each."""
        ...

    def orphans(self, conn: Any) -> list[str]:
        """Rows that refer to a missing parent row, one line each."""
        ...


def dialect_of(conn: Any) -> Dialect:
    """The connection's dialect: a Postgres connection names its own; else SQLite."""
    found = getattr(conn, "dialect", None)
    if found is not None:
        return found
    from .sqlite import SQLITE

    return SQLITE
