"""What emosim records teach about strategies: which ones, after which emotion, moved the arc.

Each advisor reply in a record has the strategies it used (observed from its words, else
planned) and an arc move (`outcome.arc_moves`: advanced, stalled or regressed). The client's
emotion family just before the reply is the one it answered. Counting advanced moves per
(family, strategy) gives an improvement rate the chat-time layer uses to order the taxonomy
strategies that share one ESConv strategy (Beta(1, 1)-smoothed, so a pair seen twice moves
little).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from emosim.schemas.record import AdvisorTurn, ClientTurn, ConversationRecord

from .model import OutcomeCell


def learn_outcomes(records: Iterable[ConversationRecord]) -> list[OutcomeCell]:
    advanced: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    for record in records:
        moves = {m.exchange: m.movement for m in record.outcome.arc_moves}
        family = None
        for turn in record.turns:
            if isinstance(turn, ClientTurn):
                family = turn.annotation.family if turn.annotation else family
                continue
            if not isinstance(turn, AdvisorTurn) or family is None or turn.exchange not in moves:
                continue
            use = turn.strategies or turn.intended_strategies
            if use is None:
                continue
            for strategy in dict.fromkeys([use.primary, *use.combination]):
                total[family, strategy] += 1
                advanced[family, strategy] += moves[turn.exchange] == "advanced"
    return [
        OutcomeCell(family=f, strategy=s, advanced=advanced[f, s], total=n)
        for (f, s), n in sorted(total.items())
    ]


def improvement_rate(cells: Sequence[OutcomeCell], family: str, strategy: str) -> float | None:
    """Smoothed share of advanced moves for the pair; None when records never tried it."""
    for cell in cells:
        if cell.family == family and cell.strategy == strategy:
            return (cell.advanced + 1) / (cell.total + 2)
    return None
