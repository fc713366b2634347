"""Ray as the executor: conversations played by Ray actors on a local or remote cluster.

Why actors: a model-backed conversation spends most of its time waiting on the provider, so
each worker (one actor process, with its own Simulator and agents) plays many conversations
at once on threads (`max_concurrency`), as the thread executor does in one process.

What survives what:
- a worker killed mid-conversation: Ray restarts the actor and retries its unfinished calls
  (`max_restarts=-1`, `max_task_retries=-1`); each conversation resumes from its last
  checkpoint, the ledger keeps its turns once, and its model calls and cost are recounted
  from the run's cassette (the calls of the lost process included);
- the driver killed: its workers die with it (Ray ends the actors of a dead owner); the run
  lock is released by the OS, and `emosim batch --resume RUN --executor ray` plays what has
  no record yet. Workers are named after the run, so a resumed driver first waits until the
  previous driver's workers are gone: two processes never play one conversation at once.

Records are appended by the driver only (emosim/batch.py), so each is written once; each
conversation's events travel back with its record and are appended by the driver too.

Every node needs emosim installed, the project folder and the run folder at the same paths
(records, events and the cassette are files there: one host, or a shared file system). The
run's checkpoints and ledger are where the run keeps them (emosim/storage/runs.py): its SQLite
file, which the workers of one host share, or PostgreSQL, which workers on any host share.
The driver's provider keys (`*_API_KEY`), `EMOSIM_*` settings, PGPASSWORD and the run's store
setting are handed to the workers as arguments.
Ray is imported only here, so the default install does not need it.
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emosim.agents.llm.ratelimit import RateLimitSettings, use_limiter
from emosim.errors import EmosimError
from emosim.graphs.runner import Job, Simulator
from emosim.runs import EVENTS, RunFolder
from emosim.schemas import ConversationRecord

from . import BatchWork

NAMESPACE = "emosim"
LIMITER = "emosim-rate-limiter"
GONE_SECONDS = 60.0
"""How long a resumed driver waits for the workers of a killed driver to end."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EmosimError(
            "--executor ray: Ray is not installed; install it with pip install 'emosim[ray]'"
        ) from None
    return ray


