"""What followed each advisor strategy: how the client's next true state moved.

Only true states are compared (never the generator's own labels), so the figure shows what
the records say, whatever engine or backend made them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from emosim.schemas import AdvisorTurn, ArcStep, ConversationRecord, EmotionalState

from .models import Movement, StrategyOutcome, StrategyOutcomes

INTENSITY_STEP = 0.1
VALENCE_STEP = 0.05

RULE = (
    "Each true state is placed on the planned arc (the step with its emotion, nearest in "
    "intensity). A later step is 'advanced', an earlier one 'regressed'. Otherwise a different "
    f"emotion compares valence (more than {VALENCE_STEP} higher: advanced, lower: regressed); "
    f"the same emotion compares intensity: a change under {INTENSITY_STEP} is 'stalled', else "
    "moving towards the arc step's intensity is advanced and away regressed (off the arc: less "
    "intense is advanced for unpleasant emotions, more intense for pleasant ones)."
)


def arc_position(state: EmotionalState, arc: list[ArcStep]) -> int | None:
    matches = [i for i, step in enumerate(arc) if step.emotion == state.emotion]
    if not matches:
        return None
    return min(matches, key=lambda i: (abs(arc[i].intensity - state.intensity), -i))


def movement(
    before: EmotionalState,
    after: EmotionalState,
    arc: list[ArcStep],
    valence: Mapping[str, float],
) -> Movement:
    """How `after` stands to `before` on the way along `arc` (see RULE)."""
    a, b = arc_position(before, arc), arc_position(after, arc)
    if a is not None and b is not None and a != b:
        return "advanced" if b > a else "regressed"
    v_before = valence.get(before.emotion, before.valence or 0.0)
    v_after = valence.get(after.emotion, after.valence or 0.0)
    if before.emotion != after.emotion:
        if v_after - v_before > VALENCE_STEP:
            return "advanced"
        if v_before - v_after > VALENCE_STEP:
            return "regressed"
        return "stalled"
    change = after.intensity - before.intensity
    if abs(change) < INTENSITY_STEP - 1e-9:
        return "stalled"
    if b is not None:
        target = arc[b].intensity
        closer = abs(after.intensity - target) < abs(before.intensity - target)
        return "advanced" if closer else "regressed"
    return "advanced" if (change < 0) == (v_before < 0) else "regressed"


def turn_strategy(turn: AdvisorTurn) -> str | None:
    """The strategy a turn is credited with: the planned one if known, else the observed one."""
    use = turn.intended_strategies or turn.strategies
    return use.primary if use else None


def strategy_outcomes(
    records: list[ConversationRecord], valence: Mapping[str, float]
) -> StrategyOutcomes:
    moves: dict[str, Counter[str]] = defaultdict(Counter)
    nexts: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        arc = record.scenario.planned_arc
        turns = record.turns
        for i, turn in enumerate(turns):
            if not isinstance(turn, AdvisorTurn) or i == 0 or i + 1 >= len(turns):
                continue
            before, after = turns[i - 1], turns[i + 1]
            strategy = turn_strategy(turn)
            truth_before = getattr(before, "ground_truth", None)
            truth_after = getattr(after, "ground_truth", None)
            if strategy is None or truth_before is None or truth_after is None:
                continue
            moves[strategy][movement(truth_before, truth_after, arc, valence)] += 1
            nexts[strategy][truth_after.emotion] += 1
    rows = [
        StrategyOutcome(
            strategy=s,
            n=sum(moves[s].values()),
            advanced=moves[s]["advanced"],
            stalled=moves[s]["stalled"],
            regressed=moves[s]["regressed"],
            next_emotions=dict(nexts[s].most_common()),
        )
        for s in sorted(moves, key=lambda k: (-sum(moves[k].values()), k))
    ]
    return StrategyOutcomes(rule=RULE, rows=rows)
