"""Which topic an imported conversation is about, from keywords in the client's words."""

from __future__ import annotations

import re
from collections import Counter

from emosim.catalog import Catalog

from .config import TopicChoice, topic_keywords


def _pattern(keyword: str) -> re.Pattern[str]:
    body = re.escape(keyword.lower().rstrip("*"))
    tail = r"\w*" if keyword.endswith("*") else ""
    return re.compile(r"(?<![\w])" + body + tail + r"(?![\w])")


def _hits(text: str, keywords: list[str]) -> int:
    return sum(len(_pattern(k).findall(text)) for k in keywords)


def infer_topic(catalog: Catalog, client_text: str) -> tuple[TopicChoice, bool]:
    """(topic choice, inferred?) — inferred is False when the default was used."""
    cfg = topic_keywords(catalog)
    text = client_text.lower()
    scores: Counter[str] = Counter()
    for tid, entry in cfg.topics.items():
        terms = list(catalog.topics[tid].key_terms) if tid in catalog.topics else []
        scores[tid] = _hits(text, entry.keywords) + _hits(text, terms)
    order = list(cfg.topics)
    best = max(order, key=lambda t: (scores[t], -order.index(t)))
    if scores[best] == 0:
        return cfg.default, False
    subs = cfg.topics[best].subcategories
    first = catalog.topics[best].subcategories[0].id
    sub_scores = {sid: _hits(text, words) for sid, words in subs.items()}
    sub = max(sub_scores, key=lambda s: sub_scores[s]) if sub_scores else first
    if not sub_scores or sub_scores[sub] == 0:
        sub = first
    return TopicChoice(topic=best, subcategory=sub), True
