"""Calculators against worked examples (by hand or the standard amortization formulas)."""

from __future__ import annotations

import json
import math

import pytest

from emosim.grounding.calculators import (
    CALCULATORS,
    Calculation,
    calculate,
    capital_loss_offset,
    change_of,
    compound_growth,
    debt_payoff,
    emergency_fund_target,
    employer_match,
    mismatches,
    money,
    monthly_gap,
    months,
    months_of_runway,
    payment_to_payoff,
    percent,
    recompute,
    simple_break_even,
    social_security_break_even,
    yearly_total,
    years,
)


def _simulate(balance: float, apr: float, payment: float) -> tuple[int, float]:
    """Month by month: interest accrues, then the payment (the last one only what is owed)."""
    r = apr / 1200
    n, interest = 0, 0.0
    while balance > 1e-9:
        charge = balance * r
        interest += charge
        balance = balance + charge - min(payment, balance + charge)
        n += 1
        assert n < 10_000
    return n, interest


# --- formatting ------------------------------------------------------------------------------


def test_money() -> None:
    assert money(1400) == "$1,400"
    assert money(180000.0) == "$180,000"
    assert money(1399.5) == "$1,400"
    assert money(0.4) == "$0"
    assert money(-250) == "-$250"
    assert money(12.5, cents=True) == "$12.50"
    assert money(1234567.891, cents=True) == "$1,234,567.89"


def test_percent() -> None:
    assert percent(7.5) == "7.5%"
    assert percent(22.0) == "22%"
    assert percent(6.25) == "6.25%"
    assert percent(8) == "8%"
    assert percent(0) == "0%"
    assert percent(4.3333) == "4.33%"


def test_months_and_years() -> None:
    assert months(24) == "24 months"
    assert months(23.99) == "about 24 months"
    assert months(1) == "1 month"
    assert months(0.2) == "less than a month"
    assert years(30) == "30 years"
    assert years(2.5) == "2.5 years"
    assert years(2.4) == "about 2.5 years"
    assert years(1) == "1 year"


# --- runway and gap --------------------------------------------------------------------------


def test_runway_worked_example_from_the_issue() -> None:
    # $180,000 savings, $1,400/month Social Security, $8,900/month care: 7,500 gap, 24 months
    c = months_of_runway(180_000, 8_900, 1_400)
    assert c.outputs["monthly_gap"] == 7_500
    assert c.outputs["months"] == 24
    assert c.outputs["years"] == 2
    assert c.outputs["indefinite"] == 0
    assert c.summary == "$180,000 covers 24 months of a $7,500 monthly gap"


def test_runway_rounds_and_long_runways_read_in_years() -> None:
    assert months_of_runway(10_000, 3_000).summary == (
        "$10,000 covers about 3 months of a $3,000 monthly gap"
    )
    c = months_of_runway(300_000, 5_000, 0)
    assert c.outputs["months"] == 60
    assert "5 years (60 months)" in c.summary


def test_runway_is_indefinite_when_income_covers_costs() -> None:
    for income in (4_000, 5_000):
        c = months_of_runway(50_000, 4_000, income)
        assert c.outputs["indefinite"] == 1
        assert "months" not in c.outputs
        assert all(math.isfinite(v) for v in c.outputs.values())
        assert "not being drawn down" in c.summary


def test_runway_with_no_savings_is_zero_months() -> None:
    c = months_of_runway(0, 2_000, 500)
    assert c.outputs["months"] == 0
    assert "less than a month" in c.summary


def test_monthly_gap_shortfall_surplus_and_even() -> None:
    c = monthly_gap(1_400, 8_900)
    assert c.outputs == {"monthly_gap": 7_500, "annual_gap": 90_000}
    assert c.summary == (
        "Costs of $8,900 against income of $1,400 leave a $7,500 monthly gap, about $90,000 a year"
    )
    surplus = monthly_gap(6_000, 5_200)
    assert surplus.outputs["monthly_gap"] == -800
    assert "$800 a month to spare" in surplus.summary
    assert "nothing to spare" in monthly_gap(3_000, 3_000).summary


# --- debt ------------------------------------------------------------------------------------


def test_debt_payoff_5000_at_22_percent_paying_200() -> None:
    # exact: n = -ln(1 - rB/P) / ln(1 + r) with r = 0.22/12 -> 33.75, so 34 payments
    r = 0.22 / 12
    exact = -math.log(1 - r * 5_000 / 200) / math.log(1 + r)
    assert exact == pytest.approx(33.75, abs=0.01)
    c = debt_payoff(5_000, 22, 200)
    assert c.outputs["pays_off"] == 1
    assert c.outputs["months"] == 34 == math.ceil(exact)
    n, interest = _simulate(5_000, 22, 200)
    assert n == 34
    assert c.outputs["total_interest"] == pytest.approx(interest, abs=0.01)
    assert c.outputs["total_interest"] == pytest.approx(1_749.88, abs=0.01)
    assert c.outputs["total_paid"] == pytest.approx(6_749.88, abs=0.01)
    assert c.summary == (
        "Paying $200 a month on $5,000 at 22% APR clears it in 34 months, "
        "with about $1,750 of interest"
    )


