"""Diversity of a set of conversations: distinct-n and the near-duplicate rate.

Pure functions over texts and records. Distinct-n (Li et al., 2016) is the share of unique
word n-grams among all n-grams of a corpus: low values mean the generator repeats itself.
Near-duplicates are conversations whose word n-gram sets have a Jaccard similarity at or
above a threshold; MinHash LSH (datasketch) proposes candidate pairs in linear time and each
candidate is then checked with the exact Jaccard, so the reported pairs are exact (LSH may
miss a pair right at the threshold, never invents one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import networkx as nx
from datasketch import MinHash, MinHashLSH
from pydantic import Field

from .schemas import ConversationRecord
from .schemas.common import StrictModel

_WORD = re.compile(r"\w+(?:['’]\w+)*")

NEAR_DUPLICATE_THRESHOLD = 0.8
SHINGLE_SIZE = 3
NUM_PERM = 128


def words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Unique n-grams / all n-grams over the corpus (n-grams never cross text boundaries)."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        grams = ngrams(words(text), n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def shingles(text: str, n: int = SHINGLE_SIZE) -> set[str]:
    tokens = words(text)
    if len(tokens) < n:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(g) for g in ngrams(tokens, n)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDuplicatePair(StrictModel):
    a: str = Field(description="Id of the first conversation.")
    b: str = Field(description="Id of the second conversation.")
    jaccard: float = Field(description="Exact Jaccard similarity of their n-gram sets.")


class NearDuplicates(StrictModel):
    conversations: int = Field(description="Conversations compared.")
    threshold: float = Field(description="Jaccard at or above which two are near-duplicates.")
    shingle_size: int = Field(description="Word n-gram size of the shingles.")
    pairs: list[NearDuplicatePair] = Field(description="Near-duplicate pairs, most similar first.")
    redundant: int = Field(
        description="Conversations a deduplication would drop: conversations minus clusters "
        "(a cluster = a connected group of near-duplicates)."
    )
    involved: int = Field(description="Conversations that have at least one near-duplicate.")

    @property
    def rate(self) -> float:
        """Share of conversations that are redundant near-duplicates of another."""
        return self.redundant / self.conversations if self.conversations else 0.0


def near_duplicates(
    documents: dict[str, str],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    shingle_size: int = SHINGLE_SIZE,
    num_perm: int = NUM_PERM,
) -> NearDuplicates:
    """Near-duplicate pairs among `documents` (id -> text)."""
    ids = list(documents)
    sets = {i: shingles(documents[i], shingle_size) for i in ids}
    # LSH at a slightly lower threshold for recall; every candidate is verified exactly
    lsh = MinHashLSH(threshold=max(0.05, threshold - 0.1), num_perm=num_perm)
    hashes = MinHash.bulk(
        ([s.encode() for s in sorted(sets[i])] for i in ids), num_perm=num_perm, seed=1
    )
    for doc_id, minhash in zip(ids, hashes, strict=True):
        lsh.insert(doc_id, minhash)
    found: dict[tuple[str, str], float] = {}
    for doc_id, minhash in zip(ids, hashes, strict=True):
        for other in lsh.query(minhash):
            if other == doc_id:
                continue
            key = (doc_id, other) if doc_id < other else (other, doc_id)
            if key in found:
                continue
            value = jaccard(sets[key[0]], sets[key[1]])
            if value >= threshold:
                found[key] = value
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from(found)
    clusters = nx.number_connected_components(graph)
    pairs = [
        NearDuplicatePair(a=a, b=b, jaccard=round(v, 4))
        for (a, b), v in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return NearDuplicates(
        conversations=len(ids),
        threshold=threshold,
        shingle_size=shingle_size,
        pairs=pairs,
        redundant=len(ids) - clusters,
        involved=sum(1 for n in graph.nodes if graph.degree(n) > 0),
    )


def conversation_text(record: ConversationRecord) -> str:
    return "\n".join(t.text for t in record.turns)


class DiversityReport(StrictModel):
    conversations: int = Field(description="Conversations measured.")
    advisor_distinct_1: float = Field(description="Distinct-1 over advisor turns.")
    advisor_distinct_2: float = Field(description="Distinct-2 over advisor turns.")
    client_distinct_1: float = Field(description="Distinct-1 over client turns.")
    client_distinct_2: float = Field(description="Distinct-2 over client turns.")
    near_duplicate_rate: float = Field(
        description="Share of conversations that are redundant near-duplicates."
    )
    near_duplicate_pairs: int = Field(description="Near-duplicate pairs found.")
    near_duplicates_involved: int = Field(
        description="Conversations with at least one near-duplicate."
    )
    threshold: float = Field(description="Jaccard threshold of a near-duplicate.")
    shingle_size: int = Field(description="Word n-gram size used for the Jaccard.")
    top_pairs: list[NearDuplicatePair] = Field(
        default_factory=list, description="The most similar near-duplicate pairs (at most 10)."
    )


def diversity(
    records: Sequence[ConversationRecord], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> DiversityReport:
    advisor = [t.text for r in records for t in r.advisor_turns]
    client = [t.text for r in records for t in r.client_turns]
    dups = near_duplicates({r.id: conversation_text(r) for r in records}, threshold)
    return DiversityReport(
        conversations=len(records),
        advisor_distinct_1=round(distinct_n(advisor, 1), 4),
        advisor_distinct_2=round(distinct_n(advisor, 2), 4),
        client_distinct_1=round(distinct_n(client, 1), 4),
        client_distinct_2=round(distinct_n(client, 2), 4),
        near_duplicate_rate=round(dups.rate, 4),
        near_duplicate_pairs=len(dups.pairs),
        near_duplicates_involved=dups.involved,
        threshold=threshold,
        shingle_size=dups.shingle_size,
        top_pairs=dups.pairs[:10],
    )
