"""Model-backend settings: which model plays each role, its limits, retries and prices.

Defaults live in `agents/llm/defaults.yaml` (edited by whoever runs the engine); a backend
config file may override any part of them (deep-merged, then validated as a whole).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from emosim.errors import DataError
from emosim.files import format_validation_error, load_yaml_node
from emosim.schemas.common import StrictModel

from .ratelimit import RateLimitSettings

Role = Literal[
    "client",
    "advisor",
    "emotion_observer",
    "strategy_observer",
    "sentence_observer",
    "critic",
]
Effort = Literal["low", "medium", "high", "xhigh", "max"]
DEFAULTS = Path("agents") / "llm" / "defaults.yaml"


class RoleSettings(StrictModel):
    model: str = Field(min_length=1, description="Model id, e.g. claude-sonnet-5-5.")
    max_tokens: int = Field(ge=16, le=128_000, description="Most output tokens per call.")
    timeout: float = Field(gt=0, le=3600, description="Seconds one request may take.")
    retries: int = Field(ge=0, le=10, description="Retries of a transient failure per call.")
    effort: Effort | None = Field(
        default=None, description="output_config.effort sent to the Messages API (null: omit)."
    )
    thinking: Literal["adaptive", "disabled"] | None = Field(
        default=None,
        description="thinking.type sent to the Messages API (null: omit, the model's default).",
    )
    max_tokens_retry: int | None = Field(
        default=None,
        ge=16,
        le=128_000,
        description="Budget of the one retry of an answer cut off at max_tokens "
        "(null: twice max_tokens).",
    )


class RetrySettings(StrictModel):
    initial_seconds: float = Field(ge=0, description="First backoff.")
    max_seconds: float = Field(ge=0, description="Longest single backoff.")
    jitter_seconds: float = Field(ge=0, description="Random extra wait, 0..jitter.")
    total_seconds: float = Field(gt=0, description="Give up on a call after this long.")


class AnthropicSettings(StrictModel):
    base_url: str | None = Field(
        default=None, description="Messages API base URL; null: ANTHROPIC_BASE_URL or the SDK's."
    )


class BatchSettings(StrictModel):
    """The Message Batches API (`emosim batch --message-batches`)."""

    poll_initial_seconds: float = Field(default=5.0, ge=0, description="First poll wait.")
    poll_max_seconds: float = Field(default=60.0, ge=0, description="Longest poll wait.")
    linger_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Submit a round this long after its first request even if some "
        "in-flight conversations are still computing.",
    )
    max_requests: int = Field(
        default=2_000, ge=1, le=100_000, description="Most requests in one batch."
    )


class Price(StrictModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0, description="5-minute cache write.")
    cache_read: float = Field(ge=0)


class LLMSettings(StrictModel):
    prompts: str = Field(description="Prompt template folder, relative to the project root.")
    anthropic: AnthropicSettings = Field(default_factory=AnthropicSettings)
    retry: RetrySettings
    roles: dict[Role, RoleSettings]
    pricing_checked: str | None = Field(
        default=None, description="When and where the price table was last checked."
    )
    batch_discount: float = Field(
        default=0.5, ge=0, le=1, description="Price factor of the Message Batches API."
    )
    message_batches: BatchSettings = Field(default_factory=BatchSettings)
    rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings,
        description="Requests and tokens per minute per provider key, shared by all workers.",
    )
    pricing: dict[str, Price] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_role(self) -> LLMSettings:
        missing = sorted(set(Role.__args__) - set(self.roles))  # type: ignore[attr-defined]
        if missing:
            raise ValueError(f"roles: missing settings for {', '.join(missing)}")
        return self


def price_for(pricing: dict[str, Price], model: str) -> Price | None:
    """Price of a model id, also for dated snapshots (claude-x-20250929 -> claude-x)."""
    if model in pricing:
        return pricing[model]
    base, _, suffix = model.rpartition("-")
    return pricing.get(base) if suffix.isdigit() and len(suffix) == 8 else None


# Models whose adaptive thinking is always on: they answer `thinking: disabled` with a 400.
ALWAYS_THINKING = ("claude-fable-", "claude-mythos-", "claude-opus-5-5")


def thinking_for(model: str, thinking: str | None) -> str | None:
    """The thinking setting to send: `disabled` is omitted for models that always think."""
    if thinking == "disabled" and model.startswith(ALWAYS_THINKING):
        return None
    return thinking


class UnpricedModelWarning(UserWarning):
    """A model the price table does not list: its calls are counted, its cost is unknown."""


def unpriced_message(model: str, roles: list[str]) -> str:
    return (
        f"no price for model {model!r} ({', '.join(roles)}) in {DEFAULTS} pricing: its tokens "
        "are counted but its cost is reported as unknown, not $0; add the model's prices there "
        "(or under settings: pricing: in a backend config file)"
    )


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    root: Path, overrides: dict[str, Any] | None = None, where: str = ""
) -> LLMSettings:
    """Defaults from the project, with `overrides` (from a backend config file) on top."""
    path = root / DEFAULTS
    data, node = load_yaml_node(path)
    if not isinstance(data, dict):
        raise DataError([f"{path}: expected a mapping at the top level"])
    merged = deep_merge(data, overrides or {})
    try:
        return LLMSettings.model_validate(merged)
    except ValidationError as exc:
        place = f"{path} + overrides from {where}" if overrides else str(path)
        raise DataError(format_validation_error(exc, place, None if overrides else node)) from None
