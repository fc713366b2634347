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


def numbers_block(facts: Sequence[StatedFact]) -> list[CalculationUse]:
    """Calculations from the client's own figures, newest facts first (figures the client
    only echoed from Elena are not theirs)."""
    facts = [f for f in facts if not f.echo]
    out: list[CalculationUse] = []
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

    if savings and cost:
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
    elif income and cost and income.unit == MONTHLY:
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
    if loss:
        gains = gain.value if gain else 0.0
        calc = calculate("capital_loss_offset", gains=gains, losses=loss.value)
        out.append(_use(calc, {"losses": loss, **({"gains": gain} if gain else {})}))
    if cost and not savings and cost.kind == "cost" and _LIVING.search(cost.evidence):
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
