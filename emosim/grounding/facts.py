"""The vetted fact base (`facts/<jurisdiction>-<tax_year>.yaml`): loading, checking, querying.

    base = catalog.facts                      # or load_fact_base(path)
    base.get("ira_contribution_limit")        # one Fact
    base.by_topic("tax_planning")             # the topic's facts, in file order
    base.find_value(7500, "usd")              # which facts state this number (a critic's check)
    base.is_current(fact, on=date(2026, 12, 7))
    base.search("how much can I put in an IRA this year?")   # ranked by keyword overlap

Units: `find_value(x, "usd")` matches every money unit (usd, usd_per_month, usd_per_year) and
`find_value(x, "percent")` every percent unit; a specific unit (e.g. "usd_per_month") matches
only itself; no unit matches any.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import DataError
from ..files import _yaml_line, format_validation_error, load_yaml_node
from ..schemas.facts import Fact, FactFile

FACTS_DIR = "facts"

# A unit asked for as the family name matches the whole family.
UNIT_FAMILIES: dict[str, frozenset[str]] = {
    "usd": frozenset({"usd", "usd_per_month", "usd_per_year"}),
    "percent": frozenset({"percent", "percent_per_year", "percent_per_month"}),
}

# A fact with neither `expires` nor a tax year is stale this long after it was last checked.
STALE_AFTER_DAYS = 548  # about 18 months

_STOPWORDS = frozenset(
    """a about after all also am an and any are as at be been before but by can could do does
    doing for from get got had has have how i if in into is it its just me more most much my
    need no not now of on or our out over should so some than that the their them then there
    these they this those to up us was we were what when where which while who why will with
    would you your yours i'm i've it's what's""".split()
)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lowercase content words, plurals folded; `401(k)` and `401k` are both `401k`."""
    text = re.sub(r"\(([a-z])\)", r"\1", text.lower())
    words = re.findall(r"[a-z0-9]+", text.replace("'", ""))
    return [_stem(w) for w in words if w not in _STOPWORDS]


class FactBase:
    """An immutable, indexed set of facts (one fact file)."""

    def __init__(
        self, facts: Iterable[Fact], path: Path | None = None, file: FactFile | None = None
    ) -> None:
        self.facts: tuple[Fact, ...] = tuple(facts)
        self.path = path
        self.file = file
        self._by_id = {f.id: f for f in self.facts}
        self._by_topic: dict[str, list[Fact]] = {}
        for f in self.facts:
            self._by_topic.setdefault(f.topic, []).append(f)
        self._index: list[tuple[Fact, dict[str, float]]] | None = None

    @classmethod
    def from_file(cls, file: FactFile, path: Path | None = None) -> FactBase:
        return cls(file.facts, path, file)

    # --- lookup ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.facts)

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.facts)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self._by_id

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    @property
    def topics(self) -> list[str]:
        return list(self._by_topic)

    def get(self, fact_id: str) -> Fact:
        """The fact with this id; KeyError naming the id when there is none."""
        try:
            return self._by_id[fact_id]
        except KeyError:
            raise KeyError(f"unknown fact id {fact_id!r}") from None

    def value(self, fact_id: str, label: str | None = None) -> float:
        """A fact's number: the first value, or the one whose label contains `label`."""
        fact = self.get(fact_id)
        if label is None:
            return fact.values[0].value
        for v in fact.values:
            if label.lower() in v.label.lower():
                return v.value
        raise KeyError(
            f"fact {fact_id!r} has no value labelled {label!r} "
            f"(labels: {', '.join(v.label for v in fact.values)})"
        )

    def by_topic(self, topic: str) -> list[Fact]:
        """The topic's facts in file order (empty for a topic without facts)."""
        return list(self._by_topic.get(topic, []))

    def find_value(
        self, value: float, unit: str | None = None, rel_tol: float = 1e-9, abs_tol: float = 1e-6
    ) -> list[Fact]:
        """The facts that state this number (in this unit or unit family), in file order."""
        units = UNIT_FAMILIES.get(unit, frozenset({unit})) if unit else None
        return [
            f
            for f in self.facts
            if any(
                (units is None or v.unit in units)
                and math.isclose(v.value, value, rel_tol=rel_tol, abs_tol=abs_tol)
                for v in f.values
            )
        ]

    @staticmethod
    def is_current(fact: Fact, on: dt.date, max_age_days: int = STALE_AFTER_DAYS) -> bool:
        """False when the fact has expired by `on` (on > expires), belongs to an earlier tax
        year than `on`'s, or (neither expiring nor year-bound) was last checked more than
        `max_age_days` before `on`."""
        if fact.expires is not None and on > fact.expires:
            return False
        if fact.tax_year is not None and on.year > fact.tax_year:
            return False
        if fact.expires is None and fact.tax_year is None:
            return (on - fact.as_of).days <= max_age_days
        return True

    def current(self, on: dt.date) -> list[Fact]:
        return [f for f in self.facts if self.is_current(f, on)]

    # --- search ---------------------------------------------------------------------------

    def _build_index(self) -> list[tuple[Fact, dict[str, float]]]:
        docs: list[tuple[Fact, dict[str, float]]] = []
        for f in self.facts:
            weights: dict[str, float] = {}
            for word in tokens(f.statement + " " + " ".join(v.label for v in f.values)):
                weights[word] = max(weights.get(word, 0.0), 1.0)
            for word in tokens(" ".join(f.keywords) + " " + f.id.replace("_", " ")):
                weights[word] = 2.0
            docs.append((f, weights))
        df: dict[str, int] = {}
        for _, weights in docs:
            for word in weights:
                df[word] = df.get(word, 0) + 1
        n = len(docs)
        self._idf = {w: math.log(1 + n / c) for w, c in df.items()}
        return docs

    def search(self, text: str, topic: str | None = None, limit: int | None = 5) -> list[Fact]:
        """Facts ranked by keyword overlap with `text` (keywords count double, rare words more
        than common ones); only facts sharing at least one word; ties keep file order."""
        if self._index is None:
            self._index = self._build_index()
        query = set(tokens(text))
        scored = []
        for order, (fact, weights) in enumerate(self._index):
            if topic is not None and fact.topic != topic:
                continue
            score = sum(weights[w] * self._idf[w] for w in query if w in weights)
            if score > 0:
                scored.append((-score, order, fact))
        scored.sort(key=lambda item: (item[0], item[1]))
        facts = [fact for _, _, fact in scored]
        return facts if limit is None else facts[:limit]


