"""Diversity of a set of conversations: distinct-n and the near-duplicate rate.

Pure functions over texts and records. Distinct-n (Li et al., 2016) is the share of unique
word n-grams among all n-grams of a corpus: low values mean the generator repeats itself.
Near-duplicates are conversations whose word n-gram sets have a Jaccard similarity at or
above a threshold, found exactly with prefix filtering (see `near_duplicate_pairs`): no
pair is missed or invented, and 1,000 conversations take well under a second. The report
and `emosim coverage` both use these functions.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import networkx as nx
from pydantic import Field

from .schemas import ConversationRecord
from .schemas.common import StrictModel

_WORD = re.compile(r"\w+(?:['’]\w+)*")

NEAR_DUPLICATE_THRESHOLD = 0.8
SHINGLE_SIZE = 3


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
        return 0.0  # two empty texts are not evidence of duplication
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
    index: dict[str, list[int]] = defaultdict(list)
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


def near_duplicates(
    documents: dict[str, str],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    shingle_size: int = SHINGLE_SIZE,
) -> NearDuplicates:
    """Near-duplicate pairs among `documents` (id -> text), exactly (see near_duplicate_pairs)."""
    ids = list(documents)
    found = {
        (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i]): value
        for i, j, value in near_duplicate_pairs(
            [documents[k] for k in ids], threshold, shingle_size
        )
    }
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


# --- sentence patterns: the templates a generator repeats, with names and numbers masked --------
#
# A sentence's *pattern* is the sentence with numbers and person names replaced by <NUM> and
# <NAME>, lower-cased, with quotes and whitespace normalized: "Ruth, you have $2,400 saved." and
# "Omar, you have 15% saved." are one pattern, "<name>, you have <num> saved.". The evaluation
# (`emosim eval diversity`) counts in how many conversations each pattern appears, and the export
# cap (`emosim export --cap-pattern N`) keeps any one pattern to N exported conversations.
# The splitter and the masks are deliberately simple and independent of the generator's own text
# helpers, so a change to the generator cannot change the instrument that measures it.

# Abbreviations whose period does not end a sentence (lower-cased, without the final period).
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs mr mrs ms dr st jr sr inc ltd u.s u.k a.m p.m approx dept".split()
)
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)[.]$")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: a break after . ! ? … (and closing quotes) before whitespace, or at
    a newline; not after a known abbreviation ("e.g.", "Dr.") or a single initial ("J.")."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.end()
        piece = text[start:end]
        last = _LAST_WORD.search(piece.rstrip("\"'”’)]"))
        if last and match.group().startswith("."):
            word = last.group(1).lower().rstrip(".")
            if word in _ABBREVIATIONS or len(word) == 1:
                continue
        if piece.strip():
            out.append(piece.strip())
        start = end
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


# Numbers, amounts and percentages: "$2,400", "3.5%", "15 percent", "$1.2 million", "401(k)"'s
# "401", "2026"; spelled-out numbers from two upwards ("one" is too often a pronoun).
_NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|thousand|million|billion|half|quarter|dozen"
)
_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|k\b|K\b|m\b|M\b|x\b))?"
    r"(?:\s(?:hundred|thousand|million|billion)\b)?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))*\b(?:\s?(?:%|percent))?",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"<NUM>|[A-Za-z][\w]*(?:['’][A-Za-z]+)?")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPACE = re.compile(r"\s+")
_END = re.compile(r"[\s.!?…]+$")
_REPEATED_NUM = re.compile(r"<num>(?:[\s,-]*<num>)+")

# Capitalized words kept as they are when not sentence-initial: the pronoun I, days and months,
# and the proper nouns of US personal finance the advisor names (all-caps acronyms such as IRS,
# CPA or HSA are always kept). Any other capitalized word inside a sentence counts as a name.
COMMON_PROPER_NOUNS = frozenset(
    """i i'm i've i'll i'd
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    roth social security medicare medicaid treasury treasuries federal reserve fed
    american america us u.s english spanish christmas thanksgiving
    traditional solo simple sep cfp cfp® cpa irs ira hsa fsa etf""".split()
)


@functools.lru_cache(maxsize=65536)
def _numbers_masked(sentence: str) -> str:
    """Quotes normalized, numbers as <NUM> (cached: templates repeat the same sentences)."""
    return _NUMBER.sub("<NUM>", sentence.translate(_QUOTES))


def mask_sentence(sentence: str, names: Iterable[str] = ()) -> str:
    """The sentence's pattern: numbers -> <num>, names -> <name>, lower case, tidy spacing, no
    final period or exclamation mark (a final question mark is kept).

    Names are the given name parts (case-insensitive: the persona's name, "Elena", family
    members the caller knows of) and every capitalized word that is neither the sentence's
    first word nor in COMMON_PROPER_NOUNS; all-caps words (acronyms) are kept.
    """
    known = {n.lower() for n in names}
    text = _numbers_masked(sentence)
    out: list[str] = []
    position = 0
    first = True
    for match in _TOKEN.finditer(text):
        out.append(text[position : match.start()])
        token = match.group()
        position = match.end()
        if token == "<NUM>":
            out.append(token)
            first = False
            continue
        base = token.split("'")[0]
        lower = base.lower()
        tail = token[len(base) :]
        if lower in known or (
            not first
            and base[0].isupper()
            and not base.isupper()
            and lower not in COMMON_PROPER_NOUNS
            and token.lower() not in COMMON_PROPER_NOUNS
        ):
            out.append("<NAME>" + tail)
        else:
            out.append(token)
        first = False
    out.append(text[position:])
    pattern = _SPACE.sub(" ", "".join(out)).strip().lower()
    pattern = _REPEATED_NUM.sub("<num>", pattern)
    pattern = re.sub(r"\s+([,.;:!?)])", r"\1", pattern)
    # "Okay." "Okay!" and "Okay" are one pattern; a question stays a question
    return _END.sub(lambda m: "?" if "?" in m.group() else "", pattern)


def sentence_patterns(text: str, names: Iterable[str] = ()) -> list[str]:
    """The masked pattern of every sentence of `text`, in order."""
    names = tuple(names)
    return [mask_sentence(s, names) for s in split_sentences(text)]


def inner_names(texts: Iterable[str]) -> set[str]:
    """Capitalized words found inside a sentence (not first, not a common proper noun) in any of
    `texts`, lower-cased: the names a conversation uses, so that "Karim" is masked at the start
    of a sentence too once it has been seen inside one."""
    found: set[str] = set()
    for text in texts:
        for sentence in split_sentences(text):
            tokens = _TOKEN.findall(_numbers_masked(sentence))
            for token in tokens[1:]:
                base = token.split("'")[0]
                lower = base.lower()
                if (
                    base[0].isupper()
                    and not base.isupper()
                    and lower not in COMMON_PROPER_NOUNS
                    and token.lower() not in COMMON_PROPER_NOUNS
                ):
                    found.add(lower)
    return found


def conversation_patterns(texts: Sequence[str], names: Iterable[str] = ()) -> list[list[str]]:
    """Per text (turn) of one conversation, the patterns of its sentences; names are the given
    ones plus the conversation's inner names (see inner_names)."""
    known = {n.lower() for n in names} | inner_names(texts)
    return [[mask_sentence(s, known) for s in split_sentences(t)] for t in texts]
