"""The rows each format writes: pydantic models, so every line has the trainer's exact shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from ..schemas.common import StrictModel

Role = Literal["system", "user", "assistant"]


class Row(BaseModel):
    """Base of every row; dumped with `exclude_none` so optional keys stay off other roles."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class Message(Row):
    role: Role
    content: str


class WeightedMessage(Message):
    weight: Literal[0, 1] | None = Field(default=None, description="OpenAI loss flag (assistant).")


class TrainMessage(Message):
    train: bool = Field(description="Axolotl per-message loss flag (message_field_training).")


class OpenAIChatRow(Row):
    messages: list[WeightedMessage]


class OpenAIDPOInput(Row):
    messages: list[Message]


class OpenAIDPORow(Row):
    input: OpenAIDPOInput
    preferred_output: list[Message]
    non_preferred_output: list[Message]


class TRLMessagesRow(Row):
    messages: list[Message]


class TRLPromptCompletionRow(Row):
    prompt: list[Message]
    completion: list[Message]


class TRLDPORow(Row):
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]


class TRLRewardRow(Row):
    """TRL RewardTrainer: the loss is -log sigmoid(r_chosen - r_rejected - margin)."""

    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    margin: float


class TRLKTORow(Row):
    prompt: list[Message]
    completion: list[Message]
    label: bool


class AxolotlRow(Row):
    messages: list[TrainMessage]


class ShareGPTTurn(Row):
    from_: Literal["system", "human", "gpt"] = Field(alias="from")
    value: str


class ShareGPTRow(Row):
    conversations: list[ShareGPTTurn]


class ContextTurn(Row):
    speaker: Literal["client", "advisor"]
    text: str


class EmotionClassificationRow(Row):
    """One client turn, for training or evaluating an emotion detector."""

    record_id: str
    turn_index: int
    text: str
    context: list[ContextTurn] = Field(description="Turns before this one, oldest first.")
    emotion: str = Field(description="Resolved primary emotion.")
    family: str = Field(description="Goleman family of the emotion.")
    intensity: float
    intensity_level: Literal["low", "medium", "high"]
    secondary_emotion: str = Field(description="Resolved secondary emotion, '' when none.")
    topic: str
    source: str = Field(description="simulated, real or hand_authored.")


class RowMeta(StrictModel):
    """Where a row came from: `meta/<split>.jsonl`, line i describes row i of `<split>.jsonl`."""

    record_id: str
    family: str
    turn_index: int | None = Field(
        default=None,
        description="Advisor turn (client turn for classification); None = whole conversation.",
    )
    advisor_turns: list[int] = Field(
        default_factory=list,
        description="Advisor turn indices the row contains as assistant messages.",
    )
    trained_turns: list[int] = Field(
        default_factory=list, description="Advisor turn indices the row trains on."
    )
    pair_source: Literal["critic", "anti_pattern", "human_ranking"] | None = Field(
        default=None,
        description="Where a preference pair came from: a critic-rejected draft, a taxonomy "
        "anti-pattern, or reviewers' rankings of candidate replies.",
    )
    negative: str | None = Field(
        default=None,
        description="Rejected draft attempt number, anti-pattern id, or the rejected (KTO: "
        "labelled) candidate's id.",
    )
    label: bool | None = Field(default=None, description="KTO label of the row.")
    chosen: str | None = Field(
        default=None, description="human_ranking: the chosen candidate's id (pairs only)."
    )
    margin: float | None = Field(
        default=None,
        description="human_ranking: Plackett-Luce score of chosen minus rejected (KTO: the "
        "candidate's score against its set's average).",
    )
    agreement: float | None = Field(
        default=None,
        description="human_ranking: Krippendorff's alpha of the set's rankings (absent with "
        "one reviewer).",
    )
    support: float | None = Field(
        default=None, description="human_ranking: share of reviewers who ranked chosen higher."
    )
    confidence: float | None = Field(
        default=None,
        description="human_ranking: the model's probability that chosen is the better reply "
        "(Laplace approximation of the Plackett-Luce fit).",
    )
    reviewers: int | None = Field(
        default=None, description="human_ranking: reviewers who ranked the set."
    )

    @model_serializer(mode="wrap")
    def _drop_empty_human(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Rows without human rankings keep the provenance lines they always had."""
        data = handler(self)
        for key in _HUMAN_META:
            if key in data and data[key] is None:
                del data[key]
        return data


_HUMAN_META = ("chosen", "margin", "agreement", "support", "confidence", "reviewers")
