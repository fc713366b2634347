"""Inspect, replay and fork finished runs, checkpoint by checkpoint.

A conversation's checkpoints hold the working state of each step; its finished turns live in
the run's turn ledger. The state "at" a checkpoint is both: the working set plus the turns
committed by then (`turn_count`). Replays never touch the original run: they work on a copy
of its checkpoint database (of a run on PostgreSQL: of the conversation, into a scratch
SQLite file).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .agents.arc import ArcController
from .catalog import Catalog
from .errors import EmosimError
from .graphs.ledger import TURN
from .graphs.runner import Job, Simulator, job_entry
from .graphs.simulation import routed_update
from .graphs.state import WORK, working_set
from .runs import CHECKPOINTS, RunFolder
from .schemas import ConversationRecord, LineageInfo, Scenario

VOLATILE = {"created_at", "run_id"}


@dataclass(frozen=True)
class Checkpoint:
    step: int
    checkpoint_id: str
    node: str  # the node whose step produced this checkpoint ("input" for the first)
    next: tuple[str, ...]
    created_at: str
    values: dict[str, Any]

    @property
    def exchange(self) -> int | None:
        return self.values.get("exchange")

    @property
    def turn_count(self) -> int:
        return int(self.values.get("turn_count", 0))


def strip_volatile(obj: Any) -> Any:
    """What legitimately differs between two plays of the same conversation: times, run ids."""
    if isinstance(obj, dict):
        return {k: strip_volatile(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [strip_volatile(v) for v in obj]
    return obj


def diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, before, after) for every leaf that differs."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else None
            y = b[i] if i < len(b) else None
            out += (
                diff(x, y, f"{path}.{i}")
                if x is not None and y is not None
                else [(f"{path}.{i}", x, y)]
            )
        return out
    return [] if a == b else [(path, a, b)]


class RunInspector:
    """Read-only view of one run: its jobs, records and checkpoint histories."""

    def __init__(self, catalog: Catalog, run: RunFolder):
        self.catalog = catalog
        self.run = run
        self.manifest = run.manifest()
        self.jobs = {j["conversation_id"]: j for j in self.manifest.get("jobs", [])}

    # --- lookups --------------------------------------------------------------------------

    def job(self, conversation: str) -> Job:
        entry = self.jobs.get(conversation)
        if entry is None:
            known = ", ".join(sorted(self.jobs)[:10])
            raise EmosimError(
                f"run {self.run.run_id}: no conversation {conversation!r} (known: {known})"
            )
        scenario = Scenario.model_validate(entry["scenario"])
        return Job(
            scenario, entry["scenario_hash"], int(entry["seed"]), entry.get("scenario_source", "")
        )

    def records(self) -> dict[str, ConversationRecord]:
        out = {}
        path = self.run.records_path
        if path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        record = ConversationRecord.model_validate_json(line)
                    except ValueError:  # pydantic's ValidationError is a ValueError
                        raise EmosimError(f"{path}:{number}: not a valid record line") from None
                    out[record.id] = record
        return out

    def record(self, conversation: str) -> ConversationRecord:
        self.job(conversation)
        record = self.records().get(conversation)
        if record is None:
            raise EmosimError(
                f"run {self.run.run_id}: conversation {conversation!r} has no record yet"
            )
        return record

    def history(self, conversation: str, sim: Simulator | None = None) -> list[Checkpoint]:
        self.job(conversation)
        with self._simulator(sim) as s:
            snapshots = list(s.graph.get_state_history(s.config(conversation)))
        snapshots.reverse()  # oldest first
        out = []
        previous_next: tuple[str, ...] = ()
        for snap in snapshots:
            meta = snap.metadata or {}
            node = "input" if meta.get("source") == "input" else ",".join(previous_next) or "?"
            out.append(
                Checkpoint(
                    step=int(meta.get("step", -1)),
                    checkpoint_id=snap.config["configurable"]["checkpoint_id"],
                    node=node,
                    next=tuple(snap.next),
                    created_at=str(snap.created_at),
                    values=dict(working_set(snap.values)),
                )
            )
            previous_next = tuple(snap.next)
        if not out:
            raise EmosimError(f"conversation {conversation!r}: no checkpoints in {self.run.path}")
        return out

    def checkpoint(self, conversation: str, ref: str, sim: Simulator | None = None) -> Checkpoint:
        """A checkpoint by id, id prefix, or step number."""
        history = self.history(conversation, sim)
        for cp in history:
            if ref == cp.checkpoint_id or (ref.lstrip("-").isdigit() and int(ref) == cp.step):
                return cp
        matches = [cp for cp in history if len(ref) >= 8 and cp.checkpoint_id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        steps = f"{history[0].step}..{history[-1].step}"
        raise EmosimError(
            f"conversation {conversation!r}: no checkpoint {ref!r} (use a step {steps} or an id "
            "from `emosim inspect`)"
        )

    def state_at(self, conversation: str, ref: str) -> dict[str, Any]:
        """Channel values plus the turns committed at that checkpoint."""
        with self._simulator(None) as sim:
            cp = self.checkpoint(conversation, ref, sim)
            turns = [
                t.model_dump(mode="json") for t in sim.ledger.turns(conversation, cp.turn_count)
            ]
        return {
            "checkpoint": cp.checkpoint_id,
            "step": cp.step,
            "node": cp.node,
            "next": list(cp.next),
            "values": cp.values,
            "turns": turns,
        }

    def require_checkpoints(self) -> None:
        """A missing or damaged checkpoint database is one clear error, and nothing is created
        (sqlite3.connect would make an empty database where none is)."""
        if self.run.storage().postgres:
            with checkpoint_errors(run_where(self.run)):
                self.run.open_store(create=False).close()
            return
        path = self.run.checkpoints_path
        if not path.is_file():
            raise EmosimError(
                f"run {self.run.run_id}: no {CHECKPOINTS} in {self.run.path} "
                "(nothing to inspect, replay or fork)"
            )
        with checkpoint_errors(path):
            conn = sqlite3.connect(path)
            try:
                tables = {
                    row[0]
                    for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
            finally:
                conn.close()
        if "checkpoints" not in tables:
            raise EmosimError(f"{path}: not a checkpoint database (no checkpoints table)")

    @contextmanager
    def _simulator(self, sim: Simulator | None):  # noqa: ANN202
        if sim is not None:
            yield sim
            return
        self.require_checkpoints()
        with (
            checkpoint_errors(run_where(self.run)),
            Simulator(
                self.catalog,
                self.run,
                self.manifest.get("backend", "scripted"),
                self.manifest.get("observer", "lexicon"),
            ) as s,
        ):
            yield s


def run_where(run: RunFolder) -> str:
    """Where a run's checkpoints are, for messages: its SQLite file or its Postgres rows."""
    return run.storage().describe(run.path)


