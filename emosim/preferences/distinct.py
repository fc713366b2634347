"""How far candidates differ in approach: the share of pairs with different primary strategies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from .models import CandidateSet


@dataclass(frozen=True)
class DistinctShare:
    """Candidate pairs within a set, and how many of them plan different primary strategies."""

    pairs: int
    distinct: int
    sets: int

    @property
    def share(self) -> float | None:
        return self.distinct / self.pairs if self.pairs else None


def distinct_primary_share(sets: Iterable[CandidateSet]) -> DistinctShare:
    """Pairs are counted within each set only (candidates of different turns never pair); a
    candidate without a plan counts as its own approach (differs from every other)."""
    pairs = distinct = count = 0
    for item in sets:
        count += 1
        for a, b in combinations(item.candidates, 2):
            pairs += 1
            if a.primary is None or b.primary is None or a.primary != b.primary:
                distinct += 1
    return DistinctShare(pairs=pairs, distinct=distinct, sets=count)
