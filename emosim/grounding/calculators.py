"""Small pure calculators Elena uses as tools, and the formatting every summary shares.

Each calculator takes plain numbers and returns a `Calculation`: its registry name, the inputs
it was called with (every argument, defaults included, so that `recompute` can re-run it), its
outputs and a one-line summary with the figures written the way a planner says them.

Outputs are finite floats only (records are JSON): an outcome that never arrives is an explicit
flag output instead of an infinity, e.g. `months_of_runway` returns `{"indefinite": 1.0, ...}`
and no `months` when income covers costs, and `debt_payoff` returns `{"pays_off": 0.0, ...}`
and no `months` when the payment does not cover the interest. Flags are 1.0 (yes) or 0.0 (no).

Conventions (stated so a checker and a reader agree):
- APRs and growth rates are annual percentages (22 means 22%), applied monthly (rate / 12).
- Payments and contributions are made at the end of each month.
- Money is US dollars; summaries round to whole dollars.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

# The capital-loss deduction cap against ordinary income (fact `capital_loss_deduction_cap`
# in facts/us-2026.yaml; $1,500 when married filing separately). A test keeps them equal.
CAPITAL_LOSS_CAP = 3000.0


class Calculation(BaseModel):
    """One calculator call: enough to show the figures and to re-run and compare them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Calculator name: a key of CALCULATORS.")
    inputs: dict[str, float] = Field(
        description="Every argument the calculator was called with, by parameter name."
    )
    outputs: dict[str, float] = Field(
        description="Results by name; flags are 1.0 (yes) or 0.0 (no); never infinite."
    )
    summary: str = Field(
        description="One plain-English sentence with the figures as a planner would say them."
    )


# --- formatting ------------------------------------------------------------------------------