def forwarded_env() -> dict[str, str]:
    """The settings workers need from the driver's environment: provider keys, emosim's (the
    run store's among them) and libpq's password."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.startswith("EMOSIM_")
        or k.endswith("_API_KEY")
        or k in ("ANTHROPIC_BASE_URL", "PGPASSWORD", "PGPASSFILE")
    }


class Limiter:
    """The cluster's rate limiter: one detached actor holding every key's buckets (the same
    `Buckets` as a single process's). Its answers are waits in seconds, never clock times."""

    def __init__(self) -> None:
        from emosim.agents.llm.ratelimit import Buckets

        self.buckets = Buckets()

    def reserve(self, key: str, limits: dict[str, Any], tokens: int) -> float:
        return self.buckets.reserve(
            key, RateLimitSettings.model_validate(limits), tokens, time.monotonic()
        )

    def settle(self, key: str, limits: dict[str, Any], extra_tokens: int) -> None:
        self.buckets.settle(key, RateLimitSettings.model_validate(limits), extra_tokens)


def limiter_actor(ray: Any) -> Any:
    """The cluster's one limiter actor, started by whichever worker asks first."""
    return (
        ray.remote(Limiter)
        .options(
            name=LIMITER,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_restarts=-1,
        )
        .remote()
    )


class RayLimiter:
    """A worker's view of the cluster's limiter (satisfies ratelimit.RateLimiter). The actor is
    found (or started) at the first call that has a limit: a batch without one starts none."""

    def __init__(self, ray: Any, actor: Any = None):
        self.ray = ray
        self._actor = actor
        self._lock = threading.Lock()

    @property
    def actor(self) -> Any:
        with self._lock:
            if self._actor is None:
                self._actor = limiter_actor(self.ray)
            return self._actor

    def reserve(self, key: str, limits: RateLimitSettings, tokens: int) -> float:
        return float(self.ray.get(self.actor.reserve.remote(key, limits.model_dump(), tokens)))

    def settle(self, key: str, limits: RateLimitSettings, extra_tokens: int) -> None:
        self.actor.settle.remote(key, limits.model_dump(), extra_tokens)  # no need to wait


def _event_logger(handle: io.StringIO) -> Any:
    """The run's event logger (RunFolder.events) writing into one conversation's buffer."""
    from emosim.runs import event_logger

    return event_logger(handle)


class ConversationWorker:
    """One Ray actor: a Simulator on the run, playing conversations on its threads."""

    def __init__(
        self,
        root: str,
        run_path: str,
        store: Any,
        backend: str,
        observer: str,
        env: dict[str, str],
    ):
        os.environ.update(env)
        from emosim.catalog import get_catalog

        ray = import_ray()
        use_limiter(RayLimiter(ray))
        self.run = RunFolder(Path(run_path), store=store)
        self.sim = Simulator(get_catalog(Path(root)), self.run, backend, observer)
        self._lock = threading.Lock()

    def pid(self) -> int:
        return os.getpid()

    def play(self, job: Job) -> tuple[str, str]:
        """The conversation's record (JSON) and its events (JSON lines)."""
        with self._lock:  # agents are built once per process, by the first who needs them
            agents = self.sim.agents_for(job.scenario)
        config = self.sim.config(job.conversation_id)
        if self.sim.saver.get_tuple(config) is not None:
            self._recount(agents.accounting, job.conversation_id)
        buffer = io.StringIO()
        try:
            record = self.sim.play(job, _event_logger(buffer))
        except EmosimError as exc:  # its message, as the plain error (subclasses take lists)
            raise EmosimError(str(exc)) from None
        return record.model_dump_json(), buffer.getvalue()

    def _recount(self, accounting: Any, conversation: str) -> None:
        """A conversation begun elsewhere (a killed worker) counts its calls from the cassette."""
        from emosim.agents.llm.accounting import Accounting, load_recorded
        from emosim.agents.llm.build import load_resolved
        from emosim.agents.llm.cassette import CASSETTE

        resolved = load_resolved(self.run.path)
        cassette = self.run.path / CASSETTE
        if resolved is None or not cassette.is_file():
            return
        fresh = Accounting()
        load_recorded(
            fresh, cassette, resolved.pricing, resolved.batch_discount, conversation=conversation
        )
        accounting.replace(conversation, fresh.conversation(conversation))


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        if workers is not None and workers < 1:
            raise EmosimError(f"--workers: must be at least 1, got {workers}")
        import_ray()  # before any run folder is made
        self.address = address
        self.workers = workers
        self.pids: list[int] = []
        """The worker processes of the last `play` (for tests and benchmarks)."""

    def play(
        self, work: BatchWork, todo: list[Job], concurrency: int
    ) -> Iterator[ConversationRecord]:
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            self._connect(ray)
        actors: list[Any] = []
        try:
            if not todo:
                return
            actors = self._start_workers(ray, work, concurrency)
            yield from self._dispatch(ray, work.run, actors, todo, concurrency)
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)
            if started_here:
                ray.shutdown()

    def _connect(self, ray: Any) -> None:
        try:
            ray.init(
                address=self.address,
                namespace=NAMESPACE,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a new local cluster"
            hint = ""
            if self.address and os.environ.get("RAY_AUTH_MODE") != "token":
                hint = (
                    " (a cluster started with `ray start` asks for its token: export "
                    "RAY_AUTH_MODE=token, the token being in ~/.ray/auth_token)"
                )
            raise EmosimError(f"--address: cannot connect to Ray at {where}: {exc}{hint}") from None

    def _start_workers(self, ray: Any, work: BatchWork, concurrency: int) -> list[Any]:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        count = min(self.workers or cpus, concurrency)
        prefix = f"{work.run.run_id}/worker-"
        self._wait_for_previous(ray, prefix)
        cls = ray.remote(ConversationWorker)
        env = forwarded_env()
        actors = [
            cls.options(
                name=f"{prefix}{i}",
                namespace=NAMESPACE,
                max_concurrency=math.ceil(concurrency / count),
                max_restarts=-1,
                max_task_retries=-1,
                num_cpus=min(1, cpus / count),
                scheduling_strategy="SPREAD",
            ).remote(
                str(work.catalog.root),
                str(work.run.path),
                work.run.store,
                work.backend,
                work.observer,
                env,
            )
            for i in range(count)
        ]
        self.pids = [self._get(ray, a.pid.remote()) for a in actors]
        return actors

    def _wait_for_previous(self, ray: Any, prefix: str) -> None:
        """Wait until no worker of an earlier driver of this run is alive."""
        from ray.util import list_named_actors

        deadline = time.monotonic() + GONE_SECONDS
        while True:
            alive = [
                a["name"]
                for a in list_named_actors(all_namespaces=True)
                if a.get("namespace") == NAMESPACE and a["name"].startswith(prefix)
            ]
            if not alive:
                return
            if time.monotonic() > deadline:
                raise EmosimError(
                    f"Ray workers of an earlier driver of this run are still alive after "
                    f"{GONE_SECONDS:.0f} s ({', '.join(alive)}); stop them with ray.kill, "
                    "then resume"
                )
            time.sleep(0.2)

    def _dispatch(
        self, ray: Any, run: RunFolder, actors: list[Any], todo: list[Job], concurrency: int
    ) -> Iterator[ConversationRecord]:
        """At most `concurrency` conversations in flight, each on the least busy worker."""
        busy = [0] * len(actors)
        pending: dict[Any, int] = {}
        jobs = iter(todo)
        with open(run.path / EVENTS, "a", encoding="utf-8") as events:
            while True:
                while len(pending) < concurrency:
                    job = next(jobs, None)
                    if job is None:
                        break
                    i = min(range(len(actors)), key=busy.__getitem__)
                    pending[actors[i].play.remote(job)] = i
                    busy[i] += 1
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    busy[pending.pop(ref)] -= 1
                    record_json, lines = self._get(ray, ref)
                    events.write(lines)
                    events.flush()
                    yield ConversationRecord.model_validate_json(record_json)

    @staticmethod
    def _get(ray: Any, ref: Any) -> Any:
        """A worker's answer; an emosim error raised there is raised here as itself."""
        from ray.exceptions import RayTaskError

        try:
            return ray.get(ref)
        except RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, EmosimError):
                raise cause from None
            raise
