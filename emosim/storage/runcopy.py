"""`emosim store copy RUN ...`: a run into a new run folder whose checkpoints and ledger are
in PostgreSQL or in the folder's own SQLite file, then proven equal to the source.

The folder's files (manifest, records, events, cassette ...) are copied as they are. Each
conversation's checkpoints are read through the source's LangGraph checkpointer and written
through the target's (`put` with the same ids and parents, `put_writes` for pending writes),
so either backend's own layout is used; the ledger rows (turns, records) are copied as
stored. Afterwards both sides are read back: every checkpoint (id, parent, state, metadata,
pending writes), every ledger row and every file must be equal, and each finished
conversation's stored record must equal its line in the records file. A copy that fails or
differs is removed, rows and folder.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from langgraph.checkpoint.base import WRITES_IDX_MAP
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from emosim.errors import EmosimError

from .location import Dsn
from .runs import STORAGE_FILE, RunStore, write_storage

# the folder's files that belong to the source's storage, or to no copy
NOT_COPIED = (
    "checkpoints.sqlite",
    "checkpoints.sqlite-wal",
    "checkpoints.sqlite-shm",
    STORAGE_FILE,
    ".lock",
    ".lock.holder",
)
_SERDE = JsonPlusSerializer()


@dataclass
class RunCopyReport:
    """What was copied, and the digests found equal on both sides."""

    source: str
    target: str
    folder: str
    conversations: int = 0
    checkpoints: int = 0
    writes: int = 0
    turns: int = 0
    records: int = 0
    checkpoints_sha256: str = ""
    ledger_sha256: str = ""
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


# --- copying ----------------------------------------------------------------------------------


def copy_checkpoints(
    source: RunStore, target: RunStore, conversations: Iterable[str] | None = None
) -> tuple[int, int]:
    """Every checkpoint and pending write of the conversations (default: all), oldest first,
    with the same ids and parents; (checkpoints, writes) copied."""
    checkpoints = writes = 0
    for conversation in source.conversations() if conversations is None else conversations:
        history = list(
            source.saver.list({"configurable": {"thread_id": source.thread(conversation)}})
        )
        for item in reversed(history):
            configurable = {
                "thread_id": target.thread(conversation),
                "checkpoint_ns": item.config["configurable"].get("checkpoint_ns", ""),
            }
            if item.parent_config is not None:
                configurable["checkpoint_id"] = item.parent_config["configurable"]["checkpoint_id"]
            saved = target.saver.put(
                {"configurable": configurable},
                item.checkpoint,
                item.metadata,
                dict(item.checkpoint["channel_versions"]),
            )
            checkpoints += 1
            for task_id, group in _by_task(item.pending_writes or []):
                target.saver.put_writes(saved, group, task_id)
                writes += len(group)
    target.commit()
    return checkpoints, writes


def _by_task(pending: list[tuple[str, str, Any]]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Pending writes as `put_writes` calls: a task's ordinary writes together (their index is
    their place in the call), each special write (error, interrupt ...) in a call of its own."""
    calls: list[tuple[str, list[tuple[str, Any]]]] = []
    ordinary: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in pending:
        if channel in WRITES_IDX_MAP:
            calls.append((task_id, [(channel, value)]))
        else:
            ordinary.setdefault(task_id, []).append((channel, value))
    return [*ordinary.items(), *calls]