@pytest.mark.parametrize(
    ("balance", "apr", "payment"),
    [(12_000, 24.99, 350), (3_200, 18, 100), (800, 29.9, 1_000), (25_000, 6.8, 290)],
)
def test_debt_payoff_matches_month_by_month_simulation(balance, apr, payment) -> None:
    c = debt_payoff(balance, apr, payment)
    n, interest = _simulate(balance, apr, payment)
    assert c.outputs["months"] == n
    assert c.outputs["total_interest"] == pytest.approx(interest, abs=0.01)


def test_debt_payoff_never_when_payment_does_not_cover_interest() -> None:
    # $5,000 at 22%: 91.67 of interest a month
    for payment in (50, 5_000 * 0.22 / 12):
        c = debt_payoff(5_000, 22, payment)
        assert c.outputs["pays_off"] == 0
        assert "months" not in c.outputs
        assert c.outputs["monthly_interest"] == pytest.approx(91.67, abs=0.01)
        assert "never pays it off" in c.summary


def test_debt_payoff_zero_rate_and_zero_balance() -> None:
    c = debt_payoff(20_000, 0, 500)
    assert c.outputs["months"] == 40 and c.outputs["total_interest"] == 0
    assert "no interest" in c.summary
    assert debt_payoff(0, 20, 100).outputs["months"] == 0
    assert debt_payoff(1_000, 0, 300).outputs["months"] == 4  # 300, 300, 300, 100


def test_payment_to_payoff_standard_mortgage() -> None:
    # the textbook case: $200,000 at 6% over 30 years is $1,199.10 a month
    c = payment_to_payoff(200_000, 6, 360)
    assert c.outputs["monthly_payment"] == pytest.approx(1_199.10, abs=0.005)
    assert c.outputs["total_interest"] == pytest.approx(1_199.101050 * 360 - 200_000, abs=0.5)
    # and the inverse: that payment clears it in 360 months
    assert debt_payoff(200_000, 6, c.outputs["monthly_payment"]).outputs["months"] == 360


def test_payment_to_payoff_zero_rate_and_bad_months() -> None:
    assert payment_to_payoff(1_200, 0, 12).outputs["monthly_payment"] == 100
    with pytest.raises(ValueError, match="months"):
        payment_to_payoff(1_200, 5, 0)


# --- growth, targets, match ------------------------------------------------------------------


def test_compound_growth_lump_sum_and_contributions() -> None:
    # $10,000 at 6% compounded monthly for 10 years: 10,000 x 1.005^120
    c = compound_growth(10_000, 6, 10)
    assert c.outputs["future_value"] == pytest.approx(18_193.97, abs=0.01)
    assert c.outputs["growth"] == pytest.approx(8_193.97, abs=0.01)
    # $100 a month at 6% for 10 years: 100 x (1.005^120 - 1) / 0.005
    d = compound_growth(0, 6, 10, 100)
    assert d.outputs["future_value"] == pytest.approx(16_387.93, abs=0.01)
    assert d.outputs["total_contributions"] == 12_000
    assert d.summary == (
        "$100 a month growing at 6% a year comes to about $16,388 after 10 years, "
        "of which $12,000 is money put in"
    )
    assert compound_growth(5_000, 0, 3, 100).outputs["future_value"] == 8_600
    assert compound_growth(1_000, -10, 1).outputs["future_value"] < 1_000


def test_emergency_fund_target() -> None:
    c = emergency_fund_target(4_200)
    assert c.outputs == {"target_low": 12_600, "target_high": 25_200}
    assert c.summary == "3 to 6 months of $4,200 in monthly expenses is $12,600 to $25,200"
    assert emergency_fund_target(3_000, 6, 9).outputs["target_high"] == 27_000
    with pytest.raises(ValueError):
        emergency_fund_target(3_000, 6, 3)


def test_employer_match() -> None:
    c = employer_match(60_000, 50, 6)
    assert c.outputs == {"contribution_for_full_match": 3_600, "full_match": 1_800}
    assert c.summary == (
        "Putting in 6% of a $60,000 salary ($3,600 a year) brings the full $1,800 employer match"
    )
    partial = employer_match(60_000, 50, 6, contribution_percent_of_pay=3)
    assert partial.outputs["match"] == 900 and partial.outputs["match_missed"] == 900
    over = employer_match(60_000, 100, 4, contribution_percent_of_pay=10)
    assert over.outputs["match"] == 2_400 and over.outputs["match_missed"] == 0


