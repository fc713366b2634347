"""Executors: what plays a batch's conversations.

    threads  one process, a thread per conversation in flight (the default; no extra install)
    ray      Ray actors on a local or remote cluster (`pip install 'emosim[ray]'`)

Both satisfy `Executor`: given the batch's work and the jobs still to play, yield each
finished record once. The driver (emosim/batch.py) appends records and counts them, so a
conversation is written once whatever plays it; each conversation checkpoints as it goes,
so whatever kills a worker, the conversation resumes from its last checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from emosim.catalog import Catalog
from emosim.errors import EmosimError
from emosim.graphs.runner import Job
from emosim.runs import RunFolder
from emosim.schemas import ConversationRecord

EXECUTORS = ("threads", "ray")


@dataclass
class BatchWork:
    """What every conversation of a batch shares: the project, the run and its agents."""

    catalog: Catalog
    run: RunFolder
    backend: str
    observer: str
    coordinator: Any = None
    """The Message Batches coordinator (threads only), or None."""


class Executor(Protocol):
    name: str

    def play(
        self, work: BatchWork, todo: list[Job], concurrency: int
    ) -> Iterator[ConversationRecord]:
        """Play every job, at most `concurrency` at a time; yield each record once."""
        ...


def executor_for(
    name: str, address: str | None = None, workers: int | None = None, batches: bool = False
) -> Executor:
    """The executor named on the command line, or one clear error."""
    if batches and name != "threads":
        raise EmosimError(f"--message-batches: only with --executor threads, not {name}")
    if name == "threads":
        if address is not None:
            raise EmosimError("--address: only with --executor ray")
        if workers is not None:
            raise EmosimError("--workers: only with --executor ray")
        from .threads import ThreadExecutor

        return ThreadExecutor()
    if name == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(address, workers)
    raise EmosimError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {name!r}")
