"""Build the model-played agents of a run from a backend plan.

Writes `backends.json` in the run folder (the resolved role -> backend, model and limits,
secrets redacted) so that `replay:RUN_DIR` rebuilds exactly the agents that were recorded,
and opens the run's cassette.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from emosim.catalog import Catalog
from emosim.errors import DataError, EmosimError
from emosim.files import write_text_atomic
from emosim.schemas.common import StrictModel

from .accounting import Accounting, load_recorded
from .agents import (
    LLMAdvisor,
    LLMAgent,
    LLMClient,
    LLMCritic,
    LLMEmotionObserver,
    LLMSentenceObserver,
    LLMStrategyObserver,
)
from .caller import ModelCaller, Transport
from .cassette import CASSETTE, Cassette, ReplayTransport, open_writer
from .context import TurnTracker
from .faults import KEY_ENV
from .prompts import prompts_for
from .ratelimit import Gate, key_for
from .settings import (
    LLMSettings,
    Price,
    RetrySettings,
    RoleSettings,
    UnpricedModelWarning,
    load_settings,
    price_for,
    unpriced_message,
)
from .spec import ROLES, SECRET_KEYS, AnthropicRole, BackendPlan, LangChainRole

RESOLVED = "backends.json"
AGENTS: dict[str, type[LLMAgent]] = {
    "client": LLMClient,
    "advisor": LLMAdvisor,
    "emotion_observer": LLMEmotionObserver,
    "strategy_observer": LLMStrategyObserver,
    "sentence_observer": LLMSentenceObserver,
    "critic": LLMCritic,
}


class ResolvedRole(StrictModel):
    kind: Literal["scripted", "anthropic", "langchain"]
    settings: RoleSettings | None = None
    langchain: dict[str, Any] | None = Field(
        default=None, description="target, kwargs (secrets redacted), method."
    )


class ResolvedBackends(StrictModel):
    """What played each role of a run: written to backends.json, read back by replay."""

    spec: str
    prompts: str
    roles: dict[str, ResolvedRole]
    retry: RetrySettings
    batch_discount: float = Field(default=0.5, description="Price factor of batch calls.")
    pricing: dict[str, Price] = Field(default_factory=dict)

    def model_roles(self) -> list[str]:
        return [r for r, v in self.roles.items() if v.kind != "scripted"]


def resolve(plan: BackendPlan, settings: LLMSettings) -> ResolvedBackends:
    roles: dict[str, ResolvedRole] = {}
    for role in ROLES:
        backend = plan.roles[role]
        if isinstance(backend, AnthropicRole):
            base = settings.roles[role]  # type: ignore[index]
            chosen = base.model_copy(update={"model": backend.model}) if backend.model else base
            roles[role] = ResolvedRole(kind="anthropic", settings=chosen)
        elif isinstance(backend, LangChainRole):
            base = settings.roles[role]  # type: ignore[index]
            model = backend.model_name() or backend.target
            roles[role] = ResolvedRole(
                kind="langchain",
                settings=base.model_copy(update={"model": model}),
                langchain={
                    "target": backend.target,
                    "kwargs": backend.public_kwargs(),
                    "method": backend.method,
                },
            )
        else:
            roles[role] = ResolvedRole(kind="scripted")
    return ResolvedBackends(
        spec=plan.describe(),
        prompts=settings.prompts,
        roles=roles,
        retry=settings.retry,
        batch_discount=settings.batch_discount,
        pricing=settings.pricing,
    )


def warn_unpriced(resolved: ResolvedBackends) -> list[str]:
    """One warning per model the price table does not list; returns the messages."""
    roles: dict[str, list[str]] = {}
    for role, info in resolved.roles.items():
        if info.settings is not None and price_for(resolved.pricing, info.settings.model) is None:
            roles.setdefault(info.settings.model, []).append(role)
    messages = [unpriced_message(model, names) for model, names in roles.items()]
    for message in messages:
        warnings.warn(message, UnpricedModelWarning, stacklevel=3)
    return messages


def check_key(plan: BackendPlan) -> None:
    """One clear error before any call when a Claude role has no key."""
    if plan.replay is not None:
        return
    claude = [r for r in ROLES if isinstance(plan.roles[r], AnthropicRole)]
    if claude and not os.environ.get(KEY_ENV):
        raise EmosimError(
            f"{KEY_ENV} is not set: the anthropic backend ({', '.join(claude)}) needs an API "
            f"key in that environment variable (or use --backend scripted, or replay:RUN_DIR)"
        )


def load_resolved(run_dir: Path) -> ResolvedBackends | None:
    path = run_dir / RESOLVED
    if not path.is_file():
        return None
    try:
        return ResolvedBackends.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise DataError([f"{path}: not a backends file ({exc.errors()[0]['msg']})"]) from None


def _transports(
    plan: BackendPlan, resolved: ResolvedBackends, settings: LLMSettings, run_dir: Path | None
) -> dict[str, Transport]:
    from .anthropic_transport import AnthropicTransport, make_client
    from .batches import BatchTransport, coordinator_for
    from .langchain_transport import LangChainTransport, build_chat_model

    out: dict[str, Transport] = {}
    client = None
    coordinator = coordinator_for(run_dir)
    for role, info in resolved.roles.items():
        backend = plan.roles[role]
        if isinstance(backend, AnthropicRole) and coordinator is not None:
            out[role] = BatchTransport(coordinator)
        elif isinstance(backend, AnthropicRole):
            client = client or make_client(settings.anthropic.base_url)
            assert info.settings is not None
            out[role] = AnthropicTransport(client, info.settings.timeout)
        elif isinstance(backend, LangChainRole):
            where = f"backend {plan.source!r}: {role}"
            model = build_chat_model(backend, where, info.settings)
            out[role] = LangChainTransport(model, backend.method)
    return out


def _gates(
    plan: BackendPlan, settings: LLMSettings, transports: dict[str, Transport]
) -> dict[str, Gate]:
    """Each model role's door to its provider key's rate limit (none when no limit is set, or
    for calls that go through the Message Batches API, which has limits of its own)."""
    if not settings.rate_limit.active:
        return {}
    gates: dict[str, Gate] = {}
    for role, transport in transports.items():
        backend = plan.roles[role]
        if getattr(transport, "batched", False):
            continue
        if isinstance(backend, AnthropicRole):
            key = key_for("anthropic", os.environ.get(KEY_ENV))
        elif isinstance(backend, LangChainRole):
            secrets = sorted(str(v) for k, v in backend.kwargs.items() if SECRET_KEYS.search(k))
            key = key_for("langchain", "\0".join(secrets), backend.target)
        else:
            continue
        gates[role] = Gate(key, settings.rate_limit)
    return gates


def build_model_agents(
    catalog: Catalog, plan: BackendPlan, *, anti_pattern_rate: float, run_dir: Path | None
) -> tuple[dict[str, LLMAgent], ResolvedBackends, Accounting, dict[str, str]]:
    """The model-played agents of the plan, keyed by role (scripted roles are absent)."""
    if plan.replay is not None:
        source = plan.replay
        if not (source / CASSETTE).is_file() and not (source / RESOLVED).is_file():
            raise EmosimError(
                f"replay:{source}: no {CASSETTE} there (is it a run folder made with a model "
                "backend?)"
            )
        resolved = load_resolved(source)
        if resolved is None:
            raise EmosimError(f"replay:{source}: no {RESOLVED} (the run used no model backend)")
        replay = ReplayTransport(Cassette(source / CASSETTE))
        transports: dict[str, Transport] = {r: replay for r in resolved.model_roles()}
        gates: dict[str, Gate] = {}
    else:
        check_key(plan)
        settings = load_settings(catalog.root, plan.settings, plan.source)
        resolved = resolve(plan, settings)
        warn_unpriced(resolved)
        transports = _transports(plan, resolved, settings, run_dir)
        gates = _gates(plan, settings, transports)
    prompts = prompts_for(catalog.file(resolved.prompts))
    accounting = Accounting()
    tracker = TurnTracker()
    writer = None
    if run_dir is not None and resolved.model_roles():
        write_text_atomic(
            run_dir / RESOLVED, json.dumps(resolved.model_dump(mode="json"), indent=2) + "\n"
        )
        resumed = plan.replay is None and (run_dir / CASSETTE).is_file()
        if resumed:  # the calls made before an interruption count in their records
            load_recorded(accounting, run_dir / CASSETTE, resolved.pricing, resolved.batch_discount)
        writer = open_writer(run_dir / CASSETTE)
        if any(getattr(t, "batched", False) for t in transports.values()):
            writer.skip_recorded_calls()  # a resumed batch run answers from collected results
    agents: dict[str, LLMAgent] = {}
    hashes: dict[str, str] = {}
    for role in resolved.model_roles():
        info = resolved.roles[role]
        assert info.settings is not None
        caller = ModelCaller(
            role,
            transports[role],
            info.settings,
            resolved.retry,
            price=price_for(resolved.pricing, info.settings.model),
            accounting=accounting,
            cassette=writer,
            batch_discount=resolved.batch_discount,
            gate=gates.get(role),
        )
        extra: dict[str, Any] = (
            {"anti_pattern_rate": anti_pattern_rate} if role == "advisor" else {}
        )
        agents[role] = AGENTS[role](catalog, prompts, caller, tracker, info.kind, **extra)
        hashes[role] = prompts.role_hash(role)
    return agents, resolved, accounting, hashes