# --- tax, Social Security, break-even --------------------------------------------------------


def test_capital_loss_offset() -> None:
    c = capital_loss_offset(2_000, 12_000)
    assert c.outputs == {
        "net_gain": 0,
        "offset_against_gains": 2_000,
        "deductible_now": 3_000,
        "carryforward": 7_000,
    }
    assert "$3,000 can be deducted" in c.summary and "$7,000 carries forward" in c.summary
    small = capital_loss_offset(0, 2_500)
    assert small.outputs["deductible_now"] == 2_500 and small.outputs["carryforward"] == 0
    gain = capital_loss_offset(5_000, 2_000)
    assert gain.outputs["net_gain"] == 3_000 and gain.outputs["deductible_now"] == 0
    mfs = capital_loss_offset(0, 10_000, ordinary_cap=1_500)
    assert mfs.outputs["deductible_now"] == 1_500 and mfs.outputs["carryforward"] == 8_500


def test_social_security_break_even() -> None:
    # 62 at $1,400 vs 70 at $2,480: (2480x70 - 1400x62) / (2480 - 1400) = 80.37
    c = social_security_break_even(1_400, 62, 2_480, 70)
    assert c.outputs["break_even_age"] == pytest.approx(80.370, abs=0.001)
    assert c.outputs["benefits_forgone_while_waiting"] == 1_400 * 12 * 8
    # at the break-even age both choices have paid the same in total
    be = c.outputs["break_even_age"]
    assert 1_400 * 12 * (be - 62) == pytest.approx(2_480 * 12 * (be - 70))
    assert "around age 80" in c.summary
    # FRA 67 at $2,000 vs 70 at $2,480 (8% a year delayed credits): break-even 82.5
    fra = social_security_break_even(2_000, 67, 2_480, 70)
    assert fra.outputs["break_even_age"] == pytest.approx(82.5)
    assert social_security_break_even(2_000, 62, 1_900, 70).outputs == {"has_break_even": 0}
    with pytest.raises(ValueError):
        social_security_break_even(1_000, 70, 2_000, 62)


def test_simple_break_even() -> None:
    c = simple_break_even(4_000, 150)
    assert c.outputs["months"] == pytest.approx(26.667, abs=0.001)
    assert c.summary == "Saving $150 a month earns back the $4,000 cost in about 27 months"
    assert simple_break_even(4_000, 0).outputs == {"has_break_even": 0}


def test_negative_and_infinite_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="savings"):
        months_of_runway(-1, 100)
    with pytest.raises(ValueError, match="balance"):
        debt_payoff(float("inf"), 10, 100)


# --- registry, recompute, JSON ---------------------------------------------------------------

EXAMPLES = {
    "share_of": {"part": 1_640, "whole": 4_000},
    "total_of": {"first": 310_000, "second": 142_000},
    "months_of_runway": {"savings": 180_000, "monthly_costs": 8_900, "monthly_income": 1_400},
    "monthly_gap": {"monthly_income": 1_400, "monthly_costs": 8_900},
    "debt_payoff": {"balance": 5_000, "apr_percent": 22, "monthly_payment": 200},
    "payment_to_payoff": {"balance": 5_000, "apr_percent": 22, "months": 24},
    "compound_growth": {"principal": 10_000, "annual_rate_percent": 7, "years": 20},
    "emergency_fund_target": {"monthly_expenses": 4_200},
    "employer_match": {"salary": 60_000, "match_rate_percent": 50, "match_cap_percent_of_pay": 6},
    "capital_loss_offset": {"gains": 2_000, "losses": 12_000},
    "social_security_break_even": {
        "monthly_early": 1_400,
        "age_early": 62,
        "monthly_late": 2_480,
        "age_late": 70,
    },
    "simple_break_even": {"upfront_cost": 4_000, "monthly_saving": 150},
    "change_of": {"before": 190, "after": 285},
    "yearly_total": {"monthly_amount": 1_200},
}


