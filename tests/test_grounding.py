"""Grounding: the client's figures read with their meaning, the situation in the client's
voice, calculations from the client's own numbers, and every figure of a reply traced."""

from __future__ import annotations

import datetime as dt

import pytest

from emosim.agents.reading import read_reply
from emosim.grounding.facts import load_fact_base, newest_fact_file
from emosim.grounding.figures import find_figures, to_second_person
from emosim.grounding.numbers import numbers_block
from emosim.grounding.observer import RuleFactObserver
from emosim.grounding.situation import situation_sentences
from emosim.grounding.trace import trace_figures
from emosim.paths import project_root as repo_root

OBSERVER = RuleFactObserver()
CARE = (
    "I have about $180,000 in savings, and my Social Security is $1,400 a month. "
    "The care home quoted $8,900 a month. How long does that last?"
)
ON = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def fact_base():
    return load_fact_base(newest_fact_file(repo_root() / "facts"))


def test_figures_have_units_and_identifiers_are_not_figures() -> None:
    found = find_figures("My 401(k) has $52k and I pay $300 a month at 22% APR; I'm 62.")
    assert [(f.text, f.value, f.unit) for f in found] == [
        ("$52k", 52_000.0, "usd"),
        ("$300 a month", 300.0, "usd_per_month"),
        ("22%", 22.0, "percent"),
        ("62", 62.0, "age"),
    ]


def test_fact_observer_reads_meaning_and_evidence_spans() -> None:
    read = OBSERVER.observe(CARE, 4)
    kinds = [(f.kind, f.value, f.unit) for f in read.facts]
    assert kinds == [
        ("savings", 180_000.0, "usd"),
        ("income", 1_400.0, "usd_per_month"),
        ("cost", 8_900.0, "usd_per_month"),
    ]
    for fact in read.facts:
        assert CARE[fact.start : fact.end] == fact.text
        assert fact.text in fact.evidence and fact.turn == 4
    assert read.questions == ["How long does that last?"]


def test_a_listed_amount_inherits_the_monthly_unit() -> None:
    read = OBSERVER.observe("My statement shows $2,150 a month at 62 and $3,050 at 67.", 0)
    assert [(f.kind, f.unit) for f in read.facts if f.unit != "age"] == [
        ("income", "usd_per_month"),
        ("income", "usd_per_month"),
    ]
    (calc,) = numbers_block(read.facts)
    assert calc.name == "social_security_break_even"
    assert round(calc.outputs["break_even_age"]) == 79


def test_runway_from_the_clients_own_figures() -> None:
    (calc, *_rest) = numbers_block(OBSERVER.observe(CARE, 0).facts)
    assert calc.name == "months_of_runway"
    assert calc.outputs["monthly_gap"] == 7_500 and calc.outputs["months"] == 24
    assert set(calc.input_facts) == {"savings", "monthly_costs", "monthly_income"}


def test_no_three_year_payoff_plan_for_a_mortgage() -> None:
    facts = OBSERVER.observe("We still owe about $165,000 on the house at 3.1%.", 0).facts
    assert not [c for c in numbers_block(facts) if c.name == "payment_to_payoff"]
    loans = OBSERVER.observe("I still owe $14,000 on my student loans at 5%.", 0).facts
    assert [c.name for c in numbers_block(loans)] == ["payment_to_payoff"]


