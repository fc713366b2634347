"""Aggregating reviewers' rankings (Plackett-Luce via choix) and their agreement (Krippendorff)."""

from __future__ import annotations

import numpy as np
import pytest

from emosim.preferences.aggregate import aggregate_rankings
from emosim.preferences.agreement import krippendorff_alpha, ranking_agreement
from emosim.preferences.simulate import noisy_ranking, recovery

IDS = ["a", "b", "c", "d"]


def test_unanimous_reviewers_give_the_order_and_margins_grow_with_reviewers():
    one = aggregate_rankings(IDS, {"r1": IDS})
    five = aggregate_rankings(IDS, {f"r{i}": IDS for i in range(5)})
    assert [s.candidate_id for s in five.scores] == IDS
    assert five.pair("a", "d").margin > one.pair("a", "d").margin > 0
    # more reviewers, less uncertainty
    assert five.score("a").std_error < one.score("a").std_error
    assert abs(sum(s.score for s in five.scores)) < 1e-9  # centred


def test_pair_is_oriented_and_carries_support_and_confidence():
    fit = aggregate_rankings(
        IDS, {"r1": ["a", "b", "c", "d"], "r2": ["a", "b", "c", "d"], "r3": ["b", "a", "c", "d"]}
    )
    pair = fit.pair("b", "a")  # asked the wrong way round: chosen is the better-scored one
    assert (pair.chosen, pair.rejected) == ("a", "b")
    assert pair.support == pytest.approx(2 / 3)
    assert pair.reviewers == 3
    assert 0.5 < pair.confidence < fit.pair("a", "d").confidence
    assert len(fit.pairs()) == 6


def test_partial_rankings_and_bad_rankings():
    fit = aggregate_rankings(IDS, {"r1": ["c", "a"], "r2": ["c", "b", "d"]})
    assert fit.scores[0].candidate_id == "c"
    assert fit.score("a").ranked_by == 1
    with pytest.raises(ValueError, match="reviewer 'r2': unknown candidate 'z'"):
        aggregate_rankings(IDS, {"r1": IDS, "r2": ["a", "z"]})
    with pytest.raises(ValueError, match="ranked twice"):
        aggregate_rankings(IDS, {"r1": ["a", "b", "a"]})


def test_agreement_perfect_partial_and_undefined():
    same = ranking_agreement([(0, {"r1": IDS, "r2": IDS})])
    assert same.alpha == pytest.approx(1.0)
    swapped = ranking_agreement([(0, {"r1": IDS, "r2": ["b", "a", "c", "d"]})])
    assert 0 < swapped.alpha < 1
    assert ranking_agreement([(0, {"r1": IDS})]).alpha is None  # one reviewer: undefined
    verdicts = {"c1": {"r1": "accept", "r2": "accept"}, "c2": {"r1": "reject", "r2": "accept"}}
    nominal = krippendorff_alpha(verdicts, "nominal")
    assert nominal.alpha is not None and nominal.alpha < 0.5
    assert nominal.units == 2
    scores = {"c1": {"r1": 5, "r2": 5}, "c2": {"r1": 2, "r2": 2}, "c3": {"r1": 4}}
    assert krippendorff_alpha(scores, "ordinal", domain=range(1, 6)).alpha == pytest.approx(1.0)


def test_noisy_reviewer_is_the_truth_without_noise():
    rng = np.random.default_rng(0)
    assert noisy_ranking(IDS, 0.0, rng) == IDS
    shuffled = {tuple(noisy_ranking(IDS, 1.0, rng)) for _ in range(50)}
    assert len(shuffled) > 5


def test_simulated_reviewers_recover_the_order_and_alpha_falls_with_noise():
    """The target: Spearman >= 0.9 at 5 reviewers and 20% noise (mean over seeds)."""
    rows = [recovery(noise, reviewers=5, candidates=4, tasks=12, seeds=3) for noise in (0.2, 0.5)]
    assert rows[0].spearman >= 0.9
    assert rows[0].top_correct >= 0.8
    low, high = rows
    assert low.alpha > high.alpha > recovery(0.9, tasks=12, seeds=2).alpha
    assert low.spearman > high.spearman


def test_eval_rankings_command(cli):
    from emosim.cli import app

    result = cli.invoke(
        app, ["eval", "rankings", "--noise", "0,1", "--tasks", "4", "--seeds", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    import json

    clean, guessed = json.loads(result.output)
    assert clean["spearman"] == 1.0 and clean["alpha"] == 1.0
    assert guessed["alpha"] < 0.5
    alone = cli.invoke(app, ["eval", "rankings", "--noise", "0.2", "--reviewers", "1",
                             "--tasks", "3", "--seeds", "1", "--json"])  # fmt: skip
    assert json.loads(alone.output)[0]["alpha"] is None  # agreement needs two reviewers
    bad = cli.invoke(app, ["eval", "rankings", "--noise", "2"])
    assert bad.exit_code != 0 and "--noise" in bad.output
