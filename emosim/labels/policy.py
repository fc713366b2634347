"""The resolution policy: which source wins when streams disagree about a label."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from emosim.files import load_yaml_model
from emosim.schemas.common import StrictModel
from emosim.schemas.labels import SourceKind

DEFAULT_PRIORITY: list[SourceKind] = ["live_operator", "human_bulk_review", "rule", "model"]
HUMAN_KINDS: frozenset[str] = frozenset({"live_operator", "human_bulk_review"})


class ResolutionPolicy(StrictModel):
    """How the current label of a target is chosen from its effective events.

    1. `retract` withdraws the event it supersedes (as if it had never been made; a retract
       can itself be retracted).
    2. `reject` removes the event it supersedes from the candidates or, without `supersedes`,
       every earlier candidate with the rejected value.
    3. Of the remaining `suggest`/`accept`/`correct` events, the source kind ranked first in
       `priority` wins; within a kind, `within_kind` decides (latest `created_at`, or highest
       confidence then latest). An `accept` without a value takes the accepted event's.

    `supersedes` on `correct`/`accept` records what the event answers (analytics read it);
    it does not remove the superseded event, so a lower-ranked source can never overrule a
    higher one and every source's opinion stays visible as a disagreement. Who may supersede
    whose event is checked when it is stored (roles.py, label_roles.yaml).
    """

    priority: list[SourceKind] = Field(
        default_factory=lambda: list(DEFAULT_PRIORITY),
        description="Source kinds from most to least trusted; every kind exactly once.",
    )
    within_kind: Literal["latest", "highest_confidence"] = Field(
        default="latest", description="Tie-break among events of the same kind."
    )

    @field_validator("priority")
    @classmethod
    def _every_kind_once(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(DEFAULT_PRIORITY):
            raise ValueError(
                f"priority must list each of {', '.join(DEFAULT_PRIORITY)} exactly once"
            )
        return value

    def rank(self, kind: str) -> int:
        """0 = most trusted."""
        return self.priority.index(kind)  # type: ignore[arg-type]

    def kinds_above(self, kind: str) -> list[str]:
        return list(self.priority[: self.rank(kind)])

    def kinds_below(self, kind: str) -> list[str]:
        return list(self.priority[self.rank(kind) + 1 :])


def load_policy(path: Path | None, priority: str | None = None) -> ResolutionPolicy:
    """Policy from a YAML file and/or a comma-separated `--priority` option (option wins)."""
    policy = load_yaml_model(path, ResolutionPolicy) if path else ResolutionPolicy()
    if priority:
        from pydantic import ValidationError

        from emosim.errors import EmosimError

        kinds = [k.strip() for k in priority.split(",") if k.strip()]
        try:
            policy = policy.model_copy(
                update={"priority": ResolutionPolicy(priority=kinds).priority}  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise EmosimError(f"--priority {priority!r}: {msg}") from None
    return policy