@pytest.mark.parametrize(
    ("text", "before", "after", "summary"),
    [
        (
            "Heads up, the renewal letter says our auto policy climbs to $212 a month, up "
            "from $158.",
            158,
            212,
            "$54 more a month, a rise of about 34%, or $648 more over a year",
        ),
        (
            "the daycare bill used to be $1,150, but starting in March they want $1,380 a month",
            1_150,
            1_380,
            "$230 more a month, a rise of 20%, or $2,760 more over a year",
        ),
        (
            "With the furlough my take-home is being slashed from $3,600 a month to $2,700.",
            3_600,
            2_700,
            "$900 less a month, a drop of 25%, or $10,800 less over a year",
        ),
        (
            "The offer would take my salary from $92k down to $78k.",
            92_000,
            78_000,
            "$14,000 less a year, a drop of about 15%, or about $1,167 less a month",
        ),
        (
            "Our HOA dues were $310 a month; now it's $365.",
            310,
            365,
            "$55 more a month, a rise of about 18%, or $660 more over a year",
        ),
    ],
)
def test_a_stated_change_is_worked_out(text: str, before: float, after: float, summary: str):
    facts = OBSERVER.observe(text, 3).facts
    calc, *_ = numbers_block(facts)
    assert calc.name == "change_of"
    assert (calc.inputs["before"], calc.inputs["after"]) == (before, after)
    assert summary in calc.summary
    # each input is the client's own figure, and every figure of the summary traces to it
    assert {facts_by_id.value for facts_by_id in facts} >= {before, after}
    assert set(calc.input_facts) == {"before", "after"}
    trace = trace_figures(calc.summary + ".", facts=facts, calculations=[calc])
    assert trace.problems == [] and {f.origin for f in trace.figures} == {"calculation"}


@pytest.mark.parametrize(
    "text",
    [
        "Daycare runs $200 to $300 a week depending on the month.",  # a range, not a change
        "With income that swings from $2,500 to $11,000 a month, I can't plan.",
        "My pay varies from $3,000 to $4,500 a month.",
        "Commissions range anywhere from $800 to $2,000 a month.",
        "I pay $1,400 a month in rent and have $12,000 saved.",
        "Groceries are $600 a month and gas is another $180.",
    ],
)
def test_amounts_side_by_side_are_not_a_change(text: str) -> None:
    assert "change_of" not in [c.name for c in numbers_block(OBSERVER.observe(text, 0).facts)]


def test_a_balance_after_a_monthly_amount_stays_a_balance() -> None:
    facts = OBSERVER.observe("I pay $1,400 a month in rent and have $12,000 saved.", 0).facts
    assert [(f.kind, f.unit) for f in facts] == [
        ("payment", "usd_per_month"),
        ("savings", "usd"),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("We've saved about $92,000 for a down payment.", "savings"),  # not a loss
        ("My 401(k) is down to about $410,000.", "savings"),
        ("I'm down $12,000 on my stocks this year.", "loss"),
    ],
)
def test_down_is_a_loss_only_when_it_says_one(text: str, kind: str) -> None:
    assert [f.kind for f in OBSERVER.observe(text, 0).facts] == [kind]


def test_two_changes_in_one_message_are_both_worked_out() -> None:
    facts = OBSERVER.observe(
        "My landlord raised the rent from $1,150 to $1,325 a month, and the same week my "
        "take-home pay drops from $3,400 a month to $2,900.",
        0,
    ).facts
    assert [f.kind for f in facts] == ["cost", "cost", "income", "income"]
    calcs = numbers_block(facts)
    changes = [(c.inputs["before"], c.inputs["after"]) for c in calcs if c.name == "change_of"]
    assert changes == [(1_150, 1_325), (3_400, 2_900)]
    # pay that covers the rent: no runway, and rent alone is not what is spent ("to spare")
    names = {c.name for c in calcs}
    assert not names & {"months_of_runway", "monthly_gap", "emergency_fund_target"}
    assert "share_of" in names  # rent is about 46% of take-home pay


def test_the_old_amount_said_again_is_not_a_balance() -> None:
    facts = OBSERVER.observe("My premium is going up from $190 to $285 a month.", 1).facts
    later = "If $285 a month keeps going out, how long before $190 is gone?"
    facts += OBSERVER.observe(later, 3).facts
    assert [c.name for c in numbers_block(facts)] == ["change_of"]  # no "$190 covers 1 month"


def test_lost_is_a_loss_only_with_an_amount() -> None:
    assert [f.kind for f in OBSERVER.observe("I lost $8,000 on crypto.", 0).facts] == ["loss"]
    facts = OBSERVER.observe("Sorry, I'm still a bit lost on the thing I asked: $95?", 0).facts
    assert [f.kind for f in facts] == ["amount"]


