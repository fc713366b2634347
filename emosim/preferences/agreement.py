"""Inter-reviewer agreement: Krippendorff's alpha (the `krippendorff` package) per task.

Alpha copes with what review rounds produce: any number of reviewers, units some reviewers
skipped, and a level of measurement fitting the judgement: ordinal for ranks and 1-5 scores,
nominal for accept/reject. 1 is perfect agreement, 0 what chance gives, below 0 systematic
disagreement. It is undefined (None here) with fewer than two reviewers on any unit, or when
every judgement has the same value.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval"]


@dataclass(frozen=True)
class Agreement:
    alpha: float | None
    level: Level
    units: int
    """Units judged by at least two reviewers (the ones alpha is computed on)."""
    reviewers: int
    judgements: int

    def describe(self) -> str:
        if self.alpha is None:
            return f"n/a ({self.units} unit(s) with two or more reviewers)"
        return f"{self.alpha:.2f} ({self.level}, {self.units} units, {self.reviewers} reviewers)"


def krippendorff_alpha(
    judgements: Mapping[Hashable, Mapping[str, object]],
    level: Level,
    domain: Sequence[object] | None = None,
) -> Agreement:
    """`judgements[unit][reviewer] = value`. Nominal values may be any hashable; ordinal and
    interval ones must be numbers. `domain` lists the possible values (e.g. 1..5) so that a
    round using only part of a scale is measured on the whole of it."""
    import krippendorff

    paired = {u: r for u, r in judgements.items() if len(r) >= 2}
    reviewers = sorted({name for r in judgements.values() for name in r})
    total = sum(len(r) for r in judgements.values())
    values = sorted({v for r in paired.values() for v in r.values()}, key=repr)
    if not paired or len(values) < 2:
        return Agreement(None, level, len(paired), len(reviewers), total)
    if level == "nominal":
        codes = {v: i for i, v in enumerate(domain or values)}
        value_domain: list[object] | None = list(range(len(codes)))
    else:
        codes = None
        value_domain = list(domain) if domain is not None else None
    row_of = {name: i for i, name in enumerate(reviewers)}
    matrix = np.full((len(reviewers), len(paired)), np.nan)
    for j, ratings in enumerate(paired.values()):
        for name, value in ratings.items():
            matrix[row_of[name], j] = codes[value] if codes is not None else float(value)  # type: ignore[arg-type]
    result = float(
        krippendorff.alpha(
            reliability_data=matrix, level_of_measurement=level, value_domain=value_domain
        )
    )
    alpha = None if math.isnan(result) else result
    return Agreement(alpha, level, len(paired), len(reviewers), total)


def ranking_agreement(sets: Iterable[tuple[Hashable, Mapping[str, Sequence[str]]]]) -> Agreement:
    """Alpha over ranked positions: each (set, candidate) is a unit, valued by the place (1 =
    best) each reviewer gave it; sets are `(set key, {reviewer: ranking best first})`."""
    judgements: dict[Hashable, dict[str, object]] = {}
    for key, rankings in sets:
        for reviewer, ranking in rankings.items():
            for place, candidate in enumerate(ranking, start=1):
                judgements.setdefault((key, candidate), {})[reviewer] = place
    return krippendorff_alpha(judgements, "ordinal")
