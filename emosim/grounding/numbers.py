"""The numbers block: the calculations that the client's running facts allow.

Every advisor backend gets the same block (the scripted advisor says one of them; a model
advisor is told it may use them and nothing else), so every figure Elena states has a
recorded origin. A precomputed block rather than tool calls: it works for every provider,
including local models without tool use, costs no extra round trip, and a cassette replays it
without any special handling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from emosim.schemas.grounding import CalculationUse, StatedFact

from .calculators import Calculation, calculate

MONTHLY = "usd_per_month"
# costs an emergency fund is sized on: living expenses, not a premium or a single bill
_LIVING = re.compile(r"\b(?:expenses|spend|spending|bills|rent|living|budget|household)\b", re.I)
_HOME = re.compile(r"\b(?:house|home|mortgage|condo|property)\b", re.IGNORECASE)


# a single bill is not what a household spends: income against rent alone leaves no "to spare"
_ONE_BILL = re.compile(r"\b(?:rent|premium|insurance|tuition|daycare|dues|car payment)\b", re.I)
_ALL_COSTS = re.compile(r"\b(?:expenses|spend|spending|living|household|all in|total)\b", re.I)


def _one_bill(cost: StatedFact) -> bool:
    return bool(_ONE_BILL.search(cost.evidence)) and not _ALL_COSTS.search(cost.evidence)


def _monthly(fact: StatedFact) -> float:
    return fact.value / 12 if fact.unit == "usd_per_year" else fact.value


def _latest(facts: Sequence[StatedFact], kinds: set[str], units: set[str]) -> StatedFact | None:
    return next((f for f in reversed(facts) if f.kind in kinds and f.unit in units), None)


def _use(calc: Calculation, sources: dict[str, StatedFact]) -> CalculationUse:
    return CalculationUse(
        name=calc.name,
        inputs=calc.inputs,
        outputs=calc.outputs,
        summary=calc.summary,
        input_facts={k: f.id for k, f in sources.items()},
    )


# --- stated changes: "my premium goes from $190 to $285 a month" ------------------------------

_PERIOD = r"(?:\s*(?:a|per|/|each)\s*(?:month|mo|year|yr)|\s*monthly|\s*yearly|\s*annually)?"
# between the old and the new amount, in the order said ("from $190 to $285 a month")
_TO = re.compile(rf"^{_PERIOD}\s*(?:up |down |all the way )?(?:to|->|→|-)\s*$", re.IGNORECASE)
# "$2,100 a month, up from $1,850" / "jumped to $240 from $165": the new amount first
_UP_FROM = re.compile(rf"^{_PERIOD},?\s*(?:(?:up|down) )?from\s*$", re.IGNORECASE)
# "was $1,850, now it's $2,100"
_NOW = re.compile(
    rf"^{_PERIOD}[,;]?\s*(?:and|but)?\s*(?:now|it's now|it’s now|now it's|now it’s|now it is|"
    r"is now|they're now|it will be|it'll be|it’ll be|will be|is going to be|becomes|"
    r"next year it's|next year it’s|starting next month it's)\b[\w\s'’]{0,20}$",
    re.IGNORECASE,
)
_FROM_BEFORE = re.compile(r"\bfrom\s*$", re.IGNORECASE)
_WAS_BEFORE = re.compile(
    r"\b(?:was|were|used to be|used to pay|had been|paid|currently|right now it's|"
    r"right now it’s|it's|it’s)\b[\w\s'’]{0,12}$",
    re.IGNORECASE,
)
_CHANGE_WORD = re.compile(
    r"\b(?:go(?:es|ing)? (?:up|down)|went (?:up|down)|gone (?:up|down)|rais(?:e|es|ed|ing)|"
    r"ris(?:e|es|ing)|rose|jump(?:s|ed|ing)?|climb(?:s|ed|ing)?|increas(?:e|es|ed|ing)|"
    r"hik(?:e|es|ed|ing)|doubl(?:e|es|ed|ing)|drop(?:s|ped|ping)?|fall(?:s|ing)?|fell|"
    r"cut|cuts|cutting|reduc(?:e|es|ed|ing)|decreas(?:e|es|ed|ing)|slash(?:es|ed|ing)?|"
    r"lower(?:s|ed|ing)?|shrink(?:s|ing)?|shrank|chang(?:e|es|ed|ing)|bump(?:s|ed|ing)?|"
    r"from)\b",
    re.IGNORECASE,
)
# amounts that vary between two values, not one that changed into the other
_RANGE_LEAD = re.compile(
    r"\b(?:swing(?:s|ing)?|swung|rang(?:e|es|ing)|var(?:y|ies|ied|ying)|fluctuat\w*|"
    r"bounc(?:e|es|ing)|anywhere|somewhere|between|roughly from|runs? from|goes from \w+ months?)"
    r"\b[\w\s'’]{0,12}(?:from\s*)?$",
    re.IGNORECASE,
)
_OLD_CLAUSE = re.compile(r"\b(?:was|were|used to|had been|last year|before)\b", re.IGNORECASE)
_NEW_CLAUSE = re.compile(
    r"\b(?:now|going to|will be|next year|starting|new|wants?|raising|raised)\b", re.IGNORECASE
)
MONEY = {"usd", MONTHLY, "usd_per_year"}
_PAY = re.compile(r"\b(?:salary|pay|income|wages?|earn\w*|make|making)\b", re.IGNORECASE)


def _pair(a: StatedFact, b: StatedFact) -> tuple[StatedFact, StatedFact] | None:
    """(before, after) when a turn's two neighbouring amounts `a` then `b` state a change."""
    if a.unit not in MONEY or b.unit not in MONEY or a.turn != b.turn or b.start - a.end > 60:
        return None
    if a.evidence == b.evidence:
        clause = a.evidence
        i = clause.find(a.text)
        j = clause.find(b.text, i + len(a.text)) if i >= 0 else -1
        if j < 0:
            return None
        between = clause[i + len(a.text) : j]
        lead = clause[max(0, i - 40) : i]
        if _RANGE_LEAD.search(lead):  # "swings from $2,500 to $11,000 a month"
            return None
        if _TO.match(between) and (_FROM_BEFORE.search(lead) or _CHANGE_WORD.search(lead)):
            return a, b
        if _UP_FROM.match(between) and _CHANGE_WORD.search(clause[:i] + between):
            return b, a
        if _NOW.match(between) and _WAS_BEFORE.search(lead):
            return a, b
        return None
    # "Rent was $1,850 but now the landlord wants $2,100": two clauses
    if _OLD_CLAUSE.search(a.evidence) and _NEW_CLAUSE.search(b.evidence[: b.evidence.find(b.text)]):
        return a, b
    return None


