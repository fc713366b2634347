"""Claude through the official SDK: Messages API with structured outputs and prompt caching.

The structured answer is asked for with `output_config.format` (a JSON schema from the
reply's pydantic model), which current models support and which, unlike forced tool use,
the newest models accept. The system prompt's stable blocks carry
`cache_control: {"type": "ephemeral"}`. The SDK's own retries are off (`max_retries=0`):
retries are ours, so that only retryable errors are retried and every attempt is recorded.
"""

from __future__ import annotations

import os
from typing import Any

import anthropic

from .context import CallSite
from .faults import KEY_ENV, FatalCallError, TransientCallError, classify_status
from .wire import ModelReply, ModelRequest, Usage, parse_json_object


def make_client(base_url: str | None, http_client: Any = None) -> anthropic.Anthropic:
    """An SDK client keyed from ANTHROPIC_API_KEY (checked earlier), without SDK retries."""
    return anthropic.Anthropic(
        api_key=os.environ[KEY_ENV],
        base_url=base_url,
        max_retries=0,
        http_client=http_client,
    )


def request_params(request: ModelRequest) -> dict[str, Any]:
    """The Messages API body for a neutral request."""
    output_config: dict[str, Any] = {
        "format": {"type": "json_schema", "schema": request.output_schema}
    }
    if request.effort:
        output_config["effort"] = request.effort
    system = []
    for block in request.system:
        item: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cache:
            item["cache_control"] = {"type": "ephemeral"}
        system.append(item)
    return {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": system,
        "messages": [{"role": m.role, "content": m.text} for m in request.messages],
        "output_config": output_config,
    }


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class AnthropicTransport:
    provider = "anthropic"
    replaying = False

    def __init__(self, client: anthropic.Anthropic, timeout: float):
        self.client = client
        self.timeout = timeout

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        try:
            message = self.client.messages.create(**request_params(request), timeout=self.timeout)
        except anthropic.APITimeoutError:
            raise TransientCallError(
                "timeout", f"no answer within {self.timeout:g} s from {request.model}"
            ) from None
        except anthropic.APIConnectionError as exc:
            raise FatalCallError(
                "unreachable",
                f"cannot reach the Messages API at {self.client.base_url} ({exc.__cause__ or exc})",
            ) from None
        except anthropic.APIStatusError as exc:
            detail = exc.api_message or exc.type or "error"
            raise classify_status(
                exc.status_code, f"{exc.status_code} {detail}", _retry_after(exc)
            ) from None
        except (anthropic.APIResponseValidationError, ValueError) as exc:
            raise TransientCallError("bad_response", f"unreadable API response ({exc})") from None
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        return ModelReply(
            output=parse_json_object(text),
            text=text,
            stop_reason=message.stop_reason,
            model=message.model,
            usage=Usage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
                cache_write_tokens=usage.cache_creation_input_tokens or 0,
            ),
        )
