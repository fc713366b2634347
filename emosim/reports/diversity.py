"""Lexical diversity of a set of texts: distinct-n and the near-duplicate rate.

Pure functions over plain strings, so that reports, exports and filters can share them.
Distinct-n is the share of unique word n-grams among all word n-grams of the texts (Li et
al., 2016). Two texts are near duplicates when the Jaccard similarity of their word n-gram
sets ("shingles") reaches a threshold; pairs are found exactly with prefix filtering
(Chaudhuri et al., 2006), so large sets never need all n^2 comparisons.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

Shingle = tuple[str, ...]


def words(text: str) -> list[str]:
    """Lower-cased word tokens; punctuation dropped, curly apostrophes made straight."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def ngrams(tokens: Sequence[str], n: int) -> list[Shingle]:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Unique n-grams / all n-grams over all texts; 0.0 when the texts hold no n-gram."""
    seen: set[Shingle] = set()
    total = 0
    for text in texts:
        grams = ngrams(words(text), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def shingles(text: str, n: int = 3) -> frozenset[Shingle]:
    """The word n-gram set of a text; a text shorter than n words is one shingle of itself."""
    tokens = words(text)
    if not tokens:
        return frozenset()
    if len(tokens) < n:
        return frozenset([tuple(tokens)])
    return frozenset(ngrams(tokens, n))


def jaccard(a: frozenset[Shingle], b: frozenset[Shingle]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = 0.8, n: int = 3
) -> list[tuple[int, int, float]]:
    """Every pair (i, j, similarity), i < j, whose shingle Jaccard is >= threshold.

    Exact: with shingles ordered rarest first, two sets with Jaccard >= t must share a shingle
    within their first |x| - ceil(t * |x|) + 1 shingles, so only pairs sharing such a prefix
    shingle (and of compatible sizes) are compared.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    sets = [shingles(t, n) for t in texts]
    frequency = Counter(s for shingle_set in sets for s in shingle_set)
    ordered = {i: sorted(s, key=lambda g: (frequency[g], g)) for i, s in enumerate(sets) if s}
    index: dict[Shingle, list[int]] = defaultdict(list)
    pairs: list[tuple[int, int, float]] = []
    for i in sorted(ordered, key=lambda k: (len(ordered[k]), k)):
        items = ordered[i]
        size = len(items)
        prefix = size - math.ceil(threshold * size - 1e-9) + 1
        candidates: set[int] = set()
        for shingle in items[:prefix]:
            for j in index[shingle]:
                # processed in ascending size: j is never larger than i
                if len(ordered[j]) >= threshold * size - 1e-9:
                    candidates.add(j)
            index[shingle].append(i)
        for j in candidates:
            similarity = jaccard(sets[i], sets[j])
            if similarity >= threshold - 1e-12:
                pairs.append((min(i, j), max(i, j), similarity))
    return sorted(pairs)


def near_duplicate_rate(texts: Sequence[str], threshold: float = 0.8, n: int = 3) -> float:
    """Share of texts that have at least one near duplicate among the others."""
    if not texts:
        return 0.0
    involved = {k for i, j, _ in near_duplicate_pairs(texts, threshold, n) for k in (i, j)}
    return len(involved) / len(texts)
