"""One resolved record seen as a trainer sees it: messages, trainable turns, optional plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..schemas import AdvisorTurn, ClientTurn, ConversationRecord, EmotionAnnotation
from .options import ExportOptions
from .rows import Message

if TYPE_CHECKING:
    from ..preferences.human import RankedTurn


def is_trainable(turn: AdvisorTurn, options: ExportOptions) -> bool:
    """Weight 0 never trains; `accepted` needs a critic acceptance; --min-quality a critic score."""
    if turn.training_weight <= 0:
        return False
    if options.trainable == "accepted" and (turn.critic is None or not turn.critic.accepted):
        return False
    return options.min_quality is None or (
        turn.critic is not None and turn.critic.scores.overall >= options.min_quality
    )


def turn_strategies(turn: AdvisorTurn) -> list[str]:
    """Resolved (observed) strategies of a turn, else the ones the advisor planned."""
    use = turn.strategies or turn.intended_strategies
    if use is None:
        return []
    return [use.primary, *(s for s in use.combination if s != use.primary)]


def plan_prefix(emotion: EmotionAnnotation | None, strategies: list[str]) -> str:
    """`<plan>emotion: shame (high); strategy: empathic_validation + normalizing</plan>\\n`."""
    felt = f"{emotion.primary} ({emotion.intensity_level})" if emotion else "unknown"
    used = " + ".join(strategies) if strategies else "unknown"
    return f"<plan>emotion: {felt}; strategy: {used}</plan>\n"


@dataclass(frozen=True)
class Step:
    turn: ClientTurn | AdvisorTurn
    message: Message
    trainable: bool = False

    @property
    def is_advisor(self) -> bool:
        return isinstance(self.turn, AdvisorTurn)


@dataclass(frozen=True)
class Dialogue:
    record: ConversationRecord
    family: str
    system: Message | None
    steps: list[Step]
    planning: bool
    ranked: dict[int, RankedTurn] = field(default_factory=dict)
    """Advisor turn -> its candidate set as reviewers ranked it (preference formats)."""
    min_agreement: float | None = None
    min_margin: float | None = None

    @property
    def chat_steps(self) -> list[Step]:
        """Steps up to the last advisor turn: a chat example ends with the assistant."""
        last = max((i for i, s in enumerate(self.steps) if s.is_advisor), default=-1)
        return self.steps[: last + 1]

    @property
    def trainable_steps(self) -> list[Step]:
        return [s for s in self.steps if s.trainable]

    def prompt_for(self, step: Step) -> list[Message]:
        """System prompt, then every turn before `step` (history ends with the client)."""
        head = [self.system] if self.system else []
        return head + [s.message for s in self.steps[: step.turn.index]]

    def emotion_before(self, step: Step) -> EmotionAnnotation | None:
        turn = self.record.turns[step.turn.index - 1]
        return turn.annotation if isinstance(turn, ClientTurn) else None

    def assistant(self, step: Step, text: str, strategies: list[str]) -> Message:
        """An assistant message answering at `step`'s position (the reply or a negative)."""
        prefix = plan_prefix(self.emotion_before(step), strategies) if self.planning else ""
        return Message(role="assistant", content=prefix + text)


def build_dialogue(
    record: ConversationRecord, family: str, options: ExportOptions, system_text: str
) -> Dialogue:
    system = Message(role="system", content=system_text) if options.system_prompt else None
    steps: list[Step] = []
    dialogue = Dialogue(record, family, system, steps, options.planning)
    for turn in record.turns:
        if isinstance(turn, ClientTurn):
            steps.append(Step(turn, Message(role="user", content=turn.text)))
            continue
        placeholder = Step(turn, Message(role="assistant", content=""))
        message = dialogue.assistant(placeholder, turn.text, turn_strategies(turn))
        steps.append(Step(turn, message, is_trainable(turn, options)))
    return dialogue
