"""How well replies are grounded, over any set of records: does Elena take up the client's
figures, is every figure she states traceable, are questions answered, does the scenario's
situation reach the conversation, and does the figure gate catch planted bad figures.

Everything is recomputed from the words in the records (the fact observer on client turns,
the figure tracer on advisor turns), so the figures hold for records of any backend.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from pydantic import Field

from emosim.agents.reading import read_reply
from emosim.grounding.facts import FactBase
from emosim.grounding.figures import find_figures
from emosim.grounding.numbers import numbers_block
from emosim.grounding.observer import running_facts
from emosim.grounding.trace import trace_figures
from emosim.schemas import AdvisorTurn, ClientTurn, ConversationRecord
from emosim.schemas.common import StrictModel
from emosim.schemas.grounding import StatedFact


class InjectedRecall(StrictModel):
    kind: str
    planted: int
    caught: int
    recall: float | None


class GroundingEvaluation(StrictModel):
    conversations: int
    client_turns_with_figures: int = Field(description="Client turns stating a figure.")
    figure_uptake: float | None = Field(
        description="Share of those whose next advisor reply uses one of the figures or a "
        "calculation from them."
    )
    calculations: int = Field(description="Advisor replies that state a calculation.")
    accepted_replies: int
    untraceable_in_accepted: int = Field(description="Figures without an origin in sent replies.")
    client_questions: int
    questions_answered: float | None = Field(
        description="Share of client questions the next reply takes up (read from its words)."
    )
    scenarios_with_figures: int
    situation_figures_present: float | None = Field(
        description="Share of conversations whose scenario situation states figures in which "
        "every one of them appears in the client's words."
    )
    injected: list[InjectedRecall] = Field(default_factory=list)
    false_rejects: float | None = Field(
        default=None, description="Sent replies with figures that the gate now flags."
    )
    paraphrase_accuracy: float | None = None
    paraphrase_false_match_rate: float | None = None


def facts_before(turns: list, upto: int) -> list[StatedFact]:
    return running_facts((t.index, t.speaker, t.text) for t in turns[:upto])


def _numbers_in(text: str) -> set[float]:
    return {round(f.value, 2) for f in find_figures(text)}


def evaluate_grounding(
    records: list[ConversationRecord],
    fact_base: FactBase | None,
    *,
    on: dt.date | None = None,
    seed: int = 7,
) -> GroundingEvaluation:
    rng = random.Random(seed)
    stated_turns = uptake = calcs = accepted = untraceable = 0
    questions = answered = 0
    with_figures = present = 0
    planted = {"misquoted": [0, 0], "invented": [0, 0], "wrong_fact": [0, 0]}
    flagged = checked = 0
    for record in records:
        turns = record.turns
        situation = _numbers_in(record.scenario.situation)
        if situation:
            with_figures += 1
            said = set().union(*(_numbers_in(t.text) for t in turns if t.speaker == "client"))
            present += situation <= said
        for i, turn in enumerate(turns):
            if not isinstance(turn, AdvisorTurn):
                continue
            facts = facts_before(turns, i)
            numbers = numbers_block(facts)
            client = turns[i - 1] if i and isinstance(turns[i - 1], ClientTurn) else None
            newest = [
                f for f in facts if client is not None and f.turn == client.index and not f.echo
            ]
            trace = trace_figures(
                turn.text, facts=facts, calculations=numbers, fact_base=fact_base, on=on
            )
            if newest:
                stated_turns += 1
                ids = {f.id for f in newest}
                used = {g.source_id for g in trace.figures if g.origin == "client_fact"}
                from_calc = any(
                    set(c.input_facts.values()) & ids
                    for c in numbers
                    if any(g.source_id == c.name for g in trace.figures)
                )
                uptake += bool(used & ids) or from_calc
            calcs += any(g.origin == "calculation" for g in trace.figures)
            if turn.critic is None or turn.critic.accepted:
                accepted += 1
                untraceable += len(trace.problems)
                if trace.figures:
                    checked += 1
                    flagged += bool(trace.problems)
                _plant(rng, turn.text, facts, numbers, fact_base, on, planted)
            if client is not None:
                reading = read_reply(client.text, turn.text, facts=facts)
                if reading.question is not None:
                    questions += 1
                    answered += bool(reading.answered)

    def share(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return GroundingEvaluation(
        conversations=len(records),
        client_turns_with_figures=stated_turns,
        figure_uptake=share(uptake, stated_turns),
        calculations=calcs,
        accepted_replies=accepted,
        untraceable_in_accepted=untraceable,
        client_questions=questions,
        questions_answered=share(answered, questions),
        scenarios_with_figures=with_figures,
        situation_figures_present=share(present, with_figures),
        injected=[
            InjectedRecall(kind=k, planted=v[0], caught=v[1], recall=share(v[1], v[0]))
            for k, v in planted.items()
        ],
        false_rejects=share(flagged, checked),
    )


_MONEY = re.compile(r"\$\d[\d,]*")


def _plant(
    rng: random.Random,
    text: str,
    facts: list[StatedFact],
    numbers: list,
    fact_base: FactBase | None,
    on: dt.date | None,
    planted: dict[str, list[int]],
) -> None:
    """Plant one bad figure of each kind into a sent reply and see whether the gate fires."""

    def caught(bad: str) -> bool:
        return bool(
            trace_figures(
                bad, facts=facts, calculations=numbers, fact_base=fact_base, on=on
            ).problems
        )

    money = [f for f in facts if f.unit == "usd" and f.value >= 100]
    if money:
        fact = rng.choice(money)
        wrong = round(fact.value * rng.choice([0.8, 0.9, 1.1, 1.25]))
        bad = f"{text} So that's the ${wrong:,} you mentioned."
        planted["misquoted"][0] += 1
        planted["misquoted"][1] += caught(bad)
    invented = rng.choice(
        [
            f"Most people in your spot need about ${rng.randint(20, 900) * 1000:,}.",
            f"That usually grows about {rng.randint(6, 14)}% a year.",
            f"You'd want roughly {rng.randint(7, 40)} months of savings for that.",
        ]
    )
    planted["invented"][0] += 1
    planted["invented"][1] += caught(f"{text} {invented}")
    if fact_base is not None:
        wrong_fact = rng.choice(
            [
                f"The IRA contribution limit this year is ${rng.choice([6000, 6500, 7000]):,}.",
                f"The 401(k) limit this year is ${rng.choice([22500, 23000, 23500]):,}.",
                f"The FDIC insures up to ${rng.choice([100000, 200000, 500000]):,} per bank.",
                f"Capital losses can offset up to ${rng.choice([2000, 3500, 5000]):,} "
                "of ordinary income a year.",
            ]
        )
        planted["wrong_fact"][0] += 1
        planted["wrong_fact"][1] += caught(f"{text} {wrong_fact}")
