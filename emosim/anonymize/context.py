"""Which cue words stand shortly before a position, within the same sentence."""

from __future__ import annotations

import re

from .lexicon import Lexicon

_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-Z])|[\n;]")


def window_before(text: str, start: int, width: int = 48) -> str:
    """The text before `start`, cut at the last sentence end so cues do not leak across."""
    window = text[max(0, start - width) : start]
    cut = 0
    for m in _SENTENCE_END.finditer(window):
        cut = m.end()
    return window[cut:]


def nearest_cue(lexicon: Lexicon, window: str, groups: tuple[str, ...]) -> str | None:
    """The cue group whose match ends closest to the end of the window (longest on ties)."""
    best: tuple[int, int, str] | None = None
    for group in groups:
        for m in lexicon.cue_patterns[group].finditer(window):
            key = (m.end(), m.end() - m.start(), group)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


def has_cue(lexicon: Lexicon, window: str, group: str) -> bool:
    return lexicon.cue_patterns[group].search(window) is not None