def copy_run(
    source_folder: Path, target_folder: Path, target: Dsn | None, source_store: Dsn | None = None
) -> RunCopyReport:
    """Copy the run at `source_folder` into the new folder `target_folder`, its checkpoints
    and ledger in Postgres at `target` (or, None, in the new folder's SQLite file); then
    prove the two equal. Raises, leaving nothing behind, when anything differs.
    `source_store`: the DSN (with password) of a source on Postgres (default: the setting)."""
    from emosim.runs import MANIFEST, RunFolder

    start = time.perf_counter()
    source = RunFolder(source_folder, source_store)
    if not (source_folder / MANIFEST).is_file():
        raise EmosimError(f"{source_folder}: not a run folder (no {MANIFEST})")
    if target_folder.exists():
        raise EmosimError(f"{target_folder}: already exists: copy into a new folder")
    storage = source.storage()
    if not storage.postgres and not source.checkpoints_path.is_file():
        raise EmosimError(f"{source_folder}: no checkpoints.sqlite: nothing to copy")
    report = RunCopyReport(storage.describe(source_folder), "", str(target_folder))
    copy = RunFolder(target_folder, target)
    made: Any = None
    with source.lock("emosim store copy"), source.open_store(create=False) as src:
        try:
            shutil.copytree(source_folder, target_folder, ignore=_not_copied)
            if target is not None:
                from .runs import PostgresRunStore

                made = PostgresRunStore(target, copy.run_id)
                if not made.fresh:
                    made.close()
                    made = None
                    raise EmosimError(
                        f"{target}: already holds a run {copy.run_id!r}: copy into a folder of "
                        "another name"
                    )
                write_storage(target_folder, target, copy.run_id)
            dst = made if made is not None else copy.open_store()
            made = dst
            report.target = copy.storage().describe(target_folder)
            report.checkpoints, report.writes = copy_checkpoints(src, dst)
            turns, records = src.ledger.turn_rows(), src.ledger.record_rows()
            dst.ledger.add_rows(turns, records)
            _compare(source_folder, target_folder, src, dst, report)
        except BaseException:
            if made is not None and hasattr(made, "drop"):
                made.drop()
            if made is not None:
                made.close()
            shutil.rmtree(target_folder, ignore_errors=True)
            raise
        made.close()
    report.seconds = time.perf_counter() - start
    return report


def _not_copied(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in NOT_COPIED]


# --- proving the copy equal -------------------------------------------------------------------


def _typed(value: Any) -> Any:
    kind, data = _SERDE.dumps_typed(value)
    return [kind, data.hex()]


def canonical(value: Any) -> bytes:
    """One byte string per value, whatever the backend gave back (JSONB reorders keys)."""
    return orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_typed
    )


def checkpoint_rows(store: RunStore, conversation: str) -> list[bytes]:
    """A conversation's checkpoints, oldest first, each as canonical bytes."""
    out = []
    history = store.saver.list({"configurable": {"thread_id": store.thread(conversation)}})
    for item in reversed(list(history)):
        parent = item.parent_config["configurable"]["checkpoint_id"] if item.parent_config else None
        metadata = {k: v for k, v in (item.metadata or {}).items() if k != "writes"}
        pending = sorted(item.pending_writes or [], key=lambda w: w[0])  # stable within a task
        out.append(
            canonical(
                [
                    item.config["configurable"]["checkpoint_id"],
                    parent,
                    item.checkpoint,
                    metadata,
                    [[t, c, _typed(v)] for t, c, v in pending],
                ]
            )
        )
    return out


def store_digest(store: RunStore) -> tuple[str, str, int, int]:
    """(checkpoints sha256, ledger sha256, conversations, checkpoints) of a run's store."""
    checkpoints, count = hashlib.sha256(), 0
    conversations = store.conversations()
    for conversation in conversations:
        checkpoints.update(conversation.encode() + b"\n")
        for row in checkpoint_rows(store, conversation):
            checkpoints.update(row + b"\n")
            count += 1
    ledger = hashlib.sha256()
    for row in [*store.ledger.turn_rows(), *store.ledger.record_rows()]:
        ledger.update(orjson.dumps(row) + b"\n")
    return checkpoints.hexdigest(), ledger.hexdigest(), len(conversations), count


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in NOT_COPIED
    }


def _compare(
    source_folder: Path, target_folder: Path, src: RunStore, dst: RunStore, report: RunCopyReport
) -> None:
    from emosim.runs import RECORDS

    differs = []
    theirs, ours = store_digest(src), store_digest(dst)
    report.checkpoints_sha256, report.ledger_sha256, report.conversations, _ = ours
    if theirs[0] != ours[0]:
        differs.append(f"checkpoints differ ({theirs[3]} in the source, {ours[3]} here)")
    if theirs[1] != ours[1]:
        differs.append("ledger rows (turns, records) differ")
    report.files = _files(target_folder)
    if _files(source_folder) != report.files:
        differs.append("files of the run folder differ")
    turns, records = dst.ledger.turn_rows(), dst.ledger.record_rows()
    report.turns, report.records = len(turns), len(records)
    lines = {}
    path = target_folder / RECORDS
    if path.is_file():
        for line in path.read_bytes().splitlines():
            if line.strip():
                lines[orjson.loads(line)["id"]] = orjson.loads(line)
    for conversation, payload in records:
        if conversation in lines and orjson.loads(payload) != lines[conversation]:
            differs.append(f"stored record of {conversation} differs from its line in {RECORDS}")
    if differs:
        raise EmosimError(
            f"{report.target}: the copy differs from {report.source} (removed): "
            + "; ".join(differs)
        )
