"""What Studio shows: the input form, the assistant's context, the output, the thread state.

Descriptions here are what Studio displays beside each field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from emosim.graphs.state import SimState

from .edits import studio_turns, studio_work

Observer = Literal["lexicon", "classifier"]


class StudioInput(BaseModel):
    """One conversation to play, as a person would type it."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(
        description=(
            "A shipped scenario id (a file in simulations/, without .yaml) or the path of a "
            "scenario YAML file."
        ),
        examples=["student_loan_servicer_frustration"],
    )
    seed: int | None = Field(
        default=None, description="Random seed (empty: the scenario's own seed)."
    )
    backend: str | None = Field(
        default=None,
        description=(
            "Agent backend spec, as `emosim run --backend` takes it (see `emosim backends "
            "show`); empty: the assistant's context, else scripted (offline)."
        ),
        examples=["scripted"],
    )
    observer: Observer | None = Field(
        default=None,
        description="Emotion observer: lexicon or classifier (empty: the assistant's context).",
    )


class StudioContext(BaseModel):
    """Assistant-wide defaults for runs whose input leaves them empty."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        default="scripted", description="Agent backend spec used when the input gives none."
    )
    observer: Observer = Field(
        default="lexicon", description="Emotion observer used when the input gives none."
    )


class StudioOutput(TypedDict, total=False):
    conversation_id: Annotated[
        str, Field(description="The conversation's id (a fork's id names its parent).")
    ]
    status: Annotated[str, Field(description="running, completed or failed.")]
    record: Annotated[
        dict[str, Any] | None,
        Field(description="The finished ConversationRecord (schemas/conversation_record)."),
    ]


class StudioState(TypedDict, total=False):
    """A Studio thread's state. `work` is the engine's working set (what `emosim inspect`
    shows); `turns` are the committed turns, kept in the state so that a fork or time travel
    in Studio sees the turns of its own branch."""

    scenario: str
    seed: int | None
    backend: str | None
    observer: str | None
    job: dict[str, Any]  # the resolved job (as a run manifest lists it), backend, observer, run id
    conversation_id: str
    lineage: dict[str, Any] | None  # set when the thread was forked by a state edit
    work: Annotated[SimState, studio_work]
    turns: Annotated[list[dict[str, Any]], studio_turns]
    record: dict[str, Any] | None
    status: str
