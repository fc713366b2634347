"""The answer index: build time and CPU time of one uncached `match`: over the bank's own
questions only (the baseline), with the planner's phrasings (agents/scripted/asked_as/) and
the threshold rule, and with the phrasings and the learned ranker (what the advisor uses),
measured in the same run on every message of the paraphrase set.

CPU time (`time.process_time`), not wall time, so a busy machine does not inflate it; the
load average is printed beside it. Target: a match well under a millisecond or two.
Run: `python -m benchmarks.retrieval`.
"""

from __future__ import annotations

import os
import time

from rich.console import Console
from rich.table import Table

from emosim.agents.backends import load_advisor_templates
from emosim.agents.scripted.retrieval import AnswerIndex
from emosim.catalog import get_catalog
from emosim.evals.paraphrases import load_paraphrases

ROUNDS = 3


def _per_match_ms(index: AnswerIndex, messages: list[tuple[str, str | None]]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for text, topic in messages:
            index.match_uncached(text, topic)
        best = min(best, time.process_time() - started)
    return 1000 * best / len(messages)


def main() -> None:
    catalog = get_catalog()
    answers = load_advisor_templates(catalog).answers
    messages = [(i.text, i.topic) for i in load_paraphrases().items]

    started = time.process_time()
    ranked = AnswerIndex.build(answers, catalog)
    build_ranked = time.process_time() - started
    started = time.process_time()
    phrased = AnswerIndex.build(answers, catalog, ranker=False)
    build_phrased = time.process_time() - started
    started = time.process_time()
    bare = AnswerIndex(phrased.entries, phrased.params, phrased.glossary, phrased.topic_names)
    build_bare = time.process_time() - started

    bare_ms = _per_match_ms(bare, messages)
    phrased_ms = _per_match_ms(phrased, messages)
    ranked_ms = _per_match_ms(ranked, messages)
    wordings = len(phrased.entries) + sum(map(len, phrased.phrasings.values()))
    table = Table(
        title=f"Answer index ({len(messages)} messages, best of {ROUNDS}, CPU time; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    for column in ("index", "wordings", "build (s)", "match (ms)", "ratio"):
        table.add_column(column, justify="left" if column == "index" else "right")
    table.add_row(
        "bank questions only (baseline)",
        str(len(phrased.entries)),
        f"{build_bare:.2f}",
        f"{bare_ms:.3f}",
        "1.00x",
    )
    table.add_row(
        "with the planner's phrasings, threshold rule",
        str(wordings),
        f"{build_phrased:.2f}",
        f"{phrased_ms:.3f}",
        f"{phrased_ms / bare_ms:.2f}x",
    )
    table.add_row(
        "with the phrasings and the ranker (shipped)",
        str(wordings),
        f"{build_ranked:.2f}",
        f"{ranked_ms:.3f}",
        f"{ranked_ms / bare_ms:.2f}x",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
