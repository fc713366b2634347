"""The backend spec: which backend plays which role, parsed in one place.

Forms (the `--backend` option, a scenario's or run config's backend field):

    scripted                                  every role scripted (the default)
    anthropic                                 every role on Claude (models from settings)
    anthropic:claude-opus-5-5                 ... with one model for every role
    client=anthropic,advisor=anthropic,*=scripted
    advisor=langchain:langchain_openai.ChatOpenAI?model=gpt-5&timeout=60
    replay:runs/20261010-120000-demo-ab12cd   answer every model call from that run's cassette
    my-backends.yaml                          a BackendConfig file (roles + settings overrides)

A role that no item names (and no `*`) is scripted.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emosim.errors import DataError, EmosimError
from emosim.files import format_validation_error, load_yaml_node, parse_yaml
from emosim.schemas.common import StrictModel

ROLES: tuple[str, ...] = (
    "client",
    "advisor",
    "emotion_observer",
    "strategy_observer",
    "sentence_observer",
    "critic",
)
KINDS = ("scripted", "anthropic", "langchain", "replay")
_ROLE_ITEM = re.compile(r"^\s*([a-z_*]+)\s*=(.*)$")
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
SECRET_KEYS = re.compile(r"key|token|secret|password|credential", re.IGNORECASE)


class ScriptedRole(StrictModel):
    kind: Literal["scripted"] = "scripted"


class AnthropicRole(StrictModel):
    kind: Literal["anthropic"] = "anthropic"
    model: str | None = Field(default=None, description="Overrides the settings' model.")


class LangChainRole(StrictModel):
    kind: Literal["langchain"] = "langchain"
    target: str = Field(description="Import path of a BaseChatModel class, module.Class.")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Constructor arguments.")
    method: str | None = Field(
        default=None, description="with_structured_output method (e.g. json_schema)."
    )

    def public_kwargs(self) -> dict[str, Any]:
        """Constructor arguments safe to write down: secrets redacted."""
        return {k: "[redacted]" if SECRET_KEYS.search(k) else v for k, v in self.kwargs.items()}

    def model_name(self) -> str | None:
        for key in ("model", "model_name", "model_id"):
            if isinstance(self.kwargs.get(key), str):
                return self.kwargs[key]
        return None


RoleBackend = Annotated[ScriptedRole | AnthropicRole | LangChainRole, Field(discriminator="kind")]


class BackendConfig(StrictModel):
    """A backend config file: per-role backends and overrides of agents/llm/defaults.yaml."""

    roles: dict[str, str | RoleBackend] = Field(
        description="Role (or '*') -> a backend spec string or a backend mapping."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Deep-merged over agents/llm/defaults.yaml."
    )


class BackendPlan(BaseModel):
    """The parsed spec: a backend for every role, settings overrides, or a run to replay."""

    model_config = ConfigDict(frozen=True)

    source: str
    roles: dict[str, RoleBackend]
    settings: dict[str, Any] = Field(default_factory=dict)
    replay: Path | None = None

    def uses_models(self) -> bool:
        return self.replay is not None or any(r.kind != "scripted" for r in self.roles.values())

    def describe(self) -> str:
        if self.replay is not None:
            return f"replay:{self.replay}"
        items = {role: _item_text(b) for role, b in self.roles.items()}
        values = list(items.values())
        common = max(values, key=values.count)
        if values.count(common) == len(values):
            return common
        named = [f"{role}={text}" for role, text in items.items() if text != common]
        return ",".join([*named, f"*={common}"])


def _item_text(backend: ScriptedRole | AnthropicRole | LangChainRole) -> str:
    if isinstance(backend, AnthropicRole):
        return f"anthropic:{backend.model}" if backend.model else "anthropic"
    if isinstance(backend, LangChainRole):
        return f"langchain:{backend.target}"
    return "scripted"


def _scalar(text: str) -> Any:
    try:
        value, _ = parse_yaml(text, "backend option")
    except DataError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def parse_backend(text: str, where: str) -> ScriptedRole | AnthropicRole | LangChainRole:
    """One backend without a role: scripted | anthropic[:MODEL] | langchain:module.Class?k=v."""
    text = text.strip()
    kind, _, rest = text.partition(":")
    if kind == "scripted" and not rest:
        return ScriptedRole()
    if kind == "anthropic":
        return AnthropicRole(model=rest.strip() or None)
    if kind == "langchain":
        target, _, query = rest.partition("?")
        target = target.strip()
        if not _IMPORT_PATH.match(target):
            raise EmosimError(
                f"{where}: {text!r}: expected langchain:module.ChatModelClass[?arg=value&...]"
            )
        kwargs = {k: _scalar(v) for k, v in parse_qsl(query, keep_blank_values=True)}
        method = kwargs.pop("structured_output_method", None)
        return LangChainRole(target=target, kwargs=kwargs, method=method)
    if kind == "replay":
        raise EmosimError(f"{where}: {text!r}: replay applies to a whole run, not to one role")
    raise EmosimError(
        f"{where}: unknown backend {text!r} (available: scripted, anthropic[:MODEL], "
        "langchain:module.Class?arg=value, replay:RUN_DIR, or a .yaml backend config)"
    )


def _assign(
    items: list[tuple[str, ScriptedRole | AnthropicRole | LangChainRole]], where: str
) -> dict[str, RoleBackend]:
    named: dict[str, RoleBackend] = {}
    default: RoleBackend = ScriptedRole()
    for role, backend in items:
        if role == "*":
            default = backend
        elif role in ROLES:
            if role in named:
                raise EmosimError(f"{where}: role {role!r} is given twice")
            named[role] = backend
        else:
            raise EmosimError(
                f"{where}: unknown role {role!r} (roles: {', '.join(ROLES)}, or * for the rest)"
            )
    return {role: named.get(role, default) for role in ROLES}


def parse_spec(spec: str) -> BackendPlan:
    """Parse a backend spec string (see the module docstring)."""
    text = spec.strip()
    where = f"backend {spec!r}"
    if not text:
        raise EmosimError("backend: empty spec (try 'scripted' or 'anthropic')")
    if text.startswith("replay:"):
        run = text.removeprefix("replay:").strip()
        if not run:
            raise EmosimError(f"{where}: replay needs a run folder, e.g. replay:runs/<run_id>")
        return BackendPlan(source=spec, roles={}, replay=Path(run))
    if text.endswith((".yaml", ".yml")):
        return load_config(Path(text))
    items = []
    for raw in text.split(","):
        if not raw.strip():
            continue
        match = _ROLE_ITEM.match(raw)
        role, backend_text = (match.group(1), match.group(2)) if match else ("*", raw)
        items.append((role, parse_backend(backend_text, where)))
    return BackendPlan(source=spec, roles=_assign(items, where))


def parse_mapping(mapping: dict[str, Any], where: str) -> BackendPlan:
    """A role -> spec mapping, as a scenario or run config file may hold it."""
    return _from_config(BackendConfig.model_validate({"roles": mapping}), where)


def load_config(path: Path) -> BackendPlan:
    data, node = load_yaml_node(path)
    if not isinstance(data, dict):
        raise DataError([f"{path}: expected a mapping with roles: and settings:"])
    try:
        config = BackendConfig.model_validate(data)
    except ValidationError as exc:
        raise DataError(format_validation_error(exc, str(path), node)) from None
    return _from_config(config, str(path))


def _from_config(config: BackendConfig, where: str) -> BackendPlan:
    items = [
        (role, value if not isinstance(value, str) else parse_backend(value, f"{where}: {role}"))
        for role, value in config.roles.items()
    ]
    return BackendPlan(source=where, roles=_assign(items, where), settings=config.settings)


def import_chat_model(role: LangChainRole, where: str) -> type:
    """The chat-model class a langchain: spec names, or one clear error."""
    module_name, _, class_name = role.target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EmosimError(
            f"{where}: cannot import {module_name!r} for langchain:{role.target} ({exc}); "
            f"install the package that provides it"
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise EmosimError(f"{where}: {module_name} has no class {class_name!r}")
    return cls