def test_a_figure_elena_said_first_is_an_echo_turns_later() -> None:
    from emosim.grounding.observer import running_facts

    facts = running_facts(
        [
            (0, "client", "My premium is going up from $190 to $285 a month."),
            (1, "advisor", "That is $95 more a month, a rise of 50%."),
            (2, "client", "Thank you."),
            (3, "advisor", "Of course."),
            (4, "client", "I'm still a bit lost, so once more: really, $95?"),
        ]
    )
    assert [(f.value, f.echo) for f in facts] == [(190, False), (285, False), (95, True)]


def test_money_sent_each_month_is_seen_over_a_year() -> None:
    text = "Okay so I already send about $1,200 a month home to the Philippines for my father."
    (calc,) = numbers_block(OBSERVER.observe(text, 0).facts)
    assert calc.name == "yearly_total" and calc.outputs["total"] == 14_400
    # not when something else is worked out from the payment
    debt = "I owe $5,000 on a card at 22% and pay $200 a month."
    assert "yearly_total" not in [c.name for c in numbers_block(OBSERVER.observe(debt, 0).facts)]


def test_the_old_amount_of_a_change_feeds_no_other_calculation() -> None:
    facts = OBSERVER.observe(
        "We have $6,000 saved. Rent went from $1,500 to $1,725 a month.", 0
    ).facts
    calcs = numbers_block(facts)
    assert calcs[0].name == "change_of"
    runway = next(c for c in calcs if c.name == "months_of_runway")
    assert runway.inputs["monthly_costs"] == 1_725


def test_second_person_keeps_figures_exactly() -> None:
    assert to_second_person("I owe $14,000 on my loans and we pay 5%") == (
        "you owe $14,000 on your loans and you pay 5%"
    )


def test_situation_is_told_in_the_first_person_with_its_figures() -> None:
    told = situation_sentences(
        "Marcus has about $9,400 sitting in checking and a 401(k) he never enrolled in "
        "because the site confused him. He doesn't know where to begin.",
        "Marcus Johnson",
        "he/him",
    )
    assert told == [
        "I have about $9,400 sitting in checking and a 401(k) I never enrolled in because "
        "the site confused me.",
        "I don't know where to begin.",
    ]


def test_pronouns_of_other_people_stay_theirs() -> None:
    told = situation_sentences(
        "Omar and Sana want to buy near Yusuf's school before he starts first grade.",
        "Omar Siddiqui",
        "he/him",
        frozenset({"Yusuf", "Sana"}),
    )
    assert told == ["Sana and I want to buy near Yusuf's school before he starts first grade."]


def test_her_after_a_giving_verb_is_me_and_a_shared_parent_is_ours() -> None:
    told = situation_sentences(
        "Gloria's estranged father died and left her $62,000. Her sister thinks she should "
        "give half of it to their mother. Her pension pays her bills.",
        "Gloria Washington",
        "she/her",
    )
    assert told == [
        "My estranged father died and left me $62,000.",
        "My sister thinks I should give half of it to our mother.",
        "My pension pays my bills.",
    ]


def test_their_with_the_clients_partner_is_ours_but_the_childrens_stays_theirs() -> None:
    told = situation_sentences(
        "Saul, an accountant, always handled their investments, and now she wants to "
        "understand her choices. Her children have their own opinions, and Saul left them "
        "their own accounts.",
        "Ruth Goldberg",
        "she/her",
    )
    assert told == [
        "Saul, an accountant, always handled our investments, and now I want to understand "
        "my choices.",
        "My children have their own opinions, and Saul left them their own accounts.",
    ]


def test_them_with_the_clients_partner_is_us() -> None:
    told = situation_sentences(
        "Frank has not told Linda what it is costing them. His kids ask him, and he tells "
        "them nothing. Linda left the forms and he could not finish them.",
        "Frank Russo",
        "he/him",
    )
    assert told == [
        "I have not told Linda what it is costing us.",
        "My kids ask me, and I tell them nothing.",
        "Linda left the forms and I could not finish them.",
    ]


