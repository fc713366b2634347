"""Row builders, one per format: a resolved dialogue in, that format's rows (with provenance) out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..catalog import Catalog
from ..preferences.human import HumanPair
from ..schemas import ClientTurn
from .dialogue import Dialogue, Step
from .layer import layer, layer_plan
from .pairs import Negative, negatives
from .rows import (
    AxolotlRow,
    ContextTurn,
    EmotionClassificationRow,
    Message,
    OpenAIChatRow,
    OpenAIDPOInput,
    OpenAIDPORow,
    Row,
    RowMeta,
    ShareGPTRow,
    ShareGPTTurn,
    TrainMessage,
    TRLDPORow,
    TRLKTORow,
    TRLMessagesRow,
    TRLPromptCompletionRow,
    TRLRewardRow,
    WeightedMessage,
)


@dataclass(frozen=True)
class BuiltRow:
    row: Row
    meta: RowMeta

    @property
    def sort_key(self) -> tuple[str, int]:
        return (self.meta.record_id, -1 if self.meta.turn_index is None else self.meta.turn_index)


Builder = Callable[[Dialogue, Catalog, bool], list[BuiltRow]]


def _meta(d: Dialogue, step: Step | None = None, **extra: object) -> RowMeta:
    turn_index = None if step is None else step.turn.index
    return RowMeta(record_id=d.record.id, family=d.family, turn_index=turn_index, **extra)  # type: ignore[arg-type]


def _advisor(steps: list[Step]) -> list[int]:
    return [s.turn.index for s in steps if s.is_advisor]


def _trained(steps: list[Step]) -> list[int]:
    return [s.turn.index for s in steps if s.trainable]


def _through_last_trainable(d: Dialogue) -> list[Step]:
    """For formats without a per-turn flag: cut after the last trainable turn."""
    trained = _trained(d.steps)
    return d.steps[: trained[-1] + 1] if trained else []


def openai_chat(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    steps = d.chat_steps
    if not _trained(steps):
        return []
    messages = [WeightedMessage(role="system", content=d.system.content)] if d.system else []
    for s in steps:
        weight = (1 if s.trainable else 0) if s.is_advisor else None
        messages.append(
            WeightedMessage(role=s.message.role, content=s.message.content, weight=weight)
        )
    meta = _meta(d, advisor_turns=_advisor(steps), trained_turns=_trained(steps))
    return [BuiltRow(OpenAIChatRow(messages=messages), meta)]


def axolotl(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    steps = d.chat_steps
    if not _trained(steps):
        return []
    messages = (
        [TrainMessage(role="system", content=d.system.content, train=False)] if d.system else []
    )
    messages += [
        TrainMessage(role=s.message.role, content=s.message.content, train=s.trainable)
        for s in steps
    ]
    meta = _meta(d, advisor_turns=_advisor(steps), trained_turns=_trained(steps))
    return [BuiltRow(AxolotlRow(messages=messages), meta)]


def trl_messages(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    steps = _through_last_trainable(d)
    if not steps:
        return []
    messages = ([d.system] if d.system else []) + [s.message for s in steps]
    # TRL's assistant-only loss trains every assistant message in the row
    meta = _meta(d, advisor_turns=_advisor(steps), trained_turns=_advisor(steps))
    return [BuiltRow(TRLMessagesRow(messages=messages), meta)]


_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def sharegpt(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    steps = _through_last_trainable(d)
    if not steps:
        return []
    messages = ([d.system] if d.system else []) + [s.message for s in steps]
    turns = [ShareGPTTurn(from_=_SHAREGPT_FROM[m.role], value=m.content) for m in messages]  # type: ignore[arg-type]
    meta = _meta(d, advisor_turns=_advisor(steps), trained_turns=_advisor(steps))
    return [BuiltRow(ShareGPTRow(conversations=turns), meta)]


def trl_prompt_completion(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    return [
        BuiltRow(
            TRLPromptCompletionRow(prompt=d.prompt_for(s), completion=[s.message]),
            _meta(d, s, advisor_turns=[s.turn.index], trained_turns=[s.turn.index]),
        )
        for s in d.trainable_steps
    ]


def _candidate_strategies(candidate) -> list[str]:  # noqa: ANN001
    use = candidate.observed or candidate.planned
    return [use.primary, *(s for s in use.combination if s != use.primary)] if use else []


def _human_pairs(d: Dialogue) -> list[tuple[Step, HumanPair]]:
    """Pairs from reviewers' rankings of candidate replies, in turn order, best pairs first."""
    out = []
    for s in d.steps:
        ranked = d.ranked.get(s.turn.index) if s.is_advisor else None
        if ranked is not None:
            out += [(s, p) for p in ranked.pairs(d.min_agreement, d.min_margin)]
    return out


def _human_meta(d: Dialogue, s: Step, p: HumanPair) -> RowMeta:
    return _meta(
        d,
        s,
        advisor_turns=[s.turn.index],
        trained_turns=[s.turn.index],
        pair_source="human_ranking",
        negative=p.rejected.candidate_id,
        chosen=p.chosen.candidate_id,
        margin=round(p.preference.margin, 4),
        agreement=None if p.agreement is None else round(p.agreement, 4),
        support=round(p.preference.support, 4),
        confidence=round(p.preference.confidence, 4),
        reviewers=d.ranked[s.turn.index].fit.reviewers,
    )


def _human_messages(d: Dialogue, s: Step, p: HumanPair) -> tuple[Message, Message]:
    return (
        d.assistant(s, p.chosen.text, _candidate_strategies(p.chosen)),
        d.assistant(s, p.rejected.text, _candidate_strategies(p.rejected)),
    )


