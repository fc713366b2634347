"""Garbage-collector settings for long simulation runs.

The catalog, templates, answers and lexicons are ~130k Python objects that live as long as
the process. Every full collection walks all of them (35-55 ms a pass), and a conversation's
graph steps allocate enough short-lived containers to trigger a young collection every
exchange or so: together about 0.6 ms per exchange, a tenth of the engine's time
(`python -m benchmarks engine`). Freezing what is loaded moves it out of the collector's
sight (it is still freed by reference counting if dropped), and a larger young generation
means fewer passes over the step objects that die young anyway.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GENERATION = 20_000  # CPython's default is 700
MIDDLE_GENERATION = 50  # young passes per middle pass (default 10)


def settle_long_lived() -> None:
    """Call once the long-lived data (catalog, agents) is loaded."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young and young < YOUNG_GENERATION:  # 0 means collection is off: leave it off
        gc.set_threshold(YOUNG_GENERATION, max(middle, MIDDLE_GENERATION), old)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection while a batch is built and stored: its objects all live until it
    is done (a collection would only walk them) and make no cycles, so nothing is kept
    longer; reference counting still frees the rest. Collection resumes after, if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
