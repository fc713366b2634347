"""Run every benchmark: `make bench` or `python -m benchmarks [name...]`."""

from __future__ import annotations

import sys

from . import (
    anonymize,
    batch,
    candidates,
    engine,
    labels,
    layer,
    llm,
    observers,
    postgres,
    retrieval,
    scale,
    strategies,
    yaml_guard,
)

BENCHMARKS = {
    "engine": engine.main,
    "batch": batch.main,
    "llm": llm.main,
    "scale": scale.main,
    "labels": labels.main,
    "postgres": postgres.main,
    "observers": observers.main,
    "strategies": strategies.main,
    "retrieval": retrieval.main,
    "anonymize": anonymize.main,
    "candidates": candidates.main,
    "layer": layer.main,
    "yaml_guard": yaml_guard.main,
}


def main(argv: list[str]) -> None:
    names = argv or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r} (available: {', '.join(BENCHMARKS)})")
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
