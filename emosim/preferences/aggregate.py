"""Several reviewers' rankings of one candidate set -> one score per candidate, with uncertainty.

A Plackett-Luce model (Bradley-Terry for two candidates) fitted by `choix` as a MAP estimate
under a Gaussian prior: one reviewer, or reviewers who all agree, give finite scores instead of
infinite ones, and the prior's weight fades as reviewers are added. Uncertainty is the Laplace
approximation: the inverse Hessian of the penalized negative log-likelihood at the estimate,
so a score's standard error and the probability that one candidate beats another come from
the same model the scores do. Candidates of different turns are never compared: one fit per set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

PRIOR = 0.1
"""Penalty `alpha * sum(score^2)` on the log-strengths (choix's `alpha`): a Gaussian prior of
variance 1/(2*PRIOR) = 5, weak enough that five agreeing reviewers separate four candidates by
about two log-odds units per step, strong enough that one reviewer's ranking stays modest."""


@dataclass(frozen=True)
class CandidateScore:
    candidate_id: str
    score: float
    """Plackett-Luce log-strength, centred on the set's mean (0 = an average candidate)."""
    std_error: float
    """Laplace standard error of the score."""
    mean_rank: float
    """Mean position reviewers gave it (1 = best), over the reviewers who ranked it."""
    ranked_by: int


@dataclass(frozen=True)
class PairPreference:
    chosen: str
    rejected: str
    margin: float
    """score(chosen) - score(rejected): the model's log-odds that chosen is preferred."""
    confidence: float
    """P(margin > 0) under the Laplace approximation."""
    support: float
    """Share of the reviewers who ranked both that put chosen above rejected."""
    reviewers: int
    """Reviewers who ranked both."""


@dataclass(frozen=True)
class SetAggregate:
    """The fitted model for one candidate set: scores best first and the covariance."""

    scores: list[CandidateScore]
    covariance: np.ndarray
    order: list[str]
    """Candidate ids in the order of `covariance`'s rows."""
    rankings: dict[str, list[str]]

    @property
    def reviewers(self) -> int:
        return len(self.rankings)

    def score(self, candidate_id: str) -> CandidateScore:
        return next(s for s in self.scores if s.candidate_id == candidate_id)

    def pair(self, a: str, b: str) -> PairPreference:
        """The preference between two candidates, oriented so that `chosen` scores higher."""
        sa, sb = self.score(a), self.score(b)
        if sb.score > sa.score:
            a, b, sa, sb = b, a, sb, sa
        i, j = self.order.index(a), self.order.index(b)
        var = self.covariance[i, i] + self.covariance[j, j] - 2 * self.covariance[i, j]
        margin = sa.score - sb.score
        sd = math.sqrt(max(var, 1e-12))
        both = [r for r in self.rankings.values() if a in r and b in r]
        above = sum(1 for r in both if r.index(a) < r.index(b))
        return PairPreference(
            chosen=a,
            rejected=b,
            margin=margin,
            confidence=0.5 * (1 + math.erf(margin / sd / math.sqrt(2))),
            support=above / len(both) if both else 0.0,
            reviewers=len(both),
        )

    def pairs(self) -> list[PairPreference]:
        """Every pair of candidates, best-scored pairs first (chosen's rank, then rejected's)."""
        ids = [s.candidate_id for s in self.scores]
        return [self.pair(a, b) for a, b in combinations(ids, 2)]


def check_ranking(candidate_ids: Sequence[str], ranking: Sequence[str]) -> str | None:
    """Why `ranking` (best first) is not a ranking of these candidates, or None."""
    known = set(candidate_ids)
    unknown = [c for c in ranking if c not in known]
    if unknown:
        return f"unknown candidate {unknown[0]!r}"
    if len(set(ranking)) != len(ranking):
        repeated = next(c for c in ranking if list(ranking).count(c) > 1)
        return f"candidate {repeated!r} ranked twice"
    if len(ranking) < 2:
        return "a ranking needs at least two candidates"
    return None


def aggregate_rankings(
    candidate_ids: Sequence[str],
    rankings: Mapping[str, Sequence[str]],
    prior: float = PRIOR,
) -> SetAggregate:
    """Fit one set: `rankings` maps each reviewer to candidate ids, best first (a reviewer may
    rank only some of them). Raises ValueError naming the reviewer for a malformed ranking."""
    import choix
    from choix.opt import Top1Fcts

    index = {c: i for i, c in enumerate(candidate_ids)}
    data: list[list[int]] = []
    for reviewer, ranking in rankings.items():
        problem = check_ranking(candidate_ids, ranking)
        if problem:
            raise ValueError(f"reviewer {reviewer!r}: {problem}")
        data.append([index[c] for c in ranking])
    n = len(candidate_ids)
    if data:
        params = np.asarray(choix.opt_rankings(n, data, alpha=prior), dtype=float)
        hessian = Top1Fcts.from_rankings(data, prior).hessian(params)
    else:
        params, hessian = np.zeros(n), 2 * prior * np.identity(n)
    # the prior makes the MAP centred already; project out the common shift, which the
    # rankings say nothing about, so a standard error is about the candidate's place only
    centre = np.identity(n) - 1.0 / n
    covariance = centre @ np.linalg.inv(hessian) @ centre
    params = params - params.mean()
    scores = []
    for cid, i in index.items():
        places = [list(r).index(cid) + 1 for r in rankings.values() if cid in r]
        scores.append(
            CandidateScore(
                candidate_id=cid,
                score=float(params[i]),
                std_error=float(math.sqrt(max(covariance[i, i], 0.0))),
                mean_rank=float(np.mean(places)) if places else float("nan"),
                ranked_by=len(places),
            )
        )
    scores.sort(key=lambda s: (-s.score, s.candidate_id))
    return SetAggregate(
        scores=scores,
        covariance=covariance,
        order=list(candidate_ids),
        rankings={k: list(v) for k, v in rankings.items()},
    )