def _pairs(d: Dialogue, catalog: Catalog, anti: bool) -> list[tuple[Step, Negative]]:
    return [(s, n) for s in d.trainable_steps for n in negatives(d, s, catalog, anti)]


def _pair_meta(d: Dialogue, s: Step, n: Negative, label: bool | None = None) -> RowMeta:
    return _meta(
        d,
        s,
        advisor_turns=[s.turn.index],
        trained_turns=[s.turn.index],
        pair_source=n.source,
        negative=n.tag,
        label=label,
    )


def _every_pair(
    d: Dialogue, catalog: Catalog, anti: bool
) -> list[tuple[Step, Message, Message, RowMeta, float]]:
    """(step, chosen, rejected, provenance, margin): critic pairs (margin 0) and human ones."""
    out = [
        (s, s.message, d.assistant(s, n.text, n.strategies), _pair_meta(d, s, n), 0.0)
        for s, n in _pairs(d, catalog, anti)
    ]
    for s, p in _human_pairs(d):
        chosen, rejected = _human_messages(d, s, p)
        out.append((s, chosen, rejected, _human_meta(d, s, p), round(p.preference.margin, 4)))
    return out


def trl_dpo(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    return [
        BuiltRow(TRLDPORow(prompt=d.prompt_for(s), chosen=[c], rejected=[r]), meta)
        for s, c, r, meta, _ in _every_pair(d, catalog, anti)
    ]


def openai_dpo(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    return [
        BuiltRow(
            OpenAIDPORow(
                input=OpenAIDPOInput(messages=d.prompt_for(s)),
                preferred_output=[c],
                non_preferred_output=[r],
            ),
            meta,
        )
        for s, c, r, meta, _ in _every_pair(d, catalog, anti)
    ]


def trl_reward(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    """Critic pairs carry margin 0 (the plain Bradley-Terry loss); human pairs their margin."""
    return [
        BuiltRow(TRLRewardRow(prompt=d.prompt_for(s), chosen=[c], rejected=[r], margin=m), meta)
        for s, c, r, meta, m in _every_pair(d, catalog, anti)
    ]


def trl_kto(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    """Every trainable reply is desirable; every negative for it is undesirable. A turn whose
    candidates reviewers ranked: candidates above their set's average are desirable, below
    undesirable (the sent reply among them, labelled by the reviewers, not by default)."""
    rows: list[BuiltRow] = []
    judged: set[int] = set()
    for s in d.steps:
        ranked = d.ranked.get(s.turn.index) if s.is_advisor else None
        if ranked is None or not ranked.passes(d.min_agreement):
            continue
        judged.add(s.turn.index)
        prompt = d.prompt_for(s)
        for candidate, score, good in ranked.labelled(d.min_agreement, d.min_margin):
            meta = _meta(
                d,
                s,
                advisor_turns=[s.turn.index],
                trained_turns=[s.turn.index],
                pair_source="human_ranking",
                negative=candidate.candidate_id,
                label=good,
                margin=round(score.score, 4),
                agreement=None if ranked.agreement is None else round(ranked.agreement, 4),
                reviewers=ranked.fit.reviewers,
            )
            reply = d.assistant(s, candidate.text, _candidate_strategies(candidate))
            rows.append(BuiltRow(TRLKTORow(prompt=prompt, completion=[reply], label=good), meta))
    for s in d.trainable_steps:
        prompt = d.prompt_for(s)
        meta = _meta(d, s, advisor_turns=[s.turn.index], trained_turns=[s.turn.index], label=True)
        if s.turn.index not in judged:
            rows.append(
                BuiltRow(TRLKTORow(prompt=prompt, completion=[s.message], label=True), meta)
            )
        for n in negatives(d, s, catalog, anti):
            bad: list[Message] = [d.assistant(s, n.text, n.strategies)]
            rows.append(
                BuiltRow(
                    TRLKTORow(prompt=prompt, completion=bad, label=False),
                    _pair_meta(d, s, n, label=False),
                )
            )
    return rows


def emotion_classification(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    """One row per client turn that has a resolved emotion label."""
    rows: list[BuiltRow] = []
    record = d.record
    for turn in record.turns:
        if not isinstance(turn, ClientTurn) or turn.annotation is None:
            continue
        a = turn.annotation
        context = [ContextTurn(speaker=t.speaker, text=t.text) for t in record.turns[: turn.index]]
        row = EmotionClassificationRow(
            record_id=record.id,
            turn_index=turn.index,
            text=turn.text,
            context=context,
            emotion=a.primary,
            family=a.family,
            intensity=a.intensity,
            intensity_level=a.intensity_level,
            secondary_emotion=a.secondary or "",
            topic=record.scenario.topic,
            source=record.provenance.source,
        )
        rows.append(
            BuiltRow(row, RowMeta(record_id=record.id, family=d.family, turn_index=turn.index))
        )
    return rows


BUILDERS: dict[str, Builder] = {
    "openai-chat": openai_chat,
    "openai-dpo": openai_dpo,
    "trl-messages": trl_messages,
    "trl-prompt-completion": trl_prompt_completion,
    "trl-dpo": trl_dpo,
    "trl-kto": trl_kto,
    "trl-reward": trl_reward,
    "axolotl": axolotl,
    "sharegpt": sharegpt,
    "emotion-classification": emotion_classification,
    "layer": layer,
    "layer-plan": layer_plan,
}
PREFERENCE_FORMATS = ("openai-dpo", "trl-dpo", "trl-kto", "trl-reward")
UNFLAGGED_FORMATS = ("trl-messages", "sharegpt")
"""Formats whose trainers train every assistant message: rows end at the last trainable turn."""
