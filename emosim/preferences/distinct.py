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


@dataclass(frozen=True)
class CandidateSummary:
    """A run's candidates in numbers, for the command's summary and for reports."""

    sets: int
    candidates: int
    accepted: int  # candidates the critic accepted
    helpful_fit: int  # candidates whose observed strategies fit the client's emotion
    distinct: DistinctShare

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "sets": self.sets,
            "candidates": self.candidates,
            "accepted": self.accepted,
            "helpful_fit": self.helpful_fit,
            "pairs": self.distinct.pairs,
            "distinct_primary_pairs": self.distinct.distinct,
            "distinct_primary_share": self.distinct.share,
        }


def summarize(sets: Iterable[CandidateSet]) -> CandidateSummary:
    items = list(sets)
    every = [c for s in items for c in s.candidates]
    return CandidateSummary(
        sets=len(items),
        candidates=len(every),
        accepted=sum(c.accepted for c in every),
        helpful_fit=sum(bool(c.emotion_fit and c.emotion_fit.fit == "helpful") for c in every),
        distinct=distinct_primary_share(items),
    )
