"""Where each figure in an advisor reply comes from, and which ones come from nowhere.

Every figure (amount, rate, age, duration) found in a draft is traced, in this order, to a
calculation the draft declares (re-run to check it), a fact the client stated, or a current
fact of the vetted fact base. A figure that traces to none of them is a problem:

- `misquoted_client_figure`: near a client figure of the same kind (within 40%) but not it;
- `out_of_date_fact`: states a fact-base value that is no longer current;
- `wrong_fact_value`: in a sentence about a fact-base fact, with a value the fact does not have;
- `miscalculated`: a declared calculation whose outputs do not re-run to the same numbers;
- `untraceable_figure`: anything else.

The critic rejects a draft with any problem; the record keeps the traced figures.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emosim.schemas.grounding import CalculationUse, FigureUse, StatedFact

from .calculators import Calculation, mismatches
from .facts import FactBase
from .figures import Found, find_figures

MONEY_UNITS = frozenset({"usd", "usd_per_month", "usd_per_year"})
_SENTENCE = re.compile(r"(?:[^.!?]|\.(?=\d))+(?:[.!?]+|$)")  # "0.5%" does not end one


@dataclass(frozen=True)
class Problem:
    code: str
    figure: str
    detail: str


@dataclass(frozen=True)
class Trace:
    figures: list[FigureUse]
    problems: list[Problem]


def _family(unit: str) -> str:
    if unit in MONEY_UNITS:
        return "money"
    if unit.startswith("percent"):
        return "percent"
    return "time" if unit in {"years", "months"} else unit


def _close(a: float, b: float, unit: str) -> bool:
    """Equal as a reader would take it: money to the dollar (or 0.5%), rates to 0.01,
    durations to the nearest whole unit ("about 24 months" for 24.4)."""
    if _family(unit) == "money":
        return abs(a - b) <= max(0.5, 0.005 * abs(b))
    if unit == "percent":
        return abs(a - b) <= 0.01 + 1e-9
    # a count of months is said whole: "176 months" for 175.4 (the last, smaller payment)
    return abs(a - b) < 0.5 + 1e-9 or round(a) == round(b) or a == math.ceil(b - 1e-9)


def _calc_values(calc: CalculationUse) -> list[tuple[float, str]]:
    """(value, unit) of every number a calculation states, with durations both in months
    and years."""
    out: list[tuple[float, str]] = []
    for name, value in [*calc.inputs.items(), *calc.outputs.items()]:
        if name in {"indefinite", "pays_off"} or name.startswith("has_"):
            continue
        if name.startswith("months") or name.endswith("_months"):
            out += [(value, "months"), (value / 12, "years")]
        elif name == "years" or name.endswith("_years"):
            out += [(value, "years"), (value * 12, "months")]
        elif "age" in name:
            out.append((value, "age"))
        elif "percent" in name or name.endswith("_rate"):
            out.append((value, "percent"))
        else:
            out.append((value, "money"))
    return out


def _matches_calc(f: Found, calc: CalculationUse) -> bool:
    fam = _family(f.unit)
    for value, unit in _calc_values(calc):
        if unit == "money" and fam == "money" and _close(f.value, value, "usd"):
            return True
        if unit == f.unit and _close(f.value, value, f.unit):
            return True
    return False


def _names(fact, sentence: str) -> bool:  # noqa: ANN001
    """Whether the sentence names the fact by one of its keywords."""
    low = sentence.lower()
    return any(re.search(rf"\b{re.escape(k.lower())}\b", low) for k in fact.keywords if k)


def _about(fact_base: FactBase, sentence: str):  # noqa: ANN202
    """The fact-base fact a sentence is about: the best keyword match that it names."""
    for fact in fact_base.search(sentence, limit=3):
        if _names(fact, sentence):
            return fact
    return None


def _slipped_digits(said: float, stated: float) -> bool:
    """$18,000 for $180,000: the same digits, off by a power of ten."""
    if said <= 0 or stated <= 0:
        return False
    ratio = math.log10(stated / said)
    return abs(ratio - round(ratio)) < 1e-9 and round(ratio) != 0


def trace_figures(
    text: str,
    *,
    facts: Sequence[StatedFact],
    calculations: Iterable[CalculationUse] = (),
    fact_base: FactBase | None = None,
    on: dt.date | None = None,
) -> Trace:
    calcs = list(calculations)
    problems: list[Problem] = []
    for calc in calcs:
        wrong = mismatches(
            Calculation(
                name=calc.name, inputs=calc.inputs, outputs=calc.outputs, summary=calc.summary
            ),
            rel_tol=1e-4,
            abs_tol=0.5,
        )
        if wrong:
            problems.append(Problem("miscalculated", calc.name, "; ".join(wrong)))
    on = on or dt.date.today()
    figures: list[FigureUse] = []
    for f in find_figures(text):
        use = _trace_one(f, text, facts, calcs, fact_base, on)
        if isinstance(use, Problem):
            problems.append(use)
        else:
            figures.append(use)
    return Trace(figures, problems)


def _trace_one(
    f: Found,
    text: str,
    facts: Sequence[StatedFact],
    calcs: list[CalculationUse],
    fact_base: FactBase | None,
    on: dt.date,
) -> FigureUse | Problem:
    def use(origin: str, source: str | None) -> FigureUse:
        return FigureUse(
            text=f.text,
            value=f.value,
            unit=f.unit,
            origin=origin,  # type: ignore[arg-type]
            source_id=source,
        )

    for calc in calcs:
        if _matches_calc(f, calc):
            return use("calculation", calc.name)
    family = _family(f.unit)
    for fact in reversed(facts):  # the newest statement of a figure wins
        same = fact.unit == f.unit or (family == "money" and _family(fact.unit) == "money")
        if same and math.isclose(fact.value, f.value, rel_tol=1e-9, abs_tol=1e-6):
            return use("client_fact", fact.id)
    sentence = next(
        (m.group(0) for m in _SENTENCE.finditer(text) if m.start() <= f.start < m.end()), text
    )
    stale = None
    if fact_base is not None:
        for fact in fact_base.find_value(f.value, f.unit if family != "money" else "usd"):
            if not _names(fact, sentence):
                continue  # the same number, but the sentence is not about this fact
            if fact_base.is_current(fact, on):
                return use("fact_base", fact.id)
            stale = fact
        about = _about(fact_base, sentence)
        if (
            stale is None
            and about is not None
            and any(_family(v.unit) == family for v in about.values)
        ):
            wanted = ", ".join(f"{v.value:g} {v.unit}" for v in about.values)
            return Problem(
                "wrong_fact_value",
                f.text,
                f"{f.text} in a sentence about {about.id}, which states {wanted}",
            )
    if stale is not None:
        return Problem(
            "out_of_date_fact",
            f.text,
            f"{f.text} is fact {stale.id}, no longer current on {on.isoformat()}",
        )
    for fact in facts:
        if _family(fact.unit) != family or fact.value == 0:
            continue
        if abs(f.value - fact.value) <= 0.4 * abs(fact.value) or _slipped_digits(
            f.value, fact.value
        ):
            return Problem(
                "misquoted_client_figure",
                f.text,
                f"{f.text} is not what the client said ({fact.text}: {fact.evidence!r})",
            )
    return Problem(
        "untraceable_figure",
        f.text,
        f"{f.text} comes from no client fact, calculation or fact-base fact",
    )