@contextmanager
def checkpoint_errors(where: Path | str) -> Iterator[None]:
    """A damaged database surfaces as one error naming it, not a driver's traceback."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise EmosimError(f"{where}: damaged checkpoint database ({exc})") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "psycopg":
            raise
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EmosimError(f"{where}: checkpoint store error ({detail})") from None


@contextmanager
def scratch_copy(run: RunFolder, conversation: str | None = None):  # noqa: ANN201
    """A temporary copy of a run folder's checkpoints (and manifest), for replays and
    candidates: the SQLite file whole; from PostgreSQL, `conversation` (default: all) into
    a scratch SQLite file."""
    with tempfile.TemporaryDirectory(prefix="emosim-replay-") as tmp:
        copy = RunFolder(Path(tmp) / run.run_id)
        copy.path.mkdir()
        shutil.copy(run.path / "manifest.json", copy.path / "manifest.json")
        if run.storage().postgres:
            _scratch_from_postgres(run, copy, conversation)
        else:
            src = sqlite3.connect(run.checkpoints_path)
            dst = sqlite3.connect(copy.checkpoints_path)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        for extra in ("cassette.jsonl",):
            if (run.path / extra).exists():
                shutil.copy(run.path / extra, copy.path / extra)
        yield copy


def _scratch_from_postgres(run: RunFolder, copy: RunFolder, conversation: str | None) -> None:
    from .storage.runcopy import copy_checkpoints

    with (
        checkpoint_errors(run_where(run)),
        run.open_store(create=False) as src,
        copy.open_store() as dst,
    ):
        copy_checkpoints(src, dst, None if conversation is None else [conversation])
        dst.ledger.add_rows(
            src.ledger.turn_rows(conversation), src.ledger.record_rows(conversation)
        )


def replay_backend(manifest: dict[str, Any], run: RunFolder) -> str:
    """Scripted runs replay by re-execution (deterministic); model runs from their cassette."""
    backend = manifest.get("backend", "scripted")
    return "scripted" if backend == "scripted" else f"replay:{run.path}"


@dataclass
class ReplayResult:
    conversation: str
    from_checkpoint: str
    identical: bool
    differences: list[tuple[str, Any, Any]]
    record: ConversationRecord


def replay(
    catalog: Catalog, run: RunFolder, conversation: str, ref: str | None = None
) -> ReplayResult:
    inspector = RunInspector(catalog, run)
    original = inspector.record(conversation)
    job = inspector.job(conversation)
    inspector.require_checkpoints()
    with (
        checkpoint_errors(run_where(run)),
        scratch_copy(run, conversation) as copy,
        Simulator(catalog, copy, replay_backend(inspector.manifest, run)) as sim,
    ):
        cp = inspector.checkpoint(conversation, ref or "-1", sim)
        with copy.events() as log:
            record = sim.resume_from(job, cp.checkpoint_id, log)
    differences = diff(
        strip_volatile(original.model_dump(mode="json")),
        strip_volatile(record.model_dump(mode="json")),
    )
    return ReplayResult(conversation, cp.checkpoint_id, not differences, differences, record)


# --- forks ---------------------------------------------------------------------------------

FORKABLE = {
    "hidden.emotion",
    "hidden.intensity",
    "client_text",
    "movement",
    "progress",
    "draft.text",
    "draft.strategies.primary",
    "draft.anti_pattern",
}


def _coerce(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def parse_sets(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise EmosimError(f"--set: expected PATH=VALUE, got {item!r}")
        out[path.strip()] = _coerce(value.strip())
    return out


def check_set_paths(sets: dict[str, Any]) -> None:
    """Refuse an unknown --set path before any database is opened."""
    for path in sets:
        parts = path.split(".")
        if parts[0] == "turns":
            if len(parts) != 3 or not parts[1].isdigit() or parts[2] != "text":
                raise EmosimError(f"--set: {path!r}: only turns.N.text can be changed")
        elif path not in FORKABLE:
            raise EmosimError(
                f"--set: unknown state path {path!r} (allowed: {', '.join(sorted(FORKABLE))}, "
                "turns.N.text)"
            )


def apply_sets(
    values: dict[str, Any], turns: list[dict[str, Any]], sets: dict[str, Any], arc: ArcController
) -> None:
    """Apply --set edits in place, validating paths and values."""
    for path, value in sets.items():
        parts = path.split(".")
        if parts[0] == "turns":
            if len(parts) != 3 or not parts[1].isdigit() or parts[2] != "text":
                raise EmosimError(f"--set: {path!r}: only turns.N.text can be changed")
            index = int(parts[1])
            if index >= len(turns):
                raise EmosimError(
                    f"--set: {path!r}: turn {index} is not committed at this checkpoint "
                    f"({len(turns)} turns)"
                )
            turns[index]["text"] = str(value)
            continue
        if path not in FORKABLE:
            raise EmosimError(
                f"--set: unknown state path {path!r} (allowed: {', '.join(sorted(FORKABLE))}, "
                "turns.N.text)"
            )
        target = values
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                raise EmosimError(f"--set: {path!r}: the state has no {part!r} at this checkpoint")
            target = target[part]
        target[parts[-1]] = value
    if any(p.startswith("hidden.") for p in sets):
        hidden = values["hidden"]
        emotion = hidden.get("emotion")
        if emotion not in arc.catalog.emotions:
            raise EmosimError(f"--set: hidden.emotion: unknown emotion id {emotion!r}")
        try:
            intensity = float(hidden.get("intensity"))
        except (TypeError, ValueError):
            raise EmosimError(
                f"--set: hidden.intensity: not a number: {hidden.get('intensity')!r}"
            ) from None
        if not 0.0 <= intensity <= 1.0:
            raise EmosimError(f"--set: hidden.intensity: {intensity} is outside 0..1")
        values["hidden"] = arc.make_state(emotion, intensity).model_dump(mode="json")
    if (
        "draft.strategies.primary" in sets
        and sets["draft.strategies.primary"] not in arc.catalog.strategies
    ):
        raise EmosimError(
            f"--set: draft.strategies.primary: unknown strategy id {sets['draft.strategies.primary']!r}"
        )


def fork(
    catalog: Catalog,
    run: RunFolder,
    conversation: str,
    ref: str,
    sets: dict[str, Any],
    backend: str | None = None,
) -> ConversationRecord:
    """Continue a conversation from a checkpoint with changed values, as a new conversation
    in the same run; its lineage names the parent and the fork point."""
    if not sets:
        raise EmosimError("fork: give at least one --set PATH=VALUE")
    check_set_paths(sets)
    inspector = RunInspector(catalog, run)
    job = inspector.job(conversation)
    inspector.require_checkpoints()
    with (
        run.lock(),
        checkpoint_errors(run_where(run)),
        Simulator(
            catalog,
            run,
            backend or inspector.manifest.get("backend", "scripted"),
            inspector.manifest.get("observer", "lexicon"),
        ) as sim,
    ):
        cp = inspector.checkpoint(conversation, ref, sim)
        if not cp.next:
            raise EmosimError(
                f"checkpoint {cp.checkpoint_id} is the end of the conversation: nothing to continue"
            )
        values = json.loads(json.dumps(cp.values))
        turns = [t.model_dump(mode="json") for t in sim.ledger.turns(conversation, cp.turn_count)]
        ctx_probe = sim.context(job, None)
        apply_sets(values, turns, sets, ctx_probe.arc)
        parent = LineageInfo.model_validate(job.scenario.lineage.model_dump())
        lineage = LineageInfo(
            seed_id=parent.seed_id or job.scenario.id,
            parent_id=conversation,
            axis="fork",
            changed={k: str(v) for k, v in sets.items()},
            fork_checkpoint=cp.checkpoint_id,
        )
        forked = Job(
            job.scenario.model_copy(update={"lineage": lineage}),
            job.scenario_hash,
            job.seed,
            job.source,
        )
        key = json.dumps([cp.checkpoint_id, sorted(lineage.changed.items())])
        fork_id = f"{conversation}--fork-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        if fork_id in inspector.jobs:
            raise EmosimError(f"this fork already exists in the run: {fork_id}")
        for index, turn in enumerate(turns):
            sim.ledger.put_turn(fork_id, index, TURN.validate_python(turn))
        sim.store.commit()
        with run.events() as log:
            ctx = sim.context(forked, log, conversation=fork_id)
            config = sim.config(fork_id)
            if cp.node == "input":
                sim.graph.update_state(config, {WORK: values}, as_node="__start__")
            else:  # the forked values take the route the node would take from them
                update = routed_update(cp.node, values, values)
                sim.graph.update_state(config, update, as_node=cp.node)
            sim.graph.invoke(None, config, context=ctx, durability="sync")
            record = sim.finished_record(fork_id)
        _register_fork(run, forked, fork_id)
        run.append_records([record.model_dump_json()])
    return record


def _register_fork(run: RunFolder, job: Job, fork_id: str) -> None:
    manifest = run.manifest()
    manifest.setdefault("jobs", []).append(job_entry(job, fork_id))
    run.write_manifest(manifest)


# --- the graph drawing ---------------------------------------------------------------------


def draw(fmt: str) -> str:
    from .graphs.simulation import build_graph

    graph = build_graph().get_graph()
    if fmt == "mermaid":
        return graph.draw_mermaid()
    if fmt == "ascii":
        return graph.draw_ascii()
    raise EmosimError(f"--format: unknown format {fmt!r} (mermaid, ascii)")
