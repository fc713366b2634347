"""The default executor: one process, a thread per conversation in flight."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from emosim.graphs.runner import Job, Simulator
from emosim.schemas import ConversationRecord

from . import BatchWork


class ThreadExecutor:
    name = "threads"

    def play(
        self, work: BatchWork, todo: list[Job], concurrency: int
    ) -> Iterator[ConversationRecord]:
        run, coordinator = work.run, work.coordinator
        with Simulator(work.catalog, run, work.backend, work.observer) as sim, run.events() as log:
            for job in todo:
                sim.agents_for(job.scenario)  # build agents once, before threads start

            def play(job: Job) -> ConversationRecord:
                if coordinator is None:
                    return sim.play(job, log)
                coordinator.enter()
                try:
                    return sim.play(job, log)
                finally:
                    coordinator.leave()

            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="emosim") as pool:
                yield from bounded(pool, (lambda j=j: play(j) for j in todo), concurrency)


def bounded(
    pool: ThreadPoolExecutor, tasks: Iterator[Callable[[], ConversationRecord]], limit: int
) -> Iterator[ConversationRecord]:
    """Keep at most `limit` conversations in flight, so memory does not grow with the batch."""
    pending: set[Future[ConversationRecord]] = set()
    for task in tasks:
        pending.add(pool.submit(task))
        if len(pending) >= limit:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            yield future.result()
