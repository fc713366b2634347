"""`--format layer` and `--format layer-plan`: content-agnostic rows for an emotional adapter.

Both mask every domain specific (names, topics, terms, figures: `emosim.layer.mask`) in every
message, so an adapter trained on them learns how to meet a feeling, not what to say about
money, and can be stacked with a customer's own domain adapter.

- `layer`: TRL prompt-completion, one row per trainable advisor turn. Prompt: a domain-neutral
  system prompt and the masked conversation so far. Completion: a plan line (the client's
  emotion and intensity, the strategies, the sentence functions in order) then the masked
  reply, the response skeleton.
- `layer-plan`: the same prompt; the completion is only the plan, as JSON (emotion reading +
  strategy plan): what a planning model or the layer's own chat-time reading is trained on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..catalog import Catalog
from ..schemas import AdvisorTurn
from .dialogue import Dialogue, Step, turn_strategies
from .rows import Message, TRLPromptCompletionRow

if TYPE_CHECKING:
    from .formats import BuiltRow

LAYER_SYSTEM = (
    "You are an emotionally attuned assistant. Before answering, read how the user feels and "
    "choose how to meet that feeling. Domain details are masked as [NAME], [TOPIC], [TERM], "
    "[AMOUNT], [PERCENT] and [NUMBER]; keep them as placeholders."
)


def _plan(d: Dialogue, step: Step) -> dict:
    turn = step.turn
    assert isinstance(turn, AdvisorTurn)
    emotion = d.emotion_before(step)
    return {
        "emotion": emotion.primary if emotion else None,
        "family": emotion.family if emotion else None,
        "intensity": emotion.intensity_level if emotion else None,
        "strategies": turn_strategies(turn),
        "functions": [s.function for s in turn.sentences],
    }


def _prompt(d: Dialogue, step: Step, mask) -> list[Message]:  # noqa: ANN001
    history = [s.turn for s in d.steps[: step.turn.index]]
    return [Message(role="system", content=LAYER_SYSTEM)] + [
        Message(role="user" if t.speaker == "client" else "assistant", content=mask(t.text))
        for t in history
    ]


def _rows(d: Dialogue, catalog: Catalog, plan_only: bool) -> list[BuiltRow]:
    from ..layer.mask import Masker
    from .formats import BuiltRow, _meta  # formats registers these builders

    mask = Masker.for_record(d.record, catalog)
    rows = []
    for step in d.trainable_steps:
        plan = _plan(d, step)
        if plan_only:
            content = json.dumps(plan, ensure_ascii=False)
        else:
            head = (
                f"<plan>emotion: {plan['emotion']} ({plan['intensity']}); strategy: "
                f"{' + '.join(plan['strategies']) or 'unknown'}; functions: "
                f"{' > '.join(plan['functions']) or 'unknown'}</plan>\n"
            )
            content = head + mask(step.turn.text)
        row = TRLPromptCompletionRow(
            prompt=_prompt(d, step, mask),
            completion=[Message(role="assistant", content=content)],
        )
        meta = _meta(d, step, advisor_turns=[step.turn.index], trained_turns=[step.turn.index])
        rows.append(BuiltRow(row, meta))
    return rows


def layer(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    return _rows(d, catalog, plan_only=False)


def layer_plan(d: Dialogue, catalog: Catalog, anti: bool) -> list[BuiltRow]:
    return _rows(d, catalog, plan_only=True)
