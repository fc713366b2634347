"""The label store's SQL: its tables, the triggers that keep it append-only, and the upgrade
of stores written before the hash chain (version 1).

Every table refuses UPDATE and DELETE, and an INSERT that would replace a row (`INSERT OR
REPLACE`, `REPLACE`: SQLite deletes the old row without firing delete triggers, so each
table has its own insert guard). Events and conversations must carry their chain hash.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from emosim.errors import EmosimError

from .chain import conversation_chain, event_chain

STORE_VERSION = "2"
TABLES = ("meta", "conversations", "turns", "sentences", "events")

_TABLES = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE conversations (
    conversation_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    record_json TEXT NOT NULL,
    chain_seq INTEGER,
    hash TEXT
)""",
    """CREATE TABLE turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
    turn_index INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn_index)
)""",
    """CREATE TABLE sentences (
    conversation_id TEXT NOT NULL,
    turn_index INTEGER NOT NULL,
    sentence_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn_index, sentence_index),
    FOREIGN KEY (conversation_id, turn_index) REFERENCES turns(conversation_id, turn_index)
)""",
    """CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
    turn_index INTEGER,
    sentence_index INTEGER,
    field TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TEXT NOT NULL,
    supersedes TEXT,
    stored_at TEXT NOT NULL,
    event_json TEXT NOT NULL,
    hash TEXT
)""",
    "CREATE INDEX events_target ON events (conversation_id, turn_index, sentence_index, field)",
]
_INDEXES = ["CREATE UNIQUE INDEX conversations_chain ON conversations (chain_seq)"]

# table -> (condition under which an INSERT would replace a row, what the table holds)
_REPLACES = {
    "meta": ("EXISTS (SELECT 1 FROM meta WHERE key = NEW.key)", "store metadata"),
    "conversations": (
        "EXISTS (SELECT 1 FROM conversations WHERE conversation_id = NEW.conversation_id) "
        "OR EXISTS (SELECT 1 FROM conversations WHERE chain_seq = NEW.chain_seq)",
        "imported conversations",
    ),
    "turns": (
        "EXISTS (SELECT 1 FROM turns WHERE conversation_id = NEW.conversation_id "
        "AND turn_index = NEW.turn_index)",
        "imported turns",
    ),
    "sentences": (
        "EXISTS (SELECT 1 FROM sentences WHERE conversation_id = NEW.conversation_id "
        "AND turn_index = NEW.turn_index AND sentence_index = NEW.sentence_index)",
        "imported sentences",
    ),
    "events": (
        "EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id) "
        "OR EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq)",
        "label events",
    ),
}
_CHAINED = ("conversations", "events")


def _triggers() -> dict[str, str]:
    out: dict[str, str] = {}
    for table, (replaces, what) in _REPLACES.items():
        refuse = f"{what} are append-only"
        for verb in ("UPDATE", "DELETE"):
            out[f"{table}_no_{verb.lower()}"] = (
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{refuse}: {verb} refused'); END"
            )
        hashless = (
            f"WHEN NEW.hash IS NULL THEN RAISE(ABORT, '{refuse}: an INSERT without its chain "
            "hash refused (write through emosim)') "
            if table in _CHAINED
            else ""
        )
        out[f"{table}_insert_guard"] = (
            f"CREATE TRIGGER {table}_insert_guard BEFORE INSERT ON {table} BEGIN SELECT CASE "
            f"{hashless}WHEN {replaces} THEN RAISE(ABORT, '{refuse}: an INSERT that replaces a "
            "row refused') END; END"
        )
    return out


TRIGGERS = _triggers()
_V1_TRIGGERS = ("events_no_update", "events_no_delete", "conversations_no_update")


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith("sqlite_")
    }


def _version(conn: sqlite3.Connection) -> str | None:
    if "meta" not in _tables(conn):
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'store_version'").fetchone()
    return row[0] if row else None


def prepare(conn: sqlite3.Connection, where: str) -> int | None:
    """Make `conn`'s database a current label store: create it when empty, upgrade a
    version 1 store (returns how many events it chained), leave a current one alone."""
    version = _version(conn)
    if version == STORE_VERSION:
        return None
    if version not in (None, "1"):
        raise EmosimError(
            f"{where}: label store version {version!r} is newer than this emosim understands "
            f"({STORE_VERSION}); upgrade emosim"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn)  # another process may have done it while we waited
        chained = None
        if version is None:
            others = sorted(_tables(conn))
            if others:
                raise EmosimError(
                    f"{where}: not a label store (it holds other tables: {', '.join(others)}); "
                    "give a new file or an existing labels.sqlite"
                )
            _create(conn)
        elif version == "1":
            chained = _upgrade(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return chained


def new_meta() -> list[tuple[str, str]]:
    """The meta rows of a store made now (a copy keeps its source's instead)."""
    now = datetime.now(UTC).isoformat()
    return [("store_version", STORE_VERSION), ("chain_since", now), ("events_before_chain", "0")]


def _create(conn: sqlite3.Connection) -> None:
    create(conn, new_meta())


def create(conn: sqlite3.Connection, meta: list[tuple[str, str]]) -> None:
    """The tables, indexes and guards of an empty store, with these meta rows."""
    for statement in (*_TABLES, *_INDEXES):
        conn.execute(statement)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
    for statement in TRIGGERS.values():
        conn.execute(statement)


def _upgrade(conn: sqlite3.Connection) -> int:
    """Version 1 -> 2: add the chain columns and hash every existing row in stored order.

    The chain then vouches for those rows only from the upgrade on (`chain_since`)."""
    for name in (*_V1_TRIGGERS, *TRIGGERS):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute("ALTER TABLE events ADD COLUMN hash TEXT")
    conn.execute("ALTER TABLE conversations ADD COLUMN chain_seq INTEGER")
    conn.execute("ALTER TABLE conversations ADD COLUMN hash TEXT")
    conn.executemany(
        "UPDATE conversations SET chain_seq = ?, hash = ? WHERE conversation_id = ?",
        [(seq, digest, cid) for seq, cid, digest in conversation_chain(conn, stored=False)],
    )
    events = [(digest, seq) for seq, digest in event_chain(conn)]
    conn.executemany("UPDATE events SET hash = ? WHERE seq = ?", events)
    for statement in _INDEXES:
        conn.execute(statement)
    now = datetime.now(UTC).isoformat()
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [
            ("store_version", STORE_VERSION),
            ("chain_since", now),
            ("events_before_chain", str(len(events))),
        ],
    )
    for statement in TRIGGERS.values():
        conn.execute(statement)
    return len(events)


def missing_triggers(conn: sqlite3.Connection) -> list[str]:
    present = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    return [name for name in TRIGGERS if name not in present]
