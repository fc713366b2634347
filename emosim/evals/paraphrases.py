"""Paraphrase answer accuracy: does the scripted advisor's answer index choose answers by
meaning? Read from a paraphrase file (data/paraphrases/answer_bank.yaml): each item is a
client message, the bank question whose answer fits (or null: the bank has no answer, so the
index must not match), the conversation's topic and a split (test, written before the index
was tuned and never used for tuning; dev, used to tune).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from emosim.agents.scripted.retrieval import AnswerIndex
from emosim.files import load_yaml_model
from emosim.paths import project_root
from emosim.schemas.common import StrictModel

TARGET_ACCURACY = 0.85
TARGET_FALSE_MATCH = 0.10
Split = Literal["dev", "test"]


def default_path() -> Path:
    return project_root() / "data" / "paraphrases" / "answer_bank.yaml"


# --- the file -------------------------------------------------------------------------------


class Paraphrase(StrictModel):
    text: str = Field(description="What the client writes.")
    expected: str | None = Field(
        description="The bank question whose answer fits, exactly as in the bank; null when "
        "the bank has no answer (the index must not match)."
    )
    also: list[str] = Field(
        default_factory=list,
        description="Other bank questions whose answers fit equally well (near-duplicates).",
    )
    topic: str | None = Field(default=None, description="The conversation's topic id.")
    split: Split = Field(description="test (held out, never tuned on) or dev (tuning).")
    origin: str | None = Field(
        default=None,
        description="Which batch the item was written in (test-1: the first held-out split, "
        "now dev; test-2 and test-3: held-out splits, each written and committed before a "
        "round of changes to the index; dev-2: more dev items, mostly off-bank; test-4: "
        "written after the last change and measured once; test-5 and test-6: written by new "
        "authors before the fourth and fifth rounds; dev-3: off-bank questions to train the "
        "ranker).",
    )

    @model_validator(mode="after")
    def _also_needs_expected(self) -> Paraphrase:
        if self.also and self.expected is None:
            raise ValueError(f"{self.text!r}: 'also' without 'expected'")
        return self

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset([self.expected, *self.also]) if self.expected else frozenset()


class ParaphraseFile(StrictModel):
    version: str = Field(description="File version.")
    items: list[Paraphrase] = Field(min_length=1, description="Paraphrases and off-bank questions.")


def load_paraphrases(path: Path | str | None = None) -> ParaphraseFile:
    return load_yaml_model(Path(path) if path else default_path(), ParaphraseFile)


# --- the result -----------------------------------------------------------------------------


class ParaphraseMiss(StrictModel):
    text: str
    split: Split
    topic: str | None
    expected: str | None = Field(description="Bank question expected; null: no match expected.")
    got: str | None = Field(description="Bank question matched; null: no match.")
    score: float | None = None
    margin: float | None = None


class SplitEval(StrictModel):
    n: int = Field(description="Paraphrases of bank questions.")
    correct: int
    accuracy: float = Field(description="Share matched to an accepted bank question.")
    off_bank: int = Field(description="Questions the bank does not answer.")
    false_matches: int
    false_match_rate: float = Field(description="Share of off-bank questions that matched.")


class ParaphraseEval(StrictModel):
    """Paraphrase answer accuracy of an `AnswerIndex` on a paraphrase file."""

    path: str
    n: int = Field(description="Paraphrases of bank questions, all splits.")
    accuracy: float
    off_bank: int
    false_match_rate: float
    splits: dict[str, SplitEval]
    origins: dict[str, SplitEval] = Field(
        default_factory=dict,
        description="The same per batch the items were written in (origin; dev when none).",
    )
    mean_match_ms: float = Field(description="Mean time of one `match` call (uncached).")
    target_accuracy: float = TARGET_ACCURACY
    target_false_match_rate: float = TARGET_FALSE_MATCH
    misses: list[ParaphraseMiss] = Field(
        description="Paraphrases matched wrongly or not at all, and off-bank questions matched."
    )

    @property
    def met(self) -> bool:
        test = self.splits.get("test")
        return (
            test is not None
            and test.accuracy >= self.target_accuracy
            and test.false_match_rate <= self.target_false_match_rate
        )


PareaphraseEval = ParaphraseEval  # the name the brief spelled


def _split_eval(n: int, correct: int, off: int, false: int) -> SplitEval:
    return SplitEval(
        n=n,
        correct=correct,
        accuracy=round(correct / n, 4) if n else 0.0,
        off_bank=off,
        false_matches=false,
        false_match_rate=round(false / off, 4) if off else 0.0,
    )


def paraphrase_accuracy(
    index: AnswerIndex,
    path: Path | str | None = None,
    splits: tuple[Split, ...] = ("dev", "test"),
) -> ParaphraseEval:
    """Match every item of the paraphrase file at `path` (default: the shipped set) with
    `index` and score it: accuracy on paraphrases (any accepted bank question counts), false
    matches on off-bank questions, per split and overall."""
    data = load_paraphrases(path)
    bank = {e.question for e in index.entries}
    unknown = sorted({q for item in data.items for q in item.accepted} - bank)
    if unknown:
        raise ValueError(f"expected questions not in the answer bank: {unknown}")
    counts = {s: [0, 0, 0, 0] for s in splits}  # n, correct, off, false
    by_origin: dict[str, list[int]] = {}
    misses: list[ParaphraseMiss] = []
    elapsed = 0.0
    calls = 0
    for item in data.items:
        if item.split not in counts:
            continue
        start = time.perf_counter()
        found = index.match_uncached(item.text, item.topic)
        elapsed += time.perf_counter() - start
        calls += 1
        got = found.question if found else None
        for c in (counts[item.split], by_origin.setdefault(item.origin or "dev", [0, 0, 0, 0])):
            if item.expected is None:
                c[2] += 1
                ok = got is None
                c[3] += not ok
            else:
                c[0] += 1
                ok = got in item.accepted
                c[1] += ok
        if not ok:
            misses.append(
                ParaphraseMiss(
                    text=item.text,
                    split=item.split,
                    topic=item.topic,
                    expected=item.expected,
                    got=got,
                    score=round(found.score, 4) if found else None,
                    margin=round(found.margin, 4) if found else None,
                )
            )
    total = [sum(c[i] for c in counts.values()) for i in range(4)]
    overall = _split_eval(*total)
    return ParaphraseEval(
        path=str(path or default_path()),
        n=overall.n,
        accuracy=overall.accuracy,
        off_bank=overall.off_bank,
        false_match_rate=overall.false_match_rate,
        splits={s: _split_eval(*c) for s, c in counts.items()},
        origins={o: _split_eval(*c) for o, c in sorted(by_origin.items())},
        mean_match_ms=round(1000 * elapsed / calls, 4) if calls else 0.0,
        misses=misses,
    )


def main() -> None:
    """Print the evaluation of the shipped index per split and per batch
    (`python -m emosim.evals.paraphrases`)."""
    from rich.console import Console
    from rich.table import Table

    from emosim.agents.backends import load_advisor_templates
    from emosim.agents.scripted.retrieval import index_for
    from emosim.catalog import get_catalog

    catalog = get_catalog()
    result = paraphrase_accuracy(index_for(load_advisor_templates(catalog).answers, catalog))
    table = Table(title=f"Paraphrase answer accuracy ({result.mean_match_ms:.2f} ms a match)")
    for column in ("split, batch", "paraphrases", "answered right", "off-bank", "off-bank matched"):
        table.add_column(column, justify="left" if column == "split, batch" else "right")
    rows = [*((k, v) for k, v in result.splits.items())]
    rows += [(f"  {k}", v) for k, v in result.origins.items()]
    for name, s in rows:
        table.add_row(
            name,
            str(s.n),
            f"{s.correct} ({s.accuracy:.1%})",
            str(s.off_bank),
            f"{s.false_matches} ({s.false_match_rate:.1%})",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