def _times_a_year(before: StatedFact, after: StatedFact) -> float:
    units = {before.unit, after.unit}
    if MONTHLY in units:
        return 12.0
    if "usd_per_year" in units or (
        before.value >= 10_000 and (before.kind == "income" or _PAY.search(before.evidence))
    ):
        return 1.0  # a salary said bare ("from $80k to $65k") is yearly
    return 0.0


def stated_changes(facts: Sequence[StatedFact]) -> list[tuple[StatedFact, StatedFact]]:
    """(before, after) pairs of amounts the client said changed, in the order stated."""
    out = []
    for a, b in zip(facts, facts[1:], strict=False):
        pair = _pair(a, b)
        if pair is not None and pair[0].value > 0 and pair[0].value != pair[1].value:
            out.append(pair)
    return out


def numbers_block(facts: Sequence[StatedFact]) -> list[CalculationUse]:
    """Calculations from the client's own figures, newest facts first (figures the client
    only echoed from Elena are not theirs). A stated change comes first (what it comes to
    a month, as a share and over a year); its old amount is no longer a current figure, so
    no other calculation uses it."""
    facts = [f for f in facts if not f.echo]
    out: list[CalculationUse] = []
    changes = stated_changes(facts)
    if changes:
        newest = changes[-1][0].turn  # every change that turn states, in the order stated
        for before, after in (c for c in changes if c[0].turn == newest):
            calc = calculate(
                "change_of",
                before=before.value,
                after=after.value,
                times_a_year=_times_a_year(before, after),
            )
            out.append(_use(calc, {"before": before, "after": after}))
        # the old amount, here or said again later ("how long before $190 is gone?"), is
        # not a balance or a cost of today
        old = {id(b) for b, _ in changes}
        gone = {b.value for b, _ in changes} - {a.value for _, a in changes}
        facts = [
            f for f in facts if id(f) not in old and not (f.kind == "amount" and f.value in gone)
        ]
    money_units = {"usd"}
    savings = _latest(facts, {"savings", "windfall"}, money_units) or _latest(
        facts, {"amount"}, money_units
    )
    cost = _latest(facts, {"cost"}, {MONTHLY})
    income = _latest(facts, {"income"}, {MONTHLY, "usd_per_year"})
    debt = _latest(facts, {"debt", "tax_due"}, money_units)
    rate = _latest(facts, {"rate"}, {"percent"})
    payment = _latest(facts, {"payment"}, {MONTHLY})
    loss = _latest(facts, {"loss"}, money_units)
    gain = _latest(facts, {"gain"}, money_units)

    # pay that still comes in and covers the cost: no runway to speak of ("rent went up to
    # $1,325 and I take home $2,900"); pay that was ("I was making $5,000") is not coming in
    covered = (
        income is not None
        and income.unit in {MONTHLY, "usd_per_year"}
        and cost is not None
        and _monthly(income) >= cost.value
        and not _OLD_CLAUSE.search(income.evidence)
    )
    if savings and cost and not covered:
        sources = {"savings": savings, "monthly_costs": cost}
        monthly_income = 0.0
        if income and _monthly(income) < cost.value:
            monthly_income = round(_monthly(income), 2)
            sources["monthly_income"] = income
        calc = calculate(
            "months_of_runway",
            savings=savings.value,
            monthly_costs=cost.value,
            monthly_income=monthly_income,
        )
        out.append(_use(calc, sources))
    elif income and cost and income.unit == MONTHLY and not _one_bill(cost):
        calc = calculate("monthly_gap", monthly_income=income.value, monthly_costs=cost.value)
        out.append(_use(calc, {"monthly_income": income, "monthly_costs": cost}))
    if debt and rate and debt.kind == "debt" and rate.turn == debt.turn:
        if payment and payment.turn >= debt.turn and payment.value > 0:
            calc = calculate(
                "debt_payoff",
                balance=debt.value,
                apr_percent=rate.value,
                monthly_payment=payment.value,
            )
            sources = {"balance": debt, "apr_percent": rate, "monthly_payment": payment}
            out.append(_use(calc, sources))
        elif debt.value <= 60_000 and not _HOME.search(debt.evidence):
            # what clearing it in three years takes (not for a mortgage)
            calc = calculate(
                "payment_to_payoff", balance=debt.value, apr_percent=rate.value, months=36
            )
            out.append(_use(calc, {"balance": debt, "apr_percent": rate}))
    if payment and not out and payment.value > 0:
        # money sent or paid each month, seen over a year (when nothing else is worked out)
        calc = calculate("yearly_total", monthly_amount=payment.value)
        out.append(_use(calc, {"monthly_amount": payment}))
    if loss:
        gains = gain.value if gain else 0.0
        calc = calculate("capital_loss_offset", gains=gains, losses=loss.value)
        out.append(_use(calc, {"losses": loss, **({"gains": gain} if gain else {})}))
    if (
        cost
        and not savings
        and cost.kind == "cost"
        and _LIVING.search(cost.evidence)
        and not _one_bill(cost)
    ):
        calc = calculate("emergency_fund_target", monthly_expenses=cost.value)
        out.append(_use(calc, {"monthly_expenses": cost}))
    if savings and not cost and savings.kind == "savings":
        # how many months of expenses the savings are, when the client stated their costs
        pass
    if cost and income and income.unit == MONTHLY and 0 < cost.value < income.value:
        calc = calculate("share_of", part=cost.value, whole=income.value)
        out.append(_use(calc, {"part": cost, "whole": income}))
    balances = list({f.value: f for f in facts if f.kind == "savings" and f.unit == "usd"}.values())
    if len(balances) >= 2:
        named = ("first", "second", "third", "fourth")
        chosen = balances[-4:]
        calc = calculate("total_of", **{n: f.value for n, f in zip(named, chosen, strict=False)})
        out.append(_use(calc, dict(zip(named, chosen, strict=False))))
    salary = _latest(facts, {"income"}, {"usd_per_year"})
    cap = next(
        (f for f in reversed(facts) if f.kind == "rate" and "match" in f.evidence.lower()), None
    )
    if salary and cap:
        cents = re.search(r"(\d+)\s*cents", cap.evidence)
        rate = (
            100.0
            if "dollar for dollar" in cap.evidence.lower()
            else (float(cents.group(1)) if cents else None)
        )
        if rate:
            calc = calculate(
                "employer_match",
                salary=salary.value,
                match_rate_percent=rate,
                match_cap_percent_of_pay=cap.value,
            )
            out.append(_use(calc, {"salary": salary, "match_cap_percent_of_pay": cap}))
    claim = [f for f in facts if f.unit == MONTHLY and f.kind == "income"]
    ages = [f for f in facts if f.unit == "age"]
    if len(claim) >= 2 and len(ages) >= 2:
        early, late = claim[-2], claim[-1]
        a_early, a_late = sorted((ages[-2], ages[-1]), key=lambda f: f.value)
        if late.value > early.value and a_late.value > a_early.value:
            calc = calculate(
                "social_security_break_even",
                monthly_early=early.value,
                age_early=a_early.value,
                monthly_late=late.value,
                age_late=a_late.value,
            )
            out.append(
                _use(
                    calc,
                    {
                        "monthly_early": early,
                        "age_early": a_early,
                        "monthly_late": late,
                        "age_late": a_late,
                    },
                )
            )
    return out
