"""Many conversations into one run folder: streamed to disk, resumable after any kill.

Why it survives `kill -9`: every job is listed in the manifest before work starts; a record
line is appended with one write and fsync, and a torn last line is cut off on resume; a
conversation killed mid-way resumes from its last checkpoint; conversations whose record
line is already on disk are skipped. So a resumed batch ends with exactly the planned set.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from .catalog import Catalog
from .errors import DataError, EmosimError
from .executors import BatchWork, Executor
from .files import format_validation_error, load_yaml_node
from .graphs.runner import (
    Job,
    check_backends,
    check_observer,
    load_job,
    manifest_for,
)
from .runs import RunFolder
from .schemas import ConversationRecord, Scenario
from .schemas.common import StrictModel


class PlannedJob(StrictModel):
    scenario: Scenario = Field(description="The scenario to play.")
    seed: int = Field(description="Random seed.")


class PlanFile(BaseModel):
    """The part of a plan file (`emosim plan`) the batch reads: its jobs."""

    jobs: list[PlannedJob] = Field(min_length=1, description="Conversations to play.")


def scenario_hash(scenario: Scenario) -> str:
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


MAX_SEEDS = 100_000
"""Seeds per scenario in one batch: beyond this a typo (1-100000000) would plan for hours."""


def parse_seeds(spec: str) -> list[int]:
    """'3' -> [3]; '1-5' -> [1..5]; '1,4,9' -> [1, 4, 9]."""
    seeds: list[int] = []
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            span = range(int(lo), int(hi) + 1) if hi else range(int(lo), int(lo) + 1)
            if len(seeds) + len(span) > MAX_SEEDS:
                raise EmosimError(
                    f"--seeds: {spec!r} gives more than {MAX_SEEDS:,} seeds (split the batch)"
                )
            seeds.extend(span)
    except ValueError:
        raise EmosimError(f"--seeds: expected N, A-B or a comma list, got {spec!r}") from None
    if not seeds:
        raise EmosimError(f"--seeds: no seeds in {spec!r} (is A-B backwards?)")
    return seeds


def jobs_from(catalog: Catalog, source: Path, seeds: list[int] | None) -> list[Job]:
    """Jobs from a plan file, a scenario file or a folder of scenario files."""
    if source.is_dir():
        paths = sorted(source.glob("*.yaml"))
        if not paths:
            raise EmosimError(f"{source}: no scenario files (*.yaml)")
        return [load_job(catalog, p, s) for p in paths for s in (seeds or [None])]
    data, node = load_yaml_node(source)
    if isinstance(data, dict) and "jobs" in data:
        try:
            plan = PlanFile.model_validate({"jobs": data["jobs"]})
        except ValidationError as exc:
            raise DataError(format_validation_error(exc, str(source), node)) from None
        jobs = []
        problems: list[str] = []
        for i, planned in enumerate(plan.jobs):
            problems += catalog.scenario_problems(planned.scenario, f"{source}: jobs.{i}.scenario")
            jobs.append(
                Job(planned.scenario, scenario_hash(planned.scenario), planned.seed, str(source))
            )
        if problems:
            raise DataError(problems)
        return jobs
    return [load_job(catalog, source, s) for s in (seeds or [None])]


def unique_jobs(jobs: list[Job]) -> list[Job]:
    seen: set[str] = set()
    out = []
    for job in jobs:
        if job.conversation_id not in seen:
            seen.add(job.conversation_id)
            out.append(job)
    return out


def repair_records(run: RunFolder) -> set[str]:
    """Ids of the records on disk, after cutting a torn last line (a kill mid-append)."""
    path = run.records_path
    if not path.exists():
        return set()
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    ids = _record_ids(path, data[:end])
    if end < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    return ids


def _record_ids(path: Path, data: bytes) -> set[str]:
    """Ids of whole record lines; blank lines are skipped, a damaged one is one clear error."""
    ids = set()
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            ids.add(json.loads(line)["id"])
        except (ValueError, KeyError, TypeError):
            raise EmosimError(
                f"{path}:{number}: not a record line (damaged?); fix or remove that line, "
                "then resume"
            ) from None
    return ids


def repair_records_readonly(run: RunFolder) -> set[str]:
    """Ids of the complete record lines on disk, changing nothing (for a dry run)."""
    path = run.records_path
    if not path.exists():
        return set()
    data = path.read_bytes()
    return _record_ids(path, data[: data.rfind(b"\n") + 1])


def jobs_of_run(run: RunFolder) -> list[Job]:
    manifest = run.manifest()
    return [
        Job(
            Scenario.model_validate(j["scenario"]),
            j["scenario_hash"],
            int(j["seed"]),
            j.get("scenario_source", ""),
        )
        for j in manifest["jobs"]
    ]


@dataclass
class BatchResult:
    run: RunFolder
    planned: int
    skipped: int
    completed: int
    failed: int
    rounds: list[int] | None = None
    """With --message-batches: requests per batch round."""


def run_batch(
    catalog: Catalog,
    run: RunFolder,
    jobs: list[Job],
    *,
    backend: str,
    concurrency: int = 1,
    observer: str = "lexicon",
    on_record: Callable[[ConversationRecord], None] | None = None,
    message_batches: bool = False,
    executor: Executor | None = None,
) -> BatchResult:
    """Play every job of the run that has no record yet, `concurrency` at a time.

    With `message_batches`, Claude calls go through the Message Batches API: each batch round
    carries one request from each in-flight conversation (emosim/agents/llm/batches.py).
    `executor` plays the conversations (emosim/executors/; default: threads in this process)."""
    if concurrency < 1:
        raise EmosimError(f"--concurrency: must be at least 1, got {concurrency}")
    if executor is None:
        from .executors.threads import ThreadExecutor

        executor = ThreadExecutor()
    if message_batches and executor.name != "threads":
        raise EmosimError(f"--message-batches: only with --executor threads, not {executor.name}")
    done = repair_records(run)
    todo = [j for j in jobs if j.conversation_id not in done]
    result = BatchResult(run, len(jobs), len(jobs) - len(todo), 0, 0)
    with ExitStack() as stack:
        coordinator = (
            stack.enter_context(_batches_for(catalog, run, backend)) if message_batches else None
        )
        _play_all(
            catalog,
            run,
            backend,
            observer,
            todo,
            concurrency,
            coordinator,
            result,
            on_record,
            executor,
        )
        if coordinator is not None:
            result.rounds = list(coordinator.rounds)
    return result


def check_batches_backend(backend: str) -> Any:
    """The plan of a backend that can use Message Batches (a Claude role, a key), or one error."""
    from .agents.backends import backend_plan
    from .agents.llm.build import check_key
    from .agents.llm.spec import AnthropicRole

    plan = backend_plan(backend)
    if plan.replay is not None or not any(
        isinstance(r, AnthropicRole) for r in plan.roles.values()
    ):
        raise EmosimError(
            f"--message-batches: no role of backend {backend!r} is played by Claude "
            "(use --backend anthropic, or a spec with anthropic roles)"
        )
    check_key(plan)
    return plan


def _batches_for(catalog: Catalog, run: RunFolder, backend: str) -> Any:
    from .agents.llm.anthropic_transport import make_client
    from .agents.llm.batches import message_batches
    from .agents.llm.settings import load_settings

    plan = check_batches_backend(backend)
    settings = load_settings(catalog.root, plan.settings, plan.source)
    client = make_client(settings.anthropic.base_url)
    return message_batches(run.path, client, settings.message_batches)


def _play_all(
    catalog: Catalog,
    run: RunFolder,
    backend: str,
    observer: str,
    todo: list[Job],
    concurrency: int,
    coordinator: Any,
    result: BatchResult,
    on_record: Callable[[ConversationRecord], None] | None,
    executor: Executor,
) -> None:
    work = BatchWork(catalog, run, backend, observer, coordinator)
    with closing(executor.play(work, todo, concurrency)) as records:
        for record in records:
            run.append_records([record.model_dump_json()])
            result.completed += 1
            result.failed += record.outcome.status == "failed"
            if on_record:
                on_record(record)


def start_batch(
    catalog: Catalog,
    jobs: list[Job],
    runs_dir: Path,
    backend: str,
    label: str,
    command: str,
    observer: str = "lexicon",
    message_batches: bool = False,
) -> RunFolder:
    check_backends(catalog, jobs, backend)
    check_observer(observer)
    if message_batches:
        check_batches_backend(backend)
    run = RunFolder.create(runs_dir, label)
    manifest = manifest_for(catalog, unique_jobs(jobs), backend, command, observer)
    if message_batches:
        manifest["message_batches"] = True  # a resume goes on through batches
    run.write_manifest(manifest)
    return run


def dump_plan(jobs: list[Job]) -> str:
    return yaml.safe_dump(
        {"jobs": [{"scenario": j.scenario.model_dump(mode="json"), "seed": j.seed} for j in jobs]},
        sort_keys=False,
    )
