"""Answers chosen by meaning: a retrieval over the scripted advisor's answer bank.

The bank is every `AnswerTemplate` of the advisor: the topic questions of
`taxonomies/topics.yaml` (answered in `agents/scripted/answers/<topic>.yaml`) and the
follow-ups in `answers:` of `agents/scripted/advisor.yaml`. `AnswerIndex.match` finds the
bank question a client's message asks, in other words than the bank's:

1. exact: the message (or its last question) is a bank question, lower-cased;
2. pattern: it fits a bank question with {slots} (a slot matches any words);
3. meaning: TF-IDF cosines after a light normalization (contractions, a few spellings and
   abbreviations such as 401(k) and SS, a small table of words of one meaning, a
   Porter-style suffix stripper), three views of each bank question combined:
   - its content words (stems, and pairs of neighbouring stems),
   - character 3-5-grams of its content words (typos, word forms),
   - the content words of its answers (vocabulary a client uses that the question lacks,
     e.g. "COBRA" for health insurance between jobs);
   the first two are scored against every wording of the question (the bank's, and the
   phrasings a planner wrote in agents/scripted/asked_as/), the closest wording counting,
   plus a small weight for all its wordings pooled into one document;
   in a longer message the question sentences alone are scored too (`Params.focus`), so
   the story around a question does not outweigh what is asked; the client's own figures
   ($4,100, 25th) are left out (a number a bank question names, 529, is kept); a word the
   bank does not know that is one letter off a bank word is read as it ("diffrence");
   a key term of the catalog that no question names ("executor", "avalanche") brings its
   plain gloss into the query; a topic's own name words count less inside that topic; and
   bonuses go to questions of the conversation's topic (another topic's question wins only
   when clearly closer), to follow-ups (which fit any topic), and to questions that ask for
   the same kind of answer (an amount, a time, a place, a reason, a difference, ...).

Which of the best candidates answers, and whether any does, is decided by a small learned
ranker (ranker.py, weights in agents/scripted/answer_ranker.yaml): a logistic regression over
each candidate's scores, coverage of the message and words the bank never uses, trained on
planner phrasings held out of the index and on the dev split; a message the bank does not
answer (small talk, an unrelated question, a money question it has no answer for) gets None.
Without a ranker the older rule decides: the best score, less `Params.unknown` for each word
of what is asked that no wording or answer of the bank uses (a kayak, a prepaid card), must
reach `Params.threshold`, and the matched question (any wording) and its answers must hold
`Params.coverage` of the content words of what the message asks (idf-weighted), so that
"pet insurance" is not answered as "insurance I don't need".

Weights were tuned on the dev split of data/paraphrases/answer_bank.yaml and measured on its
held-out test split (emosim/evals/paraphrases.py; `python -m emosim.evals.paraphrases`
prints it per split and batch).

Build once per process (`index_for` caches by the answers list); `match` vectorizes the
message once and scores every wording with one sparse product per view (about 1 ms of CPU
with the ranker; `python -m benchmarks retrieval`), and remembers its recent answers.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from scipy import sparse

from emosim.catalog import Catalog
from emosim.errors import DataError
from emosim.files import load_yaml_model
from emosim.paths import project_root
from emosim.schemas.common import StrictModel

from .asked_as import ASKED_AS_DIR, load_asked_as
from .templates import AnswerTemplate, slots_in
from .text import _STOP, split_sentences

if TYPE_CHECKING:
    from .ranker import Ranker

VERSION = "answer-index-3"

# --- normalization ---------------------------------------------------------------------------

_APOSTROPHE = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (
        re.compile(r"\b(do|does|did|is|are|was|were|have|has|had|should|would|could)n'?t\b"),
        r"\1 not",
    ),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(what|that|it|there|who|where|how|here)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),  # possessive
    (re.compile(r"s'(?=\s|$)"), "s"),
)

# Phrases rewritten before tokenizing: spellings of one thing, and abbreviations. Kept small
# and general (financial vocabulary, not the wording of any one question).
_PHRASES = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"\bsolo ?40[13] ?\(?k\)?s?(?!\w)", " solo401k "),
        (r"\b40[13] ?\(?[kb]\)?s?(?!\w)", " workplace retirement plan "),
        (r"\b(tsp|457 ?\(?b?\)?)(?!\w)", " workplace retirement plan "),
        (r"\biras\b", " ira "),
        (r"\bss\b|\bssa\b|\bsocial security administration\b", " social security "),
        (r"\bhysa\b", " high yield savings account "),
        (r"\bhigh-yield\b", " high yield "),
        (r"\bdiff\b", " difference "),
        (r"\bvs\.?\b|\bversus\b", " difference between "),
        (r"\bpros and cons\b|\btradeoffs?\b|\btrade-offs?\b", " trade off "),
        (r"\bcc\b|\bcredit cards?\b|\bcards?\b", " credit card "),
        (r"\bcredit credit card\b", " credit card "),
        (r"\b(laid off|let go|lost my job|losing my job|got fired)\b", " lose job "),
        (r"\bex[- ](husband|wife|spouse|partner)\b|\bmy ex\b", " former spouse "),
        (r"\b(mom|mother|dad|father|mother-in-law|father-in-law|parents)\b", " parent "),
        (r"\b(kids?|son|daughter|children|teen|teenager)\b", " child "),
        (r"\b(husband|wife|boyfriend|girlfriend|fianc[eé]e?)\b", " partner spouse "),
        (r"\bmoney-wise\b", " money "),
        (r"\b(left|leaves|leaving) (me|us|him|her|them)\b", " inherit "),
        (r"\b(kidding|fooling|lying to) (myself|ourselves)\b", " telling myself "),
        (r"\brainy day fund\b|\bemergency savings\b", " emergency fund "),
        (r"\bpaycheck-to-paycheck\b", " paycheck to paycheck "),
        (r"\bpre-tax\b|\bpretax\b", " pre tax "),
        (r"\blong-term care\b|\blong term care\b|\bltc\b", " long term care "),
        (r"\b(er|emergency room|hospital)\b", " hospital "),
        (r"\bpayday\b", " paycheck "),
        (r"\blook-?backs?\b", " look back "),
        # "will" is a stop word, but not the document
        (r"\b(a|my|the|your|their|our|his|her|mom's|dad's|parent's) wills?\b", " testament "),
        (r"\bwills\b", " testament "),
    )
)

# Words of one meaning in a client's mouth -> one concept: agents/scripted/concepts.yaml, read
# once (`_concepts`), stemmed like any other word.
CONCEPTS_FILE = Path("agents") / "scripted" / "concepts.yaml"


class ConceptFile(StrictModel):
    """Words of one meaning, by concept (agents/scripted/concepts.yaml)."""

    concepts: dict[str, list[str]] = Field(
        description="Concept word -> words a client uses for it (each word in one concept)."
    )
    sayings: dict[str, str] = Field(
        default_factory=dict,
        description='A saying a client uses ("nest egg", "the taxman") -> the plain words '
        "the bank uses for it; a hyphen or a space between its words matches either.",
    )


_SYNONYMS: dict[str, str] = {}

_ANY_PHRASE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _PHRASES))

_TYPO_CONTRACTIONS = {
    "whats": "what is",
    "thats": "that is",
    "theres": "there is",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "arent": "are not",
    "cant": "can not",
    "wont": "will not",
    "im": "i am",
    "ive": "i have",
    "shouldnt": "should not",
    "couldnt": "could not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hows": "how is",
    "wheres": "where is",
    "whos": "who is",
    "wouldnt": "would not",
    "u": "you",
    "ur": "your",
    "r": "are",
}

_STOPWORDS = _STOP | {
    "am",
    "i",
    "im",
    "actually",
    "really",
    "even",
    "just",
    "like",
    "kind",
    "sort",
    "honestly",
    "basically",
    "okay",
    "ok",
    "lol",
    "please",
    "thank",
    "thanks",
    "hey",
    "hi",
    "yeah",
    "um",
    "gonna",
    "wanna",
    "someone",
    "somebody",
    "people",
    "person",
    "get",
    "got",
    "mean",
    "being",
    "going",
    "still",
    "too",
    "yet",
    "now",
    "ever",
    # how a question is framed, not what it asks ("I keep wondering whether...")
    "wonder",
    "wondering",
    "wondered",
    "curious",
    "guess",
    "anyway",
    "literally",
    "seriously",
    "totally",
    "maybe",
    "probably",
    "idk",
    "tbh",
}
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
_SUFFIXES = (
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("es", ""),
    ("ed", ""),
    ("s", ""),
    ("ly", ""),
)
_KEEP_S = ("ss", "us", "is")


def _strip(word: str) -> str:
    """A light Porter-style stem: one inflection off, then a final e off and a doubled
    consonant single ("retirement", "retiring", "retired" -> "retir"; "planning" -> "plan")."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(_KEEP_S):
                break
            if suffix == "es" and word[-3] not in "sxzh":  # "houses" -> "house"
                suffix = "s"
            word = word[: -len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word


def concepts_path() -> Path:
    """The concept file of the project, else of this checkout."""
    path = project_root() / CONCEPTS_FILE
    return path if path.is_file() else Path(__file__).resolve().parents[3] / CONCEPTS_FILE


def load_concepts(path: Path) -> dict[str, str]:
    """Stem -> concept stem. A word listed under two concepts is an error naming the file,
    the word and both concepts."""
    data = load_yaml_model(path, ConceptFile)
    out: dict[str, str] = {}
    errors = []
    for concept, words in data.concepts.items():
        for word in [concept, *words]:
            stem, target = _strip(word.lower()), _strip(concept.lower())
            if out.get(stem, target) != target:
                errors.append(f"{path}: concepts: {word!r} is in {concept!r} and {out[stem]!r}")
            out[stem] = target
    if errors:
        raise DataError(errors)
    return out


_SYNONYMS.update(load_concepts(concepts_path()))
_SPACES = re.compile(r"[\s-]+")


def load_sayings(path: Path) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """One pattern of every saying of the concept file (longest first) and saying -> plain
    words; None when it has none."""
    sayings = {
        " ".join(_SPACES.split(k.lower().strip())): v.lower()
        for k, v in load_yaml_model(path, ConceptFile).sayings.items()
    }
    if not sayings:
        return None
    alternatives = sorted(sayings, key=len, reverse=True)
    body = "|".join(r"[\s-]+".join(map(re.escape, k.split())) for k in alternatives)
    return re.compile(rf"\b(?:{body})\b"), sayings


_SAYINGS = load_sayings(concepts_path())


@functools.lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """The light stem of `word`, then its concept (agents/scripted/concepts.yaml)."""
    word = _strip(word)
    return _SYNONYMS.get(word, word)


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, contractions expanded, sayings (concepts.yaml) and
    phrases rewritten."""
    out = text.lower().translate(_APOSTROPHE)
    out = out.replace("&", " and ")
    if "'" in out:
        for pattern, repl in _CONTRACTIONS:
            out = pattern.sub(repl, out)
    out = " ".join([_TYPO_CONTRACTIONS.get(w, w) for w in out.split()])
    if _SAYINGS is not None:
        pattern, plain = _SAYINGS
        out = pattern.sub(lambda m: " " + plain[" ".join(_SPACES.split(m[0]))] + " ", out)
    if _ANY_PHRASE.search(out):
        for pattern, repl in _PHRASES:
            out = pattern.sub(repl, out)
    return out


def content_words(text: str) -> list[str]:
    """The normalized words of `text` that carry meaning (no stop words, no 1-2 letter words
    except numbers such as 529)."""
    out = []
    for word in _WORD.findall(normalize(text)):
        word = word.strip("'-")
        if not word or word in _STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        out.append(word)
    return out


_INTENTS = (
    ("difference", re.compile(r"\b(difference|differences|compare|comparison)\b")),
    (
        "amount",
        re.compile(
            r"\bhow (much|many|big|high|large|low)\b|\bwhat (percent|percentage|number|amount)\b"
        ),
    ),
    ("consequence", re.compile(r"\bwhat (happens|happened|would happen|will happen|if)\b")),
    ("time", re.compile(r"\b(when|how long|how soon|how often|how fast|deadline|what age)\b")),
    ("place", re.compile(r"\bwhere\b")),
    ("reason", re.compile(r"\bwhy\b")),
    ("person", re.compile(r"\bwho\b")),
)


def intent(question: str) -> str:
    """The kind of answer a question asks for (amount, time, place, reason, ...), or ""."""
    text = normalize(question)
    return next((name for name, pattern in _INTENTS if pattern.search(text)), "")


def _word_features(words: Sequence[str]) -> Counter[str]:
    stems_ = [_stem(w) for w in words]
    feats = Counter(stems_)
    feats.update(f"{a} {b}" for a, b in zip(stems_, stems_[1:], strict=False))
    return feats


@functools.lru_cache(maxsize=16384)
def _char_grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))


def _char_features(words: Sequence[str]) -> Counter[str]:
    """Character 3-5-grams of each word, padded with a space on each side."""
    return Counter(chain.from_iterable(map(_char_grams, words)))


# --- a small TF-IDF over one field of the bank -------------------------------------------------


def _tf(count: float) -> float:
    """Sublinear term frequency; a weight below one (a gloss word, a topic's name word) is
    kept as it is."""
    return 1.0 + math.log(count) if count >= 1.0 else count


class _Field:
    """TF-IDF vectors (sublinear tf, smooth idf, L2) of one view of the bank, as a sparse
    feature x question matrix: a query scores every question with one product."""

    def __init__(self, docs: Sequence[Mapping[str, float]]):
        n = len(docs)
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.keys())
        self.n = n
        self.index = {f: i for i, f in enumerate(sorted(df))}
        self.idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items()}
        self.max_idf = math.log(1 + n) + 1.0  # a feature no question has
        self._idf = np.asarray([self.idf[f] for f in self.index])
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for j, doc in enumerate(docs):
            weights = {f: _tf(c) * self.idf[f] for f, c in doc.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for f, w in weights.items():
                rows.append(self.index[f])
                cols.append(j)
                vals.append(w / norm)
        # question x feature; a product with a dense query vector is the fastest way here
        self.matrix = sparse.csr_matrix((vals, (cols, rows)), shape=(n, len(self.index)))
        self.docs = [frozenset(doc) for doc in docs]

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """Cosine of the query (feature -> count or weight) with every question."""
        index = self.index
        known = [(index[f], c) for f, c in query.items() if f in index]
        if not known:
            return np.zeros(self.n)
        ids, counts = zip(*known, strict=True)
        tf = np.asarray(counts, dtype=float)
        big = tf >= 1.0
        tf[big] = 1.0 + np.log(tf[big])
        return self._product(np.asarray(ids), tf * self._idf[list(ids)])

    def scores_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """`scores` of a query given as feature ids, one per occurrence."""
        if not len(ids):
            return np.zeros(self.n)
        counts = np.bincount(ids, minlength=len(self._idf))
        present = np.flatnonzero(counts)
        tf = 1.0 + np.log(counts[present])
        return self._product(present, tf * self._idf[present])

    def _product(self, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        vector = np.zeros(len(self._idf))
        vector[ids] = weights / np.sqrt(weights @ weights)
        return self.matrix @ vector


# --- typos ------------------------------------------------------------------------------------


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class _Speller:
    """One-edit typo correction against the bank's own words (symmetric deletions: a word
    and a known word that are one letter dropped, changed or two swapped apart).
    Only words of `MIN` letters or more are corrected: short words have too many neighbours."""

    MIN = 5

    def __init__(self, words: Iterable[str]):
        counts = Counter(w for w in words if len(w) >= self.MIN - 1 and w.isalpha())
        self._known = frozenset(counts)
        self._by_key: dict[str, str] = {}
        for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            for key in (word, *sorted(_deletions(word))):
                self._by_key.setdefault(key, word)  # the most used word wins a shared key

    def correct(self, word: str) -> str:
        if len(word) < self.MIN or not word.isalpha() or word in self._known:
            return word
        found = self._by_key.get(word)  # a letter dropped: "diffrence"
        if found is not None:
            return found
        for key in sorted(_deletions(word)):  # a letter changed or two swapped: "morgtage"
            found = self._by_key.get(key)
            # a known word itself is a letter added, the likelier a real word: "abroad"
            if found is not None and found != key:
                return found
        return word


# --- the index ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerMatch:
    """The bank question a message asks, with its answers."""

    question: str
    template: AnswerTemplate
    topic: str | None  # None: a follow-up that fits any topic
    score: float  # 1.0 for an exact or pattern match
    margin: float  # best score minus the best score of another answer (1.0 when exact)
    method: str  # "exact", "pattern" or "meaning"
    similarity: float = 1.0  # the score without the topic, follow-up and intent bonuses
    confidence: float | None = None  # the ranker's probability that the answer fits


@dataclass(frozen=True)
class Scored:
    """A message scored by meaning against every bank question (arrays by question)."""

    views: dict[str, np.ndarray]  # word, char, answer, pooled cosines (question sentences
    # blended in), before the view weights
    similarity: np.ndarray  # the views weighted (Params)
    scores: np.ndarray  # similarity plus the intent, topic and follow-up bonuses
    asked: Counter[str]  # the message's own stems of what is asked
    stems: frozenset[str]  # the message's own stems
    unknown: int  # words of what is asked that no wording or answer uses
    intent: str  # the kind of answer asked for, or ""
    topic: str | None  # the conversation's topic
    asks: bool = False  # the message has a question mark


@dataclass(frozen=True)
class _Entry:
    question: str
    template: AnswerTemplate
    topic: str | None


_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _pattern(question: str) -> re.Pattern[str]:
    """A question template as a pattern: its {slots} match any words."""
    return re.compile(
        ".+?".join(re.escape(part) for part in _PLACEHOLDER.split(question)), re.IGNORECASE
    )


@dataclass
class Params:
    """Weights and thresholds, tuned on the dev split of data/paraphrases/answer_bank.yaml.
    With a ranker (the shipped index has one) threshold, unknown and coverage are unused: the
    ranker decides from the scores."""

    word: float = 0.6  # question content stems and stem pairs
    char: float = 0.15  # character n-grams of the question's content words
    answer: float = 0.3  # content stems of the question's answers
    pooled: float = 0.15  # stems and stem pairs of all wordings of a question together
    gloss: float = 0.3  # weight of a key term's gloss words added to a query naming it
    intent: float = 0.1  # bonus when the question asks for the same kind of answer
    vague: float = 0.3  # weight of a topic's own name words in its questions' vectors
    topic_bonus: float = 0.2  # questions of the conversation's topic
    generic_bonus: float = 0.03  # follow-ups (they fit any topic)
    threshold: float = 0.46  # the least score to answer
    unknown: float = 0.2  # off the score per word no wording or answer has (2 at most)
    coverage: float = 0.3  # the least share of the query's idf mass the match covers
    focus: float = 0.3  # weight of the question sentences alone in a longer message's score
    min_asked: int = 1  # fewer content words in the question: coverage on the whole message


@dataclass
class AnswerIndex:
    """A meaning index over the advisor's answer bank; see the module docstring."""

    entries: tuple[_Entry, ...]
    params: Params = field(default_factory=Params)
    glossary: Mapping[str, str] = field(default_factory=dict)  # key term -> plain gloss
    topic_names: Mapping[str, str] = field(default_factory=dict)  # topic id -> name and phrase
    # bank question -> other wordings of it (agents/scripted/asked_as/)
    phrasings: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # the learned choice among the best candidates (agents/scripted/answer_ranker.yaml);
    # None: the best score, the threshold and the coverage check of Params decide
    ranker: Ranker | None = None

    def __post_init__(self) -> None:
        entries = self.entries
        self._exact = {e.question.lower(): e for e in entries if not slots_in(e.question)}
        self._patterns = tuple((_pattern(e.question), e) for e in entries if slots_in(e.question))
        texts = [_PLACEHOLDER.sub(" ", e.question) for e in entries]
        q_words = [content_words(t) for t in texts]
        # numbers that name a thing (a 529 plan); any other number in a wording or a message
        # is the client's own figure ($4,100, 25th, 4%): it says what the situation is, not
        # what is asked, and is left out on both sides
        self._numbers = frozenset(w for ws in q_words for w in ws if w[:1].isdigit())
        # every wording of a question is a document of its own; a question scores as its
        # closest wording (rows of one question are adjacent, from self._starts on)
        doc_words: list[list[str]] = []
        starts: list[int] = []
        for e, words in zip(entries, q_words, strict=True):
            starts.append(len(doc_words))
            doc_words.append(words)
            doc_words.extend(
                [w for w in content_words(p) if not self._figure(w)]
                for p in self.phrasings.get(e.question, ())
            )
        self._starts = np.asarray(starts, dtype=np.intp)
        self._word = _Field([_word_features(w) for w in doc_words])
        # a topic's own name words say little about which of its questions is asked
        self._named = {
            t: frozenset(_stem(w) for w in content_words(n)) for t, n in self.topic_names.items()
        }
        self._char = _Field([_char_features(w) for w in doc_words])
        ends = [*starts[1:], len(doc_words)] if starts else []
        # all wordings of a question as one document: words its clients use in any wording
        self._pooled = _Field(
            [
                _word_features([w for ws in doc_words[a:b] for w in ws])
                for a, b in zip(starts, ends, strict=True)
            ]
        )
        self._char_ids: dict[str, np.ndarray] = {}  # word -> ids of its known n-grams
        self._answer = _Field(
            [
                Counter(
                    _stem(w)
                    for r in e.template.replies
                    for w in content_words(_PLACEHOLDER.sub(" ", r.text))
                )
                for e in entries
            ]
        )
        self._intents = np.asarray([intent(t) for t in texts], dtype=object)
        self._templates = np.asarray([id(e.template) for e in entries])
        self._topics = np.asarray([e.topic or "" for e in entries], dtype=object)
        self._generic = np.asarray([e.topic is None for e in entries])
        self._stems = [
            frozenset(_stem(w) for ws in doc_words[a:b] for w in ws)
            for a, b in zip(starts, ends, strict=True)
        ]
        # each wording's stems, by question (for how much of a wording a message holds)
        self._wordings = [
            [self._weighed(frozenset(_stem(w) for w in ws)) for ws in doc_words[a:b]]
            for a, b in zip(starts, ends, strict=True)
        ]
        # a key term named in a query brings its gloss's words (normalized term -> stems)
        self._glosses: dict[str, list[str]] = {}
        asked = " ".join(" ".join(ws) for ws in q_words)
        named = set(asked.split())
        for term, gloss in self.glossary.items():
            words = content_words(term)
            key = " ".join(words)
            if not key or re.search(rf"\b{re.escape(key)}\b", asked):
                continue  # a term a question names is matched by its own words
            self._glosses[key] = content_words(gloss)
            for word in words:  # "avalanche" alone names the debt avalanche
                rare = sum(_stem(word) in doc for doc in self._answer.docs) <= 3
                if word not in named and len(word) > 4 and rare:
                    self._glosses.setdefault(word, content_words(gloss))
        self._gloss_pattern = (
            re.compile(
                r"\b("
                + "|".join(sorted(map(re.escape, self._glosses), key=len, reverse=True))
                + r")\b"
            )
            if self._glosses
            else None
        )
        self._vocabulary = frozenset(self._word.index) | frozenset(self._answer.index)
        self._spellings = _Speller(
            chain(
                chain.from_iterable(doc_words),
                (
                    w
                    for e in entries
                    for r in e.template.replies
                    for w in content_words(_PLACEHOLDER.sub(" ", r.text))
                ),
            )
        )
        self._cache: dict[tuple[str, str | None], AnswerMatch | None] = {}

    # --- building --------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        answers: Iterable[AnswerTemplate],
        catalog: Catalog,
        params: Params | None = None,
        ranker: bool | Ranker = True,
    ) -> AnswerIndex:
        """The index over `answers` (e.g. `AdvisorTemplates.answers`); each question's topic is
        the topic whose client questions (or whose sub-categories') hold it, else None.
        `ranker`: True for the shipped ranker (agents/scripted/answer_ranker.yaml, when the
        catalog has one), False for the Params threshold and coverage rule, or a Ranker."""
        owner: dict[str, str] = {}
        for topic in catalog.topics.values():
            for q in topic.client_questions:
                owner[q.lower()] = topic.id
            for sub in topic.subcategories:
                for q in sub.client_questions:
                    owner[q.lower()] = topic.id
        entries = tuple(_Entry(a.question, a, owner.get(a.question.lower())) for a in answers)
        glossary = {
            term: gloss
            for topic in catalog.topics.values()
            for term, gloss in topic.key_terms.items()
        }
        names = {t.id: f"{t.name} {t.phrase or ''}" for t in catalog.topics.values()}
        # the shipped bank has every question phrased (tests check it); a smaller bank, e.g.
        # a test's, takes the phrasings of the questions it has
        phrasings = load_asked_as(catalog.home(ASKED_AS_DIR))
        if ranker is True:
            from .ranker import RANKER_FILE, load_ranker

            path = catalog.file(RANKER_FILE)
            ranker = load_ranker(path) if path.is_file() else False
        chosen = None if ranker is False else ranker
        return cls(entries, params or Params(), glossary, names, phrasings, chosen)

    # --- matching --------------------------------------------------------------------------

    def match(self, text: str, topic: str | None = None) -> AnswerMatch | None:
        """The bank question `text` asks (exact, pattern, then meaning), or None."""
        key = (text, topic)
        if key in self._cache:
            return self._cache[key]
        found = self._match(text, topic)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = found
        return found

    def match_uncached(self, text: str, topic: str | None = None) -> AnswerMatch | None:
        """`match` without the per-index cache (for measurements)."""
        return self._match(text, topic)

    def _weighed(self, stems: frozenset[str]) -> tuple[frozenset[str], float]:
        idf, default = self._word.idf, self._word.max_idf
        return stems, sum(idf.get(f, default) for f in stems)

    def literal(self, text: str) -> AnswerMatch | None:
        """The exact or pattern match of `text` (the whole message), or None."""
        return self._literal(text)

    def intent_of(self, i: int) -> str:
        """The kind of answer bank question `i` asks for."""
        return str(self._intents[i])

    def coverage(self, asked: Mapping[str, float], i: int) -> float:
        """The share of what is asked (idf-weighted) bank question `i` or its answers hold."""
        return self._coverage(asked, i)

    def recall(self, stems: frozenset[str], i: int) -> float:
        """The most any wording of bank question `i` has of its words (idf-weighted) in
        `stems`, the message's: a message that names everything a wording asks about."""
        idf, default = self._word.idf, self._word.max_idf
        best = 0.0
        for wording, total in self._wordings[i]:
            if total:
                best = max(best, sum(idf.get(f, default) for f in wording & stems) / total)
        return best

    def _literal(self, text: str) -> AnswerMatch | None:
        entry = self._exact.get(text.strip().lower())
        if entry is not None:
            return AnswerMatch(entry.question, entry.template, entry.topic, 1.0, 1.0, "exact")
        stripped = text.strip()
        for pattern, entry in self._patterns:
            if pattern.fullmatch(stripped):
                return AnswerMatch(entry.question, entry.template, entry.topic, 1.0, 1.0, "pattern")
        return None

    def _match(self, text: str, topic: str | None) -> AnswerMatch | None:
        found = self._literal(text)
        if found is not None:
            return found
        sentences = [s for _, _, s in split_sentences(text)] or [text]
        questions = [s for s in sentences if s.rstrip().endswith("?")]
        if questions and len(sentences) > 1:
            found = self._literal(questions[-1])
            if found is not None:
                return found
        return self._meaning(sentences, questions, topic)

    def query_features(
        self, sentences: Sequence[str]
    ) -> tuple[Counter[str], np.ndarray, Counter[str]]:
        """The message's word features (with the gloss words of key terms it names), the ids
        of its character n-grams, and its own word stems (for the coverage check)."""
        p = self.params
        word: Counter[str] = Counter()
        own: Counter[str] = Counter()
        char: list[np.ndarray] = []
        for sentence in sentences:
            words = [self._spell(w) for w in content_words(sentence) if not self._figure(w)]
            for f, c in _word_features(words).items():
                word[f] += c
                if " " not in f:
                    own[f] += c
            char.extend(map(self._grams, words))
            if self._gloss_pattern is not None and p.gloss:
                for term in set(self._gloss_pattern.findall(" ".join(words))):
                    for w in self._glosses[term]:
                        f = _stem(w)
                        if f not in word:
                            word[f] += p.gloss
        return word, np.concatenate(char) if char else np.zeros(0, dtype=np.intp), own

    def _spell(self, word: str) -> str:
        """`word`, or the bank word it is a one-letter slip of ("diffrence", "morgage")."""
        if _stem(word) in self._vocabulary:
            return word
        return self._spellings.correct(word)

    def _figure(self, word: str) -> bool:
        """A number (or ordinal) that no bank question names."""
        return word[:1].isdigit() and word not in self._numbers

    def _grams(self, word: str) -> np.ndarray:
        """The ids of the word's character n-grams that some bank question has."""
        ids = self._char_ids.get(word)
        if ids is None:
            index = self._char.index
            ids = np.asarray([index[g] for g in _char_grams(word) if g in index], dtype=np.intp)
            if len(self._char_ids) < 50_000:
                self._char_ids[word] = ids
        return ids

    def scored(self, text: str, topic: str | None = None) -> Scored | None:
        """`text` scored against every bank question by meaning (None: no content word)."""
        sentences = [s for _, _, s in split_sentences(text)] or [text]
        questions = [s for s in sentences if s.rstrip().endswith("?")]
        return self._scored(sentences, questions, topic)

    def _scored(
        self, sentences: Sequence[str], questions: Sequence[str], topic: str | None
    ) -> Scored | None:
        p = self.params
        word, char, own = self.query_features(sentences)
        if not own:
            return None
        named = self._named.get(topic or "")
        if named and p.vague != 1.0:
            for f in named & word.keys():
                word[f] *= p.vague
        views = self._views(word, char)
        asked_own = own
        if questions and len(questions) < len(sentences):
            # what is asked must be covered; the story around it need not be
            q_word, q_char, q_own = self.query_features(questions)
            if len(q_own) >= p.min_asked:
                asked_own = q_own
            if p.focus and q_own:
                if named and p.vague != 1.0:
                    for f in named & q_word.keys():
                        q_word[f] *= p.vague
                focused = self._views(q_word, q_char)
                views = {k: (1 - p.focus) * v + p.focus * focused[k] for k, v in views.items()}
        similarity = sum(getattr(p, k) * v for k, v in views.items())
        asked = intent(questions[-1] if questions else sentences[-1])
        scores = similarity
        if asked and p.intent:
            scores = scores + p.intent * (self._intents == asked)
        if topic is not None:
            scores = scores + p.topic_bonus * (self._topics == topic)
        scores = scores + p.generic_bonus * self._generic
        # a word the bank never uses (a brand, a thing it has no answer about) makes an
        # answer less likely to be the one asked for: pet insurance, a Netflix account
        unknown = sum(1 for f in asked_own if f not in self._vocabulary and not f[:1].isdigit())
        return Scored(
            views,
            similarity,
            scores,
            asked_own,
            frozenset(own),
            unknown,
            asked,
            topic,
            bool(questions),
        )

    def _meaning(
        self, sentences: Sequence[str], questions: Sequence[str], topic: str | None
    ) -> AnswerMatch | None:
        p = self.params
        found = self._scored(sentences, questions, topic)
        if found is None:
            return None
        scores = found.scores
        if self.ranker is not None:
            best, confidence = self.ranker.choose(self, found)
            if best is None:
                return None
        else:
            best = int(np.argmax(scores))
            if scores[best] - p.unknown * min(found.unknown, 2) < p.threshold:
                return None
            if self._coverage(found.asked, best) < p.coverage:
                return None
            confidence = None
        score = float(scores[best])
        others = scores[self._templates != self._templates[best]]
        runner_up = float(others.max()) if len(others) else 0.0
        entry = self.entries[best]
        return AnswerMatch(
            entry.question,
            entry.template,
            entry.topic,
            score,
            score - runner_up,
            "meaning",
            float(found.similarity[best]),
            confidence,
        )

    def _views(self, word: Counter[str], char: np.ndarray) -> dict[str, np.ndarray]:
        """The cosines of a query with every question, one array per view (before weights)."""
        unigrams = Counter({f: c for f, c in word.items() if " " not in f})
        closest = np.maximum.reduceat
        return {
            "word": closest(self._word.scores(word), self._starts),
            "char": closest(self._char.scores_of_ids(char), self._starts),
            "answer": self._answer.scores(unigrams),
            "pooled": self._pooled.scores(word),
        }

    def _similarities(self, word: Counter[str], char: np.ndarray) -> np.ndarray:
        """The weighted cosines of a query with every question (before bonuses)."""
        p = self.params
        return sum(getattr(p, k) * v for k, v in self._views(word, char).items())

    def _coverage(self, unigrams: Mapping[str, float], best: int) -> float:
        """The share of the query's content (idf-weighted, weighted like the query) that the
        matched question or its answers also hold."""
        stems_ = self._stems[best]
        answer = self._answer.docs[best]
        total = covered = 0.0
        for f, c in unigrams.items():
            w = c * self._word.idf.get(f, self._word.max_idf)
            total += w
            if f in stems_ or f in answer:
                covered += w
        return covered / total if total else 0.0


_INDEXES: dict[tuple[int, int], tuple[Catalog, AnswerIndex]] = {}
_MAX_INDEXES = 8


def index_for(answers: Sequence[AnswerTemplate], catalog: Catalog) -> AnswerIndex:
    """The index over `answers` (e.g. `AdvisorTemplates.answers`), built once per process for
    the same answers (by content: every load of the templates makes a new list) and catalog."""
    fingerprint = hash(
        tuple((a.question, a.strategy, tuple(r.text for r in a.replies)) for a in answers)
    )
    key = (fingerprint, id(catalog))
    held = _INDEXES.get(key)
    if held is None or held[0] is not catalog:
        if len(_INDEXES) >= _MAX_INDEXES:
            del _INDEXES[next(iter(_INDEXES))]
        held = _INDEXES[key] = (catalog, AnswerIndex.build(answers, catalog))
    return held[1]