def test_change_of_a_monthly_yearly_and_one_off_amount() -> None:
    premium = change_of(190, 285)  # the worked example: a premium going up
    assert premium.outputs == {
        "difference": 95,
        "percent_change": 50,
        "has_risen": 1,
        "yearly_difference": 1_140,
    }
    assert premium.summary == (
        "Going from $190 to $285 a month is $95 more a month, a rise of 50%, "
        "or $1,140 more over a year"
    )
    cut = change_of(4_200, 3_100)  # 26.19%: said as about 26%
    assert cut.outputs["percent_change"] == 26 and cut.outputs["has_risen"] == 0
    assert "$1,100 less a month, a drop of about 26%, or $13,200 less" in cut.summary
    salary = change_of(80_000, 65_000, times_a_year=1)
    assert salary.outputs["monthly_difference"] == 1_250
    assert "$15,000 less a year" in salary.summary and "about $1,250 less a month" in salary.summary
    price = change_of(300_000, 340_000, times_a_year=0)
    assert set(price.outputs) == {"difference", "percent_change", "has_risen"}
    assert change_of(1_000, 1_045).outputs["percent_change"] == 4.5  # one decimal below 10%
    with pytest.raises(ValueError, match="before must be above 0"):
        change_of(0, 100)
    with pytest.raises(ValueError, match="times_a_year"):
        change_of(100, 120, times_a_year=52)


def test_yearly_total() -> None:
    c = yearly_total(1_200)
    assert c.outputs == {"total": 14_400}
    assert c.summary == "$1,200 a month comes to $14,400 over a year"
    with pytest.raises(ValueError, match="monthly_amount must not be negative"):
        yearly_total(-5)


def test_every_calculator_has_an_example() -> None:
    assert set(EXAMPLES) == set(CALCULATORS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_recompute_reproduces_a_recorded_calculation(name: str) -> None:
    c = calculate(name, **EXAMPLES[name])
    assert c.name == name
    assert set(c.inputs) >= set(EXAMPLES[name])  # defaults are recorded too
    # what lands in a record round-trips through JSON and re-runs to the same outputs
    stored = Calculation.model_validate(json.loads(c.model_dump_json()))
    assert recompute(stored) == c
    assert mismatches(stored) == []
    assert c.summary and "\n" not in c.summary and not c.summary.endswith(".")


def test_mismatches_catches_a_wrong_output() -> None:
    c = debt_payoff(5_000, 22, 200)
    wrong = c.model_copy(update={"outputs": {**c.outputs, "months": 32.0}})
    assert mismatches(wrong) == ["debt_payoff: output 'months' is 32, expected 34"]
    missing = c.model_copy(update={"outputs": {"months": 34.0}})
    assert any("'total_interest' is missing" in m for m in mismatches(missing))


def test_unknown_calculator() -> None:
    with pytest.raises(ValueError, match="unknown calculator 'nope'"):
        calculate("nope", x=1)


def test_calculate_reports_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"debt_payoff: missing monthly_payment; unexpected rate"):
        calculate("debt_payoff", balance=100, apr_percent=5, rate=3)
    with pytest.raises(ValueError, match="balance must be a number"):
        calculate("debt_payoff", balance="100", apr_percent=5, monthly_payment=10)


def test_tool_definitions_cover_every_parameter() -> None:
    import inspect

    from emosim.grounding.calculators import tool_definitions

    tools = tool_definitions()
    assert [t["name"] for t in tools] == list(CALCULATORS)
    json.dumps(tools)
    for tool in tools:
        fn = CALCULATORS[tool["name"]]
        params = inspect.signature(fn).parameters
        schema = tool["input_schema"]
        assert list(schema["properties"]) == list(params)
        assert all(
            p["type"] == "number" and p["description"] for p in schema["properties"].values()
        )
        assert tool["description"] and "\n" not in tool["description"]
    runway = next(t for t in tools if t["name"] == "months_of_runway")
    assert runway["input_schema"]["required"] == ["savings", "monthly_costs"]
    assert [t["name"] for t in tool_definitions(["debt_payoff"])] == ["debt_payoff"]


def test_long_payoffs_read_in_years_with_the_month_count() -> None:
    assert "in 30 years (360 months)" in debt_payoff(200_000, 6, 1_199.11).summary
    long = debt_payoff(12_000, 18, 250)
    assert long.outputs["months"] == 86 == _simulate(12_000, 18, 250)[0]
    assert "in about 7 years (86 months)" in long.summary
    assert "in about 5 years (61 months)" in debt_payoff(10_000, 0, 164).summary
    assert "after 2.4 years" in compound_growth(1_000, 5, 2.4).summary


def test_share_and_total_worked_examples() -> None:
    share = calculate("share_of", part=1_640, whole=4_000)
    assert share.outputs == {"share_percent": 41.0}
    assert share.summary == "$1,640 is about 41% of $4,000"
    total = calculate("total_of", first=310_000, second=142_000)
    assert total.outputs == {"total": 452_000.0}
    assert total.summary == "$310,000 plus $142,000 comes to $452,000 together"
    with pytest.raises(ValueError, match="whole"):
        calculate("share_of", part=1, whole=0)