def is_current(fact: Fact, on: dt.date, max_age_days: int = STALE_AFTER_DAYS) -> bool:
    """Module-level form of `FactBase.is_current`."""
    return FactBase.is_current(fact, on, max_age_days)


# --- checking and loading --------------------------------------------------------------------


def fact_file_problems(
    file: FactFile,
    where: object,
    topics: Iterable[str] | None = None,
    today: dt.date | None = None,
    node: yaml.Node | None = None,
) -> list[str]:
    """What the schema cannot say: unique ids, known topics, dates (as_of not after `today`,
    expires after as_of). One line per problem: `file[:line]: field: message (got value)`."""
    today = today or dt.date.today()
    known = set(topics) if topics is not None else None
    out: list[str] = []

    def add(loc: tuple, message: str) -> None:
        line = _yaml_line(node, loc) if node is not None else None
        place = f"{where}:{line}" if line else f"{where}"
        out.append(f"{place}: {'.'.join(map(str, loc))}: {message}")

    if file.as_of > today:
        add(("as_of",), f"date is in the future (got {file.as_of.isoformat()!r})")
    seen: dict[str, int] = {}
    for i, f in enumerate(file.facts):
        if f.id in seen:
            add(("facts", i, "id"), f"duplicate fact id {f.id!r} (first at facts.{seen[f.id]})")
        seen.setdefault(f.id, i)
        if known is not None and f.topic not in known:
            add(
                ("facts", i, "topic"),
                f"unknown topic id {f.topic!r} (expected one of: {', '.join(sorted(known))})",
            )
        if f.as_of > today:
            add(("facts", i, "as_of"), f"date is in the future (got {f.as_of.isoformat()!r})")
        if f.expires is not None and f.expires <= f.as_of:
            add(
                ("facts", i, "expires"),
                f"must be after as_of {f.as_of.isoformat()} (got {f.expires.isoformat()!r})",
            )
        if not f.source.url.strip() or not f.source.publisher.strip():
            add(("facts", i, "source"), "source needs a publisher and a url")
    return out


def load_fact_file(path: Path) -> FactFile:
    """Parse and schema-check a fact file; errors name the line."""
    data, node = load_yaml_node(path)
    if not isinstance(data, dict):
        raise DataError([f"{path}: expected a mapping at the top level"])
    try:
        return FactFile.model_validate(data)
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path), node)) from None


def load_fact_base(
    path: Path, topics: Iterable[str] | None = None, today: dt.date | None = None
) -> FactBase:
    """Load and check a fact file; a DataError lists every problem with file, line and field."""
    file = load_fact_file(path)
    problems = fact_file_problems(file, path, topics, today)
    if problems:
        _, node = load_yaml_node(path)
        raise DataError(fact_file_problems(file, path, topics, today, node))
    return FactBase.from_file(file, path)


def _year_of(path: Path) -> int:
    match = re.search(r"(\d{4})$", path.stem)
    return int(match.group(1)) if match else -1


def newest_fact_file(folder: Path) -> Path | None:
    """The fact file for the latest tax year in `folder` (named `<jurisdiction>-<year>.yaml`)."""
    files = [p for p in folder.glob("*.yaml") if _year_of(p) > 0] if folder.is_dir() else []
    return max(files, key=lambda p: (_year_of(p), p.name)) if files else None
