"""Who may supersede whose label events: the same person, or a role allowed to (label_roles.yaml).

A person is a source kind AND a name (`human_bulk_review:rev@example.org` and
`live_operator:rev@example.org` are two identities). An event that supersedes another
person's event (retracts, rejects, corrects or accepts it by id) is refused unless its
source holds a role with `supersede_others: true`. Model and rule events belong to nobody:
anyone may correct, accept or reject them by id; retracting one is for its own source or a
role allowed to. Names are as the streams give them (CSV `reviewer`, Label Studio annotator
email, operator handle): the roles file trusts them, it does not authenticate anyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

from pydantic import Field, model_validator

from emosim.files import load_yaml_model
from emosim.paths import project_root
from emosim.schemas import LabelSource
from emosim.schemas.common import StrictModel
from emosim.schemas.labels import SourceKind

from .policy import HUMAN_KINDS

ROLES_FILE = "label_roles.yaml"


class Role(StrictModel):
    description: str = Field(default="", description="What the role is for, for people.")
    supersede_others: bool = Field(
        default=False,
        description="May retract, reject, correct or accept another person's events by id.",
    )


class Member(StrictModel):
    name: str = Field(min_length=1, description="Reviewer email or operator handle.")
    kinds: list[SourceKind] = Field(
        default_factory=lambda: sorted(HUMAN_KINDS),  # type: ignore[arg-type]
        description="Streams in which the name holds the role (default: both human streams).",
    )
    role: str = Field(description="A role defined under `roles`.")


class SourceRef(NamedTuple):
    """Who made a stored event (its source kind and name), read without parsing the event."""

    kind: str
    name: str


Person = LabelSource | SourceRef


class Owned(Protocol):
    """Anything that says who made it: a LabelEvent, or a stored event's reference."""

    @property
    def source(self) -> Person: ...


class Acting(Owned, Protocol):
    """An event about to be stored: who makes it and what it does."""

    @property
    def action(self) -> str: ...


class Roles(StrictModel):
    """label_roles.yaml: the roles and who holds them."""

    roles: dict[str, Role] = Field(default_factory=dict, description="Role id -> role.")
    members: list[Member] = Field(default_factory=list, description="Who holds which role.")

    @model_validator(mode="after")
    def _known_roles(self) -> Roles:
        for i, m in enumerate(self.members):
            if m.role not in self.roles:
                known = ", ".join(sorted(self.roles)) or "none defined"
                raise ValueError(f"members.{i}.role: unknown role {m.role!r} (roles: {known})")
        return self

    def roles_of(self, source: Person) -> list[str]:
        return [m.role for m in self.members if m.name == source.name and source.kind in m.kinds]

    def leads(self) -> frozenset[SourceRef]:
        """Every (kind, name) whose role may supersede other people's events."""
        return frozenset(
            SourceRef(kind, m.name)
            for m in self.members
            if self.roles[m.role].supersede_others
            for kind in m.kinds
        )

    def may_supersede_others(self, source: Person) -> bool:
        return SourceRef(source.kind, source.name) in self.leads()


def roles_path() -> Path:
    return project_root() / ROLES_FILE


def load_roles(path: Path | None = None) -> Roles:
    """The roles file (default: label_roles.yaml at the project root); none: no roles."""
    path = path or roles_path()
    return load_yaml_model(path, Roles) if path.is_file() else Roles()


def same_person(a: Person, b: Person) -> bool:
    return a.kind == b.kind and a.name == b.name


def supersede_problem(
    event: Acting, target: Owned, roles: Roles, leads: frozenset[SourceRef] | None = None
) -> str | None:
    """Why `event` may not supersede `target`, or None when it may (`leads`: `roles.leads()`,
    given when many events are checked at once)."""
    me, owner = event.source, target.source
    if same_person(me, owner):
        return None
    if owner.kind not in HUMAN_KINDS and event.action != "retract":
        return None  # model and rule events belong to nobody
    if SourceRef(me.kind, me.name) in (roles.leads() if leads is None else leads):
        return None
    mine = f"{event.source.kind}:{event.source.name}"
    theirs = f"{target.source.kind}:{target.source.name}"
    allowed = [r for r, role in roles.roles.items() if role.supersede_others]
    who = (
        f"a role allowed to ({', '.join(allowed)} in {ROLES_FILE})"
        if allowed
        else f"a role with supersede_others in {ROLES_FILE}"
    )
    if target.source.kind in HUMAN_KINDS:
        return (
            f"{mine} cannot {event.action} {theirs}'s event: only the same person (source kind "
            f"and name) or {who} may; to disagree, send your own label without `supersedes`"
        )
    if event.action == "retract":
        return (
            f"{mine} cannot retract a {target.source.kind} event ({theirs}): retract withdraws "
            f"your own event (or needs {who}); use 'reject' or 'correct'"
        )
    return None
