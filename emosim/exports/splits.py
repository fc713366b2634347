"""Deterministic split assignment: a stable hash of the family id, never a random draw."""

from __future__ import annotations

import hashlib

from .options import SPLIT_NAMES, SplitRatios


def family_position(family_id: str) -> float:
    """A number in [0, 1) fixed by the family id alone (same on every machine and run)."""
    digest = hashlib.sha256(f"emosim-split:{family_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(family_id: str, ratios: SplitRatios) -> str:
    position = family_position(family_id)
    edge = 0.0
    shares = (ratios.train, ratios.validation, ratios.test)
    for name, share in zip(SPLIT_NAMES, shares, strict=True):
        edge += share
        if position < edge:
            return name
    # rounding can leave the top sliver unassigned: give it to the last non-empty split
    return next(n for n, s in zip(reversed(SPLIT_NAMES), reversed(shares), strict=True) if s > 0)
