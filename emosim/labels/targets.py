"""What label events may point at: the conversations, turns and sentences of the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from emosim.schemas import AdvisorTurn, ConversationRecord

# field -> speaker of the turn it labels (None: conversation-level)
FIELD_SPEAKER: dict[str, str | None] = {
    "emotion": "client",
    "secondary_emotion": "client",
    "intensity": "client",
    "strategy": "advisor",
    "sentence_function": "advisor",
    "review_status": None,
    "quality": None,
    "candidate_ranking": "advisor",
    "conversation_verdict": None,
    "emotional_authenticity": None,
    "helpfulness": None,
}
TURN_FIELDS = ("emotion", "secondary_emotion", "intensity", "strategy")
SENTENCE_FIELDS = ("sentence_function",)


class TargetKey(NamedTuple):
    """Hashable identity of one label: (conversation, turn, sentence, field)."""

    conversation_id: str
    turn_index: int | None
    sentence_index: int | None
    field: str

    def sort_key(self) -> tuple[str, int, int, str]:
        """Conversation order: conversation-level labels first, then turn by turn."""
        turn = -1 if self.turn_index is None else self.turn_index
        sentence = -1 if self.sentence_index is None else self.sentence_index
        return (self.conversation_id, turn, sentence, self.field)

    def describe(self) -> str:
        parts = [self.conversation_id]
        if self.turn_index is not None:
            parts.append(f"turn {self.turn_index}")
        if self.sentence_index is not None:
            parts.append(f"sentence {self.sentence_index}")
        return f"{' '.join(parts)} {self.field}"


class TurnShape(NamedTuple):
    """What a target check needs of a turn: who speaks, and how many sentences it has."""

    speaker: str
    sentences: int


@dataclass
class TurnInfo:
    speaker: str
    text: str
    sentences: list[str] = field(default_factory=list)


@dataclass
class ConversationInfo:
    """The part of a record that targets are checked against and analytics read."""

    conversation_id: str
    topic: str
    subcategory: str
    scenario_id: str
    turns: list[TurnInfo]

    @classmethod
    def from_record(cls, record: ConversationRecord) -> ConversationInfo:
        turns = [
            TurnInfo(
                speaker=t.speaker,
                text=t.text,
                sentences=[s.text for s in t.sentences] if isinstance(t, AdvisorTurn) else [],
            )
            for t in record.turns
        ]
        return cls(
            record.id,
            record.scenario.topic,
            record.scenario.subcategory,
            record.scenario.scenario_id,
            turns,
        )

    def shape(self) -> list[TurnShape]:
        return [TurnShape(t.speaker, len(t.sentences)) for t in self.turns]

    def text_of(self, key: TargetKey) -> str:
        """The words a label is about: the sentence, the turn, or the whole conversation."""
        if key.turn_index is None:
            return "\n".join(t.text for t in self.turns)
        turn = self.turns[key.turn_index]
        if key.sentence_index is not None:
            return turn.sentences[key.sentence_index]
        return turn.text

    def targets(self) -> list[TargetKey]:
        """Every turn- and sentence-level target the conversation has."""
        out: list[TargetKey] = []
        for index, turn in enumerate(self.turns):
            for name in TURN_FIELDS:
                if FIELD_SPEAKER[name] == turn.speaker:
                    out.append(TargetKey(self.conversation_id, index, None, name))
            for s in range(len(turn.sentences)):
                out.append(TargetKey(self.conversation_id, index, s, "sentence_function"))
        return out


def target_problem(turns: Sequence[TurnShape] | None, key: TargetKey) -> str | None:
    """Why `key` does not name a label of the conversation (its turns' shape, None when it
    is not in the store), or None when it does."""
    if turns is None:
        return (
            f"unknown conversation {key.conversation_id!r} "
            "(import its records first: emosim labels import)"
        )
    speaker = FIELD_SPEAKER[key.field]
    if speaker is None:
        if key.turn_index is not None or key.sentence_index is not None:
            return f"field {key.field!r} is conversation-level: give no turn_index/sentence_index"
        return None
    if key.turn_index is None:
        return f"field {key.field!r} needs a turn_index"
    if key.turn_index >= len(turns):
        return (
            f"unknown turn {key.turn_index} in conversation {key.conversation_id!r} "
            f"(it has {len(turns)} turns, 0-{len(turns) - 1})"
        )
    turn = turns[key.turn_index]
    if turn.speaker != speaker:
        return (
            f"turn {key.turn_index} of {key.conversation_id!r} is a {turn.speaker} turn; "
            f"field {key.field!r} labels {speaker} turns"
        )
    if key.field in SENTENCE_FIELDS:
        if key.sentence_index is None:
            return f"field {key.field!r} needs a sentence_index"
        if key.sentence_index >= turn.sentences:
            return (
                f"unknown sentence {key.sentence_index} in turn {key.turn_index} of "
                f"{key.conversation_id!r} (it has {turn.sentences} sentences)"
            )
    elif key.sentence_index is not None:
        return f"field {key.field!r} is turn-level: give no sentence_index"
    return None
