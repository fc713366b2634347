"""What a batch would cost before it runs (`emosim batch PLAN --dry-run`): calls, tokens and
dollars per role, with no model call made and no run folder written.

Each role's cached prompt prefix (its system prompt, the per-conversation context block and
the answer's JSON schema) is the bulk of every call. With ANTHROPIC_API_KEY set, the prefixes
of the Claude roles are counted by the Messages API's free `count_tokens` endpoint, once per
distinct prefix; without a key (or for LangChain roles, or when counting fails) they are
estimated at about four characters a token. What a conversation adds per call (the turn
message, growing with the transcript) and what the model writes (answer, plus thinking when
it is on) are estimated from typical sizes below. The report says which was used.

Cost assumes the prompt cache works as emosim sets it up: per conversation and role, the
first call writes the prefix and later calls read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emosim.catalog import Catalog

from .build import resolve
from .settings import Price, RoleSettings, load_settings, price_for

# Typical sizes, tokens: the turn message before any transcript, what each exchange of
# transcript adds (roles that see the transcript), the answer, and thinking by effort.
TURN_BASE = {
    "client": 260,
    "advisor": 320,
    "critic": 360,
    "emotion_observer": 120,
    "strategy_observer": 150,
    "sentence_observer": 200,
}
SEES_TRANSCRIPT = {"client", "advisor", "critic"}
TRANSCRIPT_PER_EXCHANGE = 200
ANSWER = {
    "client": 150,
    "advisor": 600,
    "critic": 250,
    "emotion_observer": 150,
    "strategy_observer": 60,
    "sentence_observer": 250,
}
THINKING = {None: 1500, "low": 300, "medium": 1500, "high": 4000, "xhigh": 8000, "max": 12000}
REPLY_MODEL = {
    "client": "client",
    "advisor": "advisor",
    "emotion_observer": "emotion",
    "strategy_observer": "strategy",
    "sentence_observer": "sentences",
    "critic": "critic",
}


@dataclass
class RoleEstimate:
    role: str
    model: str
    calls: float = 0.0
    input_tokens: float = 0.0
    cache_write_tokens: float = 0.0
    cache_read_tokens: float = 0.0
    output_tokens: float = 0.0
    cost_usd: float | None = 0.0

    def add_cost(self, price: Price | None, factor: float, usage: dict[str, float]) -> None:
        if price is None or self.cost_usd is None:
            self.cost_usd = None
            return
        self.cost_usd += (
            (
                usage["input"] * price.input
                + usage["output"] * price.output
                + usage["write"] * price.cache_write
                + usage["read"] * price.cache_read
            )
            * factor
            / 1_000_000
        )


@dataclass
class Estimate:
    conversations: int
    method: str  # "count_tokens" | "estimate"
    note: str
    counted: int = 0
    batch: bool = False
    roles: dict[str, RoleEstimate] = field(default_factory=dict)

    @property
    def cost_usd(self) -> float | None:
        costs = [r.cost_usd for r in self.roles.values()]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


def thinking_tokens(settings: RoleSettings) -> int:
    if settings.thinking == "disabled":
        return 0
    return THINKING.get(settings.effort, 1500)


class PrefixCounter:
    """Tokens of a role's cached prefix: counted by the API when it can, else estimated."""

    def __init__(self, client: Any = None):
        self.client = client
        self.counted = 0
        self.failed: str | None = None
        self._cache: dict[tuple[str, str], int] = {}

    def tokens(self, model: str, blocks: list[str], schema: dict[str, Any], claude: bool) -> int:
        text = "\n".join(blocks)
        key = (model if claude else "", text + json.dumps(schema, sort_keys=True))
        if key in self._cache:
            return self._cache[key]
        value = None
        if claude and self.client is not None and self.failed is None:
            try:
                counted = self.client.messages.count_tokens(
                    model=model,
                    system=[{"type": "text", "text": b} for b in blocks],
                    messages=[{"role": "user", "content": "."}],
                    output_config={"format": {"type": "json_schema", "schema": schema}},
                )
                value = int(counted.input_tokens)
                self.counted += 1
            except Exception as exc:  # noqa: BLE001 - any failure falls back to the estimate
                self.failed = f"{type(exc).__name__}: {exc}"
        if value is None:
            value = max(1, (len(text) + len(json.dumps(schema))) // 4)
        self._cache[key] = value
        return value


def _context(catalog: Catalog, scenario: Any) -> dict[str, Any]:
    persona = catalog.clients[scenario.client_persona]
    return {
        "persona": persona,
        "client_name": persona.name,
        "topic": catalog.topics[scenario.topic],
        "subcategory": scenario.subcategory,
        "situation": scenario.situation,
    }


def estimate_jobs(
    catalog: Catalog,
    jobs: list[Any],
    backend: str | dict[str, Any],
    *,
    message_batches: bool = False,
    client: Any = None,
) -> Estimate:
    """Calls, tokens and cost of playing `jobs` (see the module docstring)."""
    from emosim.agents.backends import backend_plan

    from .prompts import prompts_for
    from .replies import reply_models

    counter = PrefixCounter(client)
    result = Estimate(conversations=len(jobs), method="estimate", note="", batch=message_batches)
    replies = reply_models(catalog)
    for job in jobs:
        plan = backend_plan(job.scenario.backend or backend)
        if plan.replay is not None or not plan.uses_models():
            continue
        settings = load_settings(catalog.root, plan.settings, plan.source)
        resolved = resolve(plan, settings)
        prompts = prompts_for(catalog.file(resolved.prompts))
        factor = settings.batch_discount if message_batches else 1.0
        sc = job.scenario
        drafts = 1 + min(float(sc.max_redrafts), sc.anti_pattern_rate)
        for role in resolved.model_roles():
            info = resolved.roles[role]
            assert info.settings is not None
            s = info.settings
            blocks = [prompts.render(f"{role}.system.md", catalog=catalog)]
            if prompts.has(f"{role}.context.md"):
                blocks.append(
                    prompts.render(f"{role}.context.md", catalog=catalog, **_context(catalog, sc))
                )
            schema = replies.schema(getattr(replies, REPLY_MODEL[role]))
            prefix = counter.tokens(s.model, blocks, schema, info.kind == "anthropic")
            per_exchange = drafts if role in ("advisor", "critic") else 1.0
            calls = per_exchange * sc.exchanges
            turn = TURN_BASE[role] * calls
            if role in SEES_TRANSCRIPT:
                turn += TRANSCRIPT_PER_EXCHANGE * per_exchange * sum(range(sc.exchanges))
            out = (ANSWER[role] + thinking_tokens(s)) * calls
            usage = {
                "input": turn,
                "write": float(prefix),
                "read": prefix * max(0.0, calls - 1),
                "output": out,
            }
            row = result.roles.setdefault(role, RoleEstimate(role, s.model))
            row.calls += calls
            row.input_tokens += usage["input"]
            row.cache_write_tokens += usage["write"]
            row.cache_read_tokens += usage["read"]
            row.output_tokens += usage["output"]
            row.add_cost(price_for(resolved.pricing, s.model), factor, usage)
    result.counted = counter.counted
    if counter.counted:
        result.method = "count_tokens"
        result.note = (
            f"prompt prefixes counted with messages.count_tokens ({counter.counted} requests, "
            "free); turn messages and answers estimated from typical sizes"
        )
    elif counter.failed:
        result.note = (
            f"estimated at about 4 characters a token: messages.count_tokens failed "
            f"({counter.failed})"
        )
    else:
        result.note = (
            "estimated at about 4 characters a token (set ANTHROPIC_API_KEY to count prompt "
            "prefixes with messages.count_tokens)"
        )
    if message_batches:
        result.note += "; Message Batches pricing"
    return result


def count_client(catalog: Catalog, backend: str | dict[str, Any]) -> Any:
    """An SDK client for count_tokens when ANTHROPIC_API_KEY is set, else None."""
    import os

    from emosim.agents.backends import backend_plan

    from .faults import KEY_ENV

    if not os.environ.get(KEY_ENV):
        return None
    from .anthropic_transport import make_client

    plan = backend_plan(backend)
    settings = load_settings(catalog.root, plan.settings, plan.source)
    return make_client(settings.anthropic.base_url)
