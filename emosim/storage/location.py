"""The store setting: a SQLite path (the default) or a PostgreSQL DSN, never a mix-up.

`--store postgresql://user@host/db` (or $EMOSIM_STORE) selects Postgres wherever a store
path is accepted. A DSN is kept as `Dsn`, not `Path` (a Path would fold its `//`), and it
prints without its password, so messages and manifests never leak one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from emosim.errors import EmosimError

ENV = "EMOSIM_STORE"
SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Dsn:
    """A PostgreSQL connection URL; `str()` hides the password."""

    url: str

    def __str__(self) -> str:
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))

    @property
    def name(self) -> str:
        """The store's short name, as `Path.name` gives a file's: its database, and schema
        when the DSN names one (what a trained model's provenance records)."""
        database = urlsplit(self.url).path.strip("/") or "postgres"
        return f"{database}/{self.schema}" if self.schema else database

    @property
    def schema(self) -> str | None:
        """The schema named by `?options=-csearch_path=NAME`, if any (else the role's default)."""
        for option in parse_qs(urlsplit(self.url).query).get("options", []):
            for word in option.split():
                if word.startswith("-csearch_path="):
                    return word.split("=", 1)[1].split(",")[0].strip() or None
        return None


StoreLocation = Path | Dsn


def is_dsn(value: object) -> bool:
    return isinstance(value, Dsn) or (
        isinstance(value, str) and value.strip().lower().startswith(SCHEMES)
    )


def parse_location(value: str | Path | Dsn, what: str = "--store") -> StoreLocation:
    """A DSN for `postgresql://...` / `postgres://...`, else a path."""
    if isinstance(value, Dsn | Path):
        return value
    text = value.strip()
    if is_dsn(text):
        parts = urlsplit(text)
        if not (parts.path.strip("/") or parts.hostname or parts.query):
            raise EmosimError(f"{what}: {Dsn(text)}: name the database (postgresql://HOST/DB)")
        return Dsn(text)
    if text.lower().startswith(("postgresql:/", "postgres:/")):  # a file option folded '//'
        raise EmosimError(f"{what}: takes a file or folder here, not a PostgreSQL address")
    if "://" in text:
        raise EmosimError(
            f"{what}: {text.split('://')[0]}://...: not a store (give a file or folder, "
            "or a postgresql://USER@HOST/DB address)"
        )
    return Path(text)


def from_env() -> StoreLocation | None:
    """$EMOSIM_STORE, when set and not empty."""
    value = os.environ.get(ENV, "").strip()
    return parse_location(value, f"${ENV}") if value else None