def money(x: float, cents: bool = False) -> str:
    """`$1,400`; `-$250`; `$12.50` with cents=True. Rounds half up to whole dollars."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    if cents:
        return f"{sign}${x:,.2f}"
    return f"{sign}${int(math.floor(x + 0.5)):,}"


def percent(x: float, places: int = 2) -> str:
    """A percentage given as a percent number, trailing zeros dropped: 7.5 -> `7.5%`,
    22.0 -> `22%`, 6.25 -> `6.25%`, 4.333 -> `4.33%`."""
    text = f"{x:.{places}f}".rstrip("0").rstrip(".") if places else f"{x:.0f}"
    return f"{'0' if text in ('-0', '') else text}%"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def months(x: float) -> str:
    """`24 months` when whole, `about 24 months` when rounded, `less than a month` below 0.5."""
    if x < 0.5:
        return "less than a month"
    n = int(math.floor(x + 0.5))
    text = _plural(n, "month")
    return text if abs(x - n) < 1e-9 else f"about {text}"


def years(x: float) -> str:
    """`30 years`, `about 2.5 years` (halves are kept: people say 'two and a half years')."""
    half = math.floor(x * 2 + 0.5) / 2
    whole = half == int(half)
    text = _plural(int(half), "year") if whole else f"{half:g} years"
    return text if abs(x - half) < 1e-9 else f"about {text}"


def duration(n_months: float) -> str:
    """Months up to three years, then years with the months: `about 5 years (61 months)`."""
    if n_months <= 36:
        return months(n_months)
    return f"{years(n_months / 12)} ({_plural(math.ceil(n_months - 1e-9), 'month')})"


def age(x: float) -> str:
    """`age 80` when whole, else `about age 80`."""
    n = int(math.floor(x + 0.5))
    return f"age {n}" if abs(x - n) < 1e-9 else f"about age {n}"


# --- calculators -----------------------------------------------------------------------------


def _calc(
    name: str, inputs: dict[str, float], outputs: dict[str, float], summary: str
) -> Calculation:
    return Calculation(
        name=name,
        inputs={k: float(v) for k, v in inputs.items()},
        outputs={k: float(v) for k, v in outputs.items()},
        summary=summary,
    )


def _check_nonnegative(**values: float) -> None:
    for key, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number, got {value!r}")
        if value < 0:
            raise ValueError(f"{key} must not be negative, got {value!r}")


def monthly_gap(monthly_income: float, monthly_costs: float) -> Calculation:
    """Costs minus income: positive is a shortfall, negative a surplus."""
    _check_nonnegative(monthly_income=monthly_income, monthly_costs=monthly_costs)
    gap = monthly_costs - monthly_income
    if gap > 0:
        summary = (
            f"Costs of {money(monthly_costs)} against income of {money(monthly_income)} leave a "
            f"{money(gap)} monthly gap, about {money(gap * 12)} a year"
        )
    elif gap < 0:
        summary = (
            f"Income of {money(monthly_income)} covers costs of {money(monthly_costs)} with "
            f"{money(-gap)} a month to spare"
        )
    else:
        summary = f"Income and costs match at {money(monthly_costs)} a month, with nothing to spare"
    return _calc(
        "monthly_gap",
        {"monthly_income": monthly_income, "monthly_costs": monthly_costs},
        {"monthly_gap": gap, "annual_gap": gap * 12},
        summary,
    )


def months_of_runway(
    savings: float, monthly_costs: float, monthly_income: float = 0.0
) -> Calculation:
    """How many months savings cover the gap between costs and income.

    When income covers costs the savings are not drawn down: outputs `indefinite: 1.0` and no
    `months`.
    """
    _check_nonnegative(savings=savings, monthly_costs=monthly_costs, monthly_income=monthly_income)
    inputs = {
        "savings": savings,
        "monthly_costs": monthly_costs,
        "monthly_income": monthly_income,
    }
    gap = monthly_costs - monthly_income
    if gap <= 0:
        summary = (
            f"Income of {money(monthly_income)} covers costs of {money(monthly_costs)} a month, "
            f"so the {money(savings)} in savings is not being drawn down"
        )
        return _calc("months_of_runway", inputs, {"monthly_gap": gap, "indefinite": 1.0}, summary)
    n = savings / gap
    summary = f"{money(savings)} covers {months(n)} of a {money(gap)} monthly gap"
    if n > 36:
        summary = f"{money(savings)} covers {duration(n)} of a {money(gap)} monthly gap"
    return _calc(
        "months_of_runway",
        inputs,
        {"monthly_gap": gap, "months": n, "years": n / 12, "indefinite": 0.0},
        summary,
    )


def _amortized_months(balance: float, rate: float, payment: float) -> float:
    """Exact (fractional) number of end-of-month payments that clear `balance`."""
    if rate == 0:
        return balance / payment
    return -math.log(1 - rate * balance / payment) / math.log(1 + rate)


def debt_payoff(balance: float, apr_percent: float, monthly_payment: float) -> Calculation:
    """Months to pay off a balance at an APR with a fixed monthly payment, and the interest paid.

    `months` is the number of payments (the last one smaller); `total_interest` is exact for
    that schedule (no rounding to cents). When the payment does not cover the first month's
    interest the debt never pays off: outputs `pays_off: 0.0` and the monthly interest.
    """
    _check_nonnegative(balance=balance, apr_percent=apr_percent, monthly_payment=monthly_payment)
    inputs = {"balance": balance, "apr_percent": apr_percent, "monthly_payment": monthly_payment}
    r = apr_percent / 1200
    interest = balance * r
    if balance == 0:
        return _calc(
            "debt_payoff",
            inputs,
            {"pays_off": 1.0, "months": 0.0, "total_interest": 0.0, "total_paid": 0.0},
            "There is no balance left to pay off",
        )
    if monthly_payment <= interest:
        summary = (
            f"At {percent(apr_percent)} APR, {money(balance)} builds about {money(interest)} of "
            f"interest a month, so a {money(monthly_payment)} payment never pays it off"
        )
        return _calc(
            "debt_payoff",
            inputs,
            {"pays_off": 0.0, "monthly_interest": interest},
            summary,
        )
    exact = _amortized_months(balance, r, monthly_payment)
    n = math.ceil(exact - 1e-9)
    full = n - 1  # full payments before the last, smaller one
    grow = (1 + r) ** full
    remaining = balance * grow - (monthly_payment * (grow - 1) / r if r else monthly_payment * full)
    total_paid = full * monthly_payment + remaining * (1 + r)
    total_interest = total_paid - balance
    cost = f"about {money(total_interest)} of interest" if r else "no interest"
    summary = (
        f"Paying {money(monthly_payment)} a month on {money(balance)} at {percent(apr_percent)} "
        f"APR clears it in {duration(n)}, with {cost}"
    )
    return _calc(
        "debt_payoff",
        inputs,
        {
            "pays_off": 1.0,
            "months": float(n),
            "total_interest": total_interest,
            "total_paid": total_paid,
        },
        summary,
    )


def payment_to_payoff(balance: float, apr_percent: float, months: float) -> Calculation:
    """The level monthly payment that clears a balance in `months` payments at an APR."""
    _check_nonnegative(balance=balance, apr_percent=apr_percent, months=months)
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months!r}")
    r = apr_percent / 1200
    payment = balance / months if r == 0 else balance * r / (1 - (1 + r) ** -months)
    total_interest = payment * months - balance
    summary = (
        f"Clearing {money(balance)} at {percent(apr_percent)} APR over "
        f"{duration(months)} would take about {money(payment)} a month, with about "
        f"{money(total_interest)} of interest"
    )
    return _calc(
        "payment_to_payoff",
        {"balance": balance, "apr_percent": apr_percent, "months": months},
        {
            "monthly_payment": payment,
            "total_interest": total_interest,
            "total_paid": payment * months,
        },
        summary,
    )


def compound_growth(
    principal: float,
    annual_rate_percent: float,
    years: float,
    monthly_contribution: float = 0.0,
) -> Calculation:
    """Future value with monthly compounding (rate / 12) and end-of-month contributions.

    FV = P(1+i)^n + C((1+i)^n - 1)/i with i = rate/1200 and n = years x 12 (rounded to whole
    months). A negative rate is allowed (a loss); the amount can't go below zero.
    """
    _check_nonnegative(principal=principal, years=years, monthly_contribution=monthly_contribution)
    if not math.isfinite(annual_rate_percent) or annual_rate_percent <= -100:
        raise ValueError(f"annual_rate_percent must be above -100, got {annual_rate_percent!r}")
    i = annual_rate_percent / 1200
    n = round(years * 12)
    grow = (1 + i) ** n
    fv = principal * grow + (
        monthly_contribution * (grow - 1) / i if i else monthly_contribution * n
    )
    contributed = principal + monthly_contribution * n
    span = _years_text(years)
    if monthly_contribution:
        start = (
            f"{money(principal)} plus {money(monthly_contribution)} a month"
            if principal
            else f"{money(monthly_contribution)} a month"
        )
    else:
        start = money(principal)
    summary = (
        f"{start} growing at {percent(annual_rate_percent)} a year comes to about {money(fv)} "
        f"after {span}, of which {money(contributed)} is money put in"
    )
    return _calc(
        "compound_growth",
        {
            "principal": principal,
            "annual_rate_percent": annual_rate_percent,
            "years": years,
            "monthly_contribution": monthly_contribution,
        },
        {"future_value": fv, "total_contributions": contributed, "growth": fv - contributed},
        summary,
    )


def _years_text(x: float) -> str:
    return _plural(int(x), "year") if x == int(x) else f"{x:g} years"


def emergency_fund_target(
    monthly_expenses: float, months_low: float = 3, months_high: float = 6
) -> Calculation:
    """The emergency-fund range: `months_low` to `months_high` months of essential expenses."""
    _check_nonnegative(
        monthly_expenses=monthly_expenses, months_low=months_low, months_high=months_high
    )
    if months_high < months_low:
        raise ValueError(f"months_high ({months_high}) is below months_low ({months_low})")
    low, high = monthly_expenses * months_low, monthly_expenses * months_high
    summary = (
        f"{_plural_num(months_low)} to {_plural_num(months_high)} months of "
        f"{money(monthly_expenses)} in monthly expenses is {money(low)} to {money(high)}"
    )
    return _calc(
        "emergency_fund_target",
        {
            "monthly_expenses": monthly_expenses,
            "months_low": months_low,
            "months_high": months_high,
        },
        {"target_low": low, "target_high": high},
        summary,
    )


def _plural_num(x: float) -> str:
    return f"{x:g}"


def employer_match(
    salary: float,
    match_rate_percent: float,
    match_cap_percent_of_pay: float,
    contribution_percent_of_pay: float | None = None,
) -> Calculation:
    """An employer match of `match_rate_percent` of contributions up to a share of pay.

    E.g. 50% of what you put in up to 6% of pay: contributing 6% of a $60,000 salary ($3,600)
    brings $1,800 of match. With `contribution_percent_of_pay` also the match actually received
    and the match left on the table.
    """
    _check_nonnegative(
        salary=salary,
        match_rate_percent=match_rate_percent,
        match_cap_percent_of_pay=match_cap_percent_of_pay,
    )
    needed = salary * match_cap_percent_of_pay / 100
    full = needed * match_rate_percent / 100
    inputs = {
        "salary": salary,
        "match_rate_percent": match_rate_percent,
        "match_cap_percent_of_pay": match_cap_percent_of_pay,
    }
    outputs = {"contribution_for_full_match": needed, "full_match": full}
    summary = (
        f"Putting in {percent(match_cap_percent_of_pay)} of a {money(salary)} salary "
        f"({money(needed)} a year) brings the full {money(full)} employer match"
    )
    if contribution_percent_of_pay is not None:
        _check_nonnegative(contribution_percent_of_pay=contribution_percent_of_pay)
        inputs["contribution_percent_of_pay"] = contribution_percent_of_pay
        own = salary * contribution_percent_of_pay / 100
        got = min(own, needed) * match_rate_percent / 100
        outputs.update({"contribution": own, "match": got, "match_missed": full - got})
        if got < full:
            summary = (
                f"Putting in {percent(contribution_percent_of_pay)} of a {money(salary)} salary "
                f"brings {money(got)} of employer match; {percent(match_cap_percent_of_pay)} "
                f"would bring the full {money(full)}, {money(full - got)} more a year"
            )
    return _calc("employer_match", inputs, outputs, summary)


def capital_loss_offset(
    gains: float, losses: float, ordinary_cap: float = CAPITAL_LOSS_CAP
) -> Calculation:
    """Capital losses offset gains in full; a net loss is deductible against ordinary income up
    to `ordinary_cap` a year ($3,000; $1,500 married filing separately) and the rest carries
    forward to later years."""
    _check_nonnegative(gains=gains, losses=losses, ordinary_cap=ordinary_cap)
    net = gains - losses
    inputs = {"gains": gains, "losses": losses, "ordinary_cap": ordinary_cap}
    if net >= 0:
        summary = (
            f"{money(losses)} of losses offsets {money(losses)} of the {money(gains)} in gains, "
            f"leaving {money(net)} of net gain"
        )
        if losses == 0:
            summary = f"With no losses, all {money(gains)} of gains is a net gain"
        return _calc(
            "capital_loss_offset",
            inputs,
            {
                "net_gain": net,
                "offset_against_gains": losses,
                "deductible_now": 0.0,
                "carryforward": 0.0,
            },
            summary,
        )
    loss = -net
    deductible = min(loss, ordinary_cap)
    carry = loss - deductible
    parts = []
    if gains:
        parts.append(f"{money(losses)} of losses wipes out {money(gains)} of gains")
        lead = f"{', '.join(parts)}; of the {money(loss)} net loss, "
    else:
        lead = f"Of {money(loss)} in net losses, "
    summary = f"{lead}{money(deductible)} can be deducted against other income this year"
    summary += f" and {money(carry)} carries forward" if carry else " and nothing carries forward"
    summary = summary[0].upper() + summary[1:]
    return _calc(
        "capital_loss_offset",
        inputs,
        {
            "net_gain": 0.0,
            "offset_against_gains": gains,
            "deductible_now": deductible,
            "carryforward": carry,
        },
        summary,
    )


def social_security_break_even(
    monthly_early: float, age_early: float, monthly_late: float, age_late: float
) -> Calculation:
    """The age at which waiting for the larger benefit has paid out as much in total.

    Undiscounted and without cost-of-living adjustments (COLAs raise both choices alike):
    cumulative early = monthly_early x 12 x (age - age_early), late likewise; break-even where
    they meet. When the later benefit is not larger there is no break-even (`has_break_even: 0`).
    """
    _check_nonnegative(
        monthly_early=monthly_early,
        age_early=age_early,
        monthly_late=monthly_late,
        age_late=age_late,
    )
    if age_late <= age_early:
        raise ValueError(f"age_late ({age_late}) must be after age_early ({age_early})")
    inputs = {
        "monthly_early": monthly_early,
        "age_early": age_early,
        "monthly_late": monthly_late,
        "age_late": age_late,
    }
    if monthly_late <= monthly_early:
        summary = (
            f"Waiting from {age(age_early)} to {age(age_late)} does not raise the "
            f"{money(monthly_early)} monthly benefit, so waiting never catches up"
        )
        return _calc("social_security_break_even", inputs, {"has_break_even": 0.0}, summary)
    be = (monthly_late * age_late - monthly_early * age_early) / (monthly_late - monthly_early)
    forgone = monthly_early * 12 * (age_late - age_early)
    summary = (
        f"Taking {money(monthly_late)} a month at {age(age_late).removeprefix('age ')} instead of "
        f"{money(monthly_early)} at {age(age_early).removeprefix('age ')} catches up in total "
        f"payments around age {math.floor(be + 0.5)}"
    )
    return _calc(
        "social_security_break_even",
        inputs,
        {
            "has_break_even": 1.0,
            "break_even_age": be,
            "months_after_late_start": (be - age_late) * 12,
            "benefits_forgone_while_waiting": forgone,
        },
        summary,
    )


def simple_break_even(upfront_cost: float, monthly_saving: float) -> Calculation:
    """Months until a monthly saving repays an upfront cost (e.g. refinancing, a fee to switch).

    A saving of zero never breaks even (`has_break_even: 0`).
    """
    _check_nonnegative(upfront_cost=upfront_cost, monthly_saving=monthly_saving)
    inputs = {"upfront_cost": upfront_cost, "monthly_saving": monthly_saving}
    if monthly_saving == 0:
        return _calc(
            "simple_break_even",
            inputs,
            {"has_break_even": 0.0},
            f"With no monthly saving, the {money(upfront_cost)} cost is never earned back",
        )
    n = upfront_cost / monthly_saving
    summary = (
        f"Saving {money(monthly_saving)} a month earns back the {money(upfront_cost)} cost "
        f"in {duration(n)}"
    )
    return _calc(
        "simple_break_even", inputs, {"has_break_even": 1.0, "months": n, "years": n / 12}, summary
    )


def _said_percent(x: float) -> float:
    """A percentage as a planner says it: whole from 10% up, one decimal below."""
    return float(math.floor(x + 0.5)) if x >= 10 else math.floor(x * 10 + 0.5) / 10


def change_of(before: float, after: float, times_a_year: float = 12.0) -> Calculation:
    """What a stated change comes to: a premium, rent, payment or paycheck going from one
    amount to another. The difference, the change as a share of the old amount (said
    rounded: whole from 10% up), and the difference over a year (`times_a_year` 12 for a
    monthly amount, 1 for a yearly one, 0 for a one-off price), with the monthly difference
    of a yearly amount."""
    _check_nonnegative(before=before, after=after, times_a_year=times_a_year)
    if before == 0:
        raise ValueError("before must be above 0")
    if times_a_year not in (0, 1, 12):
        raise ValueError(f"times_a_year must be 12, 1 or 0, got {times_a_year!r}")
    inputs = {"before": before, "after": after, "times_a_year": times_a_year}
    difference = abs(after - before)
    share = _said_percent(difference / before * 100)
    more = after > before
    word = "more" if more else "less"
    outputs = {"difference": difference, "percent_change": share, "has_risen": float(more)}
    period = {12.0: " a month", 1.0: " a year"}.get(float(times_a_year), "")
    exact = difference / before * 100
    about = "" if abs(exact - share) < 1e-9 else "about "
    move = "a rise" if more else "a drop"
    summary = (
        f"going from {money(before)} to {money(after)}{period} is {money(difference)} "
        f"{word}{period}, {move} of {about}{percent(share, 1)}"
    )
    if times_a_year == 12:
        outputs["yearly_difference"] = difference * 12
        summary += f", or {money(difference * 12)} {word} over a year"
    elif times_a_year == 1:
        outputs["monthly_difference"] = difference / 12
        summary += f", or about {money(difference / 12)} {word} a month"
    return _calc("change_of", inputs, outputs, summary[:1].upper() + summary[1:])


def yearly_total(monthly_amount: float) -> Calculation:
    """What a monthly amount comes to over a year ("$1,200 a month is $14,400 a year"):
    money sent home or paid each month, seen whole."""
    _check_nonnegative(monthly_amount=monthly_amount)
    yearly = monthly_amount * 12
    summary = f"{money(monthly_amount)} a month comes to {money(yearly)} over a year"
    return _calc("yearly_total", {"monthly_amount": monthly_amount}, {"total": yearly}, summary)


# --- registry and re-checking ----------------------------------------------------------------


def share_of(part: float, whole: float) -> Calculation:
    """What share one amount is of another ("$1,640 is about 41% of $4,000")."""
    _check_nonnegative(part=part, whole=whole)
    if whole == 0:
        raise ValueError("whole must be above 0")
    share = part / whole * 100
    summary = f"{money(part)} is about {percent(round(share))} of {money(whole)}"
    return _calc("share_of", {"part": part, "whole": whole}, {"share_percent": share}, summary)


def total_of(first: float, second: float, third: float = 0.0, fourth: float = 0.0) -> Calculation:
    """Two to four amounts added up ("together that's about $452,000")."""
    _check_nonnegative(first=first, second=second, third=third, fourth=fourth)
    amounts = [a for a in (first, second, third, fourth) if a]
    total = sum(amounts)
    summary = f"{' plus '.join(money(a) for a in amounts)} comes to {money(total)} together"
    return _calc(
        "total_of",
        {"first": first, "second": second, "third": third, "fourth": fourth},
        {"total": total},
        summary,
    )


CALCULATORS: dict[str, Callable[..., Calculation]] = {
    "months_of_runway": months_of_runway,
    "monthly_gap": monthly_gap,
    "debt_payoff": debt_payoff,
    "payment_to_payoff": payment_to_payoff,
    "compound_growth": compound_growth,
    "emergency_fund_target": emergency_fund_target,
    "employer_match": employer_match,
    "capital_loss_offset": capital_loss_offset,
    "social_security_break_even": social_security_break_even,
    "simple_break_even": simple_break_even,
    "share_of": share_of,
    "total_of": total_of,
    "change_of": change_of,
    "yearly_total": yearly_total,
}


def calculate(name: str, **inputs: float) -> Calculation:
    """Run a calculator by registry name (what a tool call names). Unknown names, missing or
    unexpected arguments and non-numbers are ValueErrors that say what was expected."""
    try:
        fn = CALCULATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown calculator {name!r} (expected one of: {', '.join(sorted(CALCULATORS))})"
        ) from None
    params = inspect.signature(fn).parameters
    missing = [p for p, spec in params.items() if spec.default is spec.empty and p not in inputs]
    extra = [k for k in inputs if k not in params]
    if missing or extra:
        raise ValueError(
            f"{name}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            + f" (parameters: {', '.join(params)})"
        )
    for key, value in inputs.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name}: {key} must be a number, got {value!r}")
    return fn(**inputs)


# What each parameter means, for tool definitions (LLM tool use) and documentation.
PARAMETERS: dict[str, str] = {
    "part": "The amount whose share is wanted, in dollars.",
    "whole": "The amount it is a share of, in dollars.",
    "first": "An amount to add, in dollars.",
    "second": "An amount to add, in dollars.",
    "third": "An amount to add, in dollars (0 when there are only two).",
    "fourth": "An amount to add, in dollars (0 when there are fewer).",
    "savings": "Savings available to draw on, in dollars.",
    "monthly_costs": "Monthly costs, in dollars.",
    "monthly_income": "Monthly income that keeps coming in (e.g. Social Security), in dollars.",
    "balance": "Amount owed, in dollars.",
    "apr_percent": "Annual percentage rate as a percent (22 means 22%).",
    "monthly_payment": "Fixed payment made each month, in dollars.",
    "months": "Number of monthly payments.",
    "principal": "Amount invested at the start, in dollars.",
    "annual_rate_percent": "Expected yearly growth rate as a percent (7 means 7%).",
    "years": "Number of years.",
    "monthly_contribution": "Amount added at the end of each month, in dollars.",
    "monthly_expenses": "Essential monthly expenses, in dollars.",
    "months_low": "Months of expenses at the low end of the target.",
    "months_high": "Months of expenses at the high end of the target.",
    "salary": "Yearly salary, in dollars.",
    "match_rate_percent": "Employer match as a percent of what the employee puts in (50 = 50 cents per dollar).",
    "match_cap_percent_of_pay": "Share of pay the employer matches up to, as a percent (6 = 6% of pay).",
    "contribution_percent_of_pay": "Share of pay the employee puts in now, as a percent.",
    "gains": "Capital gains realized this year, in dollars.",
    "losses": "Capital losses realized this year (including any carried in), in dollars.",
    "ordinary_cap": "Yearly limit on net capital loss deductible against other income, in dollars (3000; 1500 married filing separately).",
    "monthly_early": "Monthly benefit if claimed at the earlier age, in dollars.",
    "age_early": "The earlier claiming age, in years.",
    "monthly_late": "Monthly benefit if claimed at the later age, in dollars.",
    "age_late": "The later claiming age, in years.",
    "upfront_cost": "One-time cost paid now, in dollars.",
    "before": "The amount before the change (the old premium, rent, payment or pay), in dollars.",
    "after": "The amount after the change, in dollars.",
    "monthly_amount": "An amount paid or sent each month, in dollars.",
    "times_a_year": "How often the amount is paid: 12 monthly, 1 yearly, 0 a one-off price.",
    "monthly_saving": "Amount saved each month because of it, in dollars.",
}


def tool_definitions(names: list[str] | None = None) -> list[dict]:
    """Calculators as tool definitions (name, description, JSON Schema `input_schema`), the
    shape the Anthropic Messages API and LangChain's tool binding take."""
    tools = []
    for name in names or list(CALCULATORS):
        fn = CALCULATORS[name]
        params = inspect.signature(fn).parameters
        doc = inspect.getdoc(fn) or name
        tools.append(
            {
                "name": name,
                "description": " ".join(doc.split("\n\n")[0].split()),
                "input_schema": {
                    "type": "object",
                    "properties": {
                        p: {"type": "number", "description": PARAMETERS[p]} for p in params
                    },
                    "required": [p for p, spec in params.items() if spec.default is spec.empty],
                    "additionalProperties": False,
                },
            }
        )
    return tools


def recompute(calculation: Calculation) -> Calculation:
    """Re-run a recorded calculation from its name and inputs."""
    return calculate(calculation.name, **calculation.inputs)


def mismatches(
    calculation: Calculation, rel_tol: float = 1e-6, abs_tol: float = 0.005
) -> list[str]:
    """What a recorded calculation got wrong: one line per output that differs on re-running
    (missing, extra or different beyond the tolerance); empty when it checks out."""
    fresh = recompute(calculation)
    out = []
    for key in sorted(set(fresh.outputs) | set(calculation.outputs)):
        want, got = fresh.outputs.get(key), calculation.outputs.get(key)
        if want is None:
            out.append(f"{calculation.name}: output {key!r} is not an output of the calculator")
        elif got is None:
            out.append(f"{calculation.name}: output {key!r} is missing (expected {want:g})")
        elif not math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol):
            out.append(f"{calculation.name}: output {key!r} is {got:g}, expected {want:g}")
    return out
