"""Simulated reviewers: how well aggregation and agreement recover a known ranking under noise.

Each task has a true order of `candidates` candidates. A reviewer sees each candidate's true
place, except that with probability `noise` their judgement of a candidate is a random place
instead; they rank by what they saw (ties broken at random). So 0.2 noise means one judgement
in five is a guess. `emosim eval rankings` prints the table; the tests hold it to its targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from .aggregate import aggregate_rankings
from .agreement import ranking_agreement


def noisy_ranking(truth: Sequence[str], noise: float, rng: np.random.Generator) -> list[str]:
    """One reviewer's ranking (best first) of candidates whose true order is `truth`."""
    k = len(truth)
    seen = np.arange(k, dtype=float)
    guess = rng.random(k) < noise
    seen[guess] = rng.uniform(-0.5, k - 0.5, size=int(guess.sum()))
    jitter = rng.random(k) * 1e-6
    return [truth[i] for i in np.argsort(seen + jitter, kind="stable")]


@dataclass(frozen=True)
class RecoveryRow:
    noise: float
    reviewers: int
    candidates: int
    tasks: int
    seeds: int
    spearman: float
    """Mean Spearman correlation between aggregated scores and the true order, over tasks."""
    top_correct: float
    """Share of tasks whose best-scored candidate is the true best."""
    alpha: float | None
    """Mean Krippendorff's alpha (ordinal, over ranked places) per seed's round of tasks
    (None with one reviewer: agreement needs two)."""


def recovery(
    noise: float, reviewers: int = 5, candidates: int = 4, tasks: int = 40, seeds: int = 5
) -> RecoveryRow:
    """Run `seeds` rounds of `tasks` candidate sets each, ranked by `reviewers` reviewers."""
    truth = [f"c{i}" for i in range(candidates)]
    rhos: list[float] = []
    tops: list[bool] = []
    alphas: list[float] = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        sets = []
        for task in range(tasks):
            rankings = {f"r{r}": noisy_ranking(truth, noise, rng) for r in range(reviewers)}
            sets.append((task, rankings))
            fit = aggregate_rankings(truth, rankings)
            scores = [fit.score(c).score for c in truth]
            rho = spearmanr(scores, -np.arange(candidates)).statistic
            rhos.append(0.0 if np.isnan(rho) else float(rho))
            tops.append(fit.scores[0].candidate_id == truth[0])
        agreement = ranking_agreement(sets).alpha
        if agreement is not None:
            alphas.append(agreement)
    return RecoveryRow(
        noise=noise,
        reviewers=reviewers,
        candidates=candidates,
        tasks=tasks,
        seeds=seeds,
        spearman=float(np.mean(rhos)),
        top_correct=float(np.mean(tops)),
        alpha=float(np.mean(alphas)) if alphas else None,
    )