def test_every_figure_of_a_grounded_reply_is_traced(fact_base) -> None:
    facts = OBSERVER.observe(CARE, 0).facts
    numbers = numbers_block(facts)
    reply = (
        "With $180,000 set aside and a $7,500 monthly gap, that covers about 24 months. "
        "The FDIC insures deposits up to $250,000 per depositor, per bank."
    )
    trace = trace_figures(reply, facts=facts, calculations=numbers, fact_base=fact_base, on=ON)
    assert trace.problems == []
    assert [f.origin for f in trace.figures] == [
        "calculation",
        "calculation",
        "calculation",
        "fact_base",
    ]


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("You mentioned $18,000 in savings.", "misquoted_client_figure"),
        ("That works out to about $412,000 in the end.", "untraceable_figure"),
        ("That money covers about 31 months.", "untraceable_figure"),
    ],
)
def test_figures_from_nowhere_are_problems(fact_base, reply: str, code: str) -> None:
    facts = OBSERVER.observe(CARE, 0).facts
    trace = trace_figures(
        reply, facts=facts, calculations=numbers_block(facts), fact_base=fact_base, on=ON
    )
    assert [p.code for p in trace.problems] == [code]


def test_a_fact_base_value_out_of_date_is_a_problem(fact_base) -> None:
    trace = trace_figures(
        "The FDIC insures deposits up to $250,000.",
        facts=[],
        fact_base=fact_base,
        on=dt.date(2031, 1, 1),
    )
    assert [p.code for p in trace.problems] in (["out_of_date_fact"], [])
    if not trace.problems:  # the fact is not year-bound and was checked recently enough
        assert trace.figures[0].origin == "fact_base"


def test_reading_tells_an_answer_from_a_miss() -> None:
    facts = OBSERVER.observe(CARE, 0).facts
    hit = read_reply(CARE, "Putting your numbers together, $180,000 covers 24 months.", facts=facts)
    assert hit.answered is True and hit.client_figures_used == ["$180,000"]
    miss = read_reply(
        CARE, "It makes sense that you'd feel worried about all of this.", facts=facts
    )
    assert miss.answered is False
    jargon = read_reply(
        "What should I do?",
        "Your best move is a Roth IRA.",
        key_terms={"Roth IRA": "a retirement account you fund with money already taxed"},
    )
    assert jargon.unexplained_terms == ["Roth IRA"]
    # a "what would happen" question is answered by an explanation, not only by a figure
    income = read_reply(
        "What would happen to my income if an illness or injury kept me from working?",
        "Income would usually come from sick leave, then short-term and long-term disability "
        "insurance if you have it, and possibly Social Security disability benefits.",
    )
    assert income.answered is True
    cost = read_reply(
        "What would it cost me to move the money?", "Moving it is usually simple to arrange."
    )
    assert cost.answered is False


def test_elena_works_out_a_premium_rise_in_her_next_reply(catalog, tmp_path) -> None:
    """The transcript problem: a client's premium rises from $190 to $285 a month; Elena's
    next reply says what that comes to, and the turn's grounding traces it."""
    from emosim.graphs.runner import load_job, run_jobs

    job = load_job(catalog, repo_root() / "simulations" / "ltc_premium_worry_widow.yaml", 6)
    _, (record,) = run_jobs(catalog, [job], tmp_path, "scripted", label="test", command="t")
    turns = record.turns
    told = next(i for i, t in enumerate(turns) if t.speaker == "client" and "$285" in t.text)
    reply = turns[told + 1]
    assert "$95 more a month" in reply.text and "$1,140" in reply.text
    (calc,) = [c for c in reply.grounding.calculations if c.name == "change_of"]
    assert (calc.inputs["before"], calc.inputs["after"]) == (190, 285)
    origins = {f.text: f.origin for f in reply.grounding.figures}
    assert origins["$95"] == "calculation" and origins["50%"] == "calculation"


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("Wait, 36 months?", False),
        ("Really, $373 a month?", False),
        ("$3,918 of interest?", False),
        ("Is $373 a month realistic for me?", True),  # asks something of the figure
        ("Wait, 48 months?", True),  # a figure Elena never said
        ("So what do I do first?", True),  # no figure at all
    ],
)
def test_a_figure_said_back_is_not_an_open_question(question: str, kept: bool) -> None:
    from emosim.grounding.observer import drop_check_backs

    said = "Clearing $9,500 at 24% APR in 36 months takes about $373 a month, $3,918 of interest."
    assert drop_check_backs([question], said) == ([question] if kept else [])
    assert drop_check_backs([question], None) == [question]  # nothing said yet: all kept
