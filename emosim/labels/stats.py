"""The few statistics analytics rank and filter findings by."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import hypergeom

Z95 = 1.959963984540054


def wilson_lower(hits: int, n: int, z: float = Z95) -> float:
    """Lower end of the Wilson score interval for hits/n (0 when n is 0).

    3 of 3 gives 0.44 and 28 of 40 gives 0.55: a broad, consistent finding ranks above a
    tiny perfect one.
    """
    if n == 0:
        return 0.0
    p = hits / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def fisher_greater(hits_in: int, n_in: int, hits_all: int, n_all: int) -> float:
    """One-sided Fisher's exact test: are the `n_in` items hit more often than the rest?

    The 2x2 table is (hits_in, n_in - hits_in) against the remaining items; the p-value is
    P(X >= hits_in) for X hypergeometric(n_all, hits_all, n_in).
    """
    if n_in == 0 or n_in >= n_all or hits_in == 0:
        return 1.0
    return float(min(1.0, hypergeom.sf(hits_in - 1, n_all, hits_all, n_in)))


def bh_cutoff(p_values: Sequence[float], q: float, tests: int) -> float:
    """Benjamini-Hochberg: the largest p-value declared significant at FDR `q` (-1: none).

    `tests` counts every hypothesis looked at, including ones with no p-value in
    `p_values` (they count as p = 1, which only makes the procedure stricter).
    """
    cutoff = -1.0
    m = max(tests, len(p_values))
    for k, p in enumerate(sorted(p_values), start=1):
        if p <= q * k / m:
            cutoff = p
    return cutoff
