"""Validated models behind the plain values of the graph state, without validating twice.

The state holds JSON-ready dicts (that is what checkpoints store and what `fork --set`
edits), while nodes work with pydantic models. A value produced by a node in this process
is the very object the next node reads back (LangGraph keeps channel values by reference),
so the model it was dumped from can be handed out again instead of re-validating the dict.
Anything else (a resumed or forked state, a value edited by hand) is validated as usual.

Models handed out are shared: nodes treat them as read-only, as they do the state itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class Views:
    def __init__(self) -> None:
        # (id(value), model type) -> (value, model); holding the value keeps its id unused
        self._models: dict[tuple[int, type], tuple[Any, BaseModel]] = {}

    def dump(self, model: BaseModel) -> dict[str, Any]:
        """The model as a state value, remembered as this model."""
        value = model.model_dump(mode="json")
        self._models[id(value), type(model)] = (value, model)
        return value

    def model(self, model_type: type[M], value: Any, make: Callable[[Any], M] | None = None) -> M:
        """The model behind a state value: the remembered one, or built from `value` (by
        `make`, or by validating it) and remembered."""
        known = self._models.get((id(value), model_type))
        if known is not None and known[0] is value:
            return known[1]  # type: ignore[return-value]
        model = make(value) if make else model_type.model_validate(value)
        self._models[id(value), model_type] = (value, model)
        return model
