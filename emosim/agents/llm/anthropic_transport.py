"""Claude through the official SDK: Messages API with structured outputs and prompt caching.

The structured answer is asked for with `output_config.format` (a JSON schema from the
reply's pydantic model), which current models support and which, unlike forced tool use,
the newest models accept. The system prompt's stable blocks carry
`cache_control: {"type": "ephemeral"}`. Thinking (`adaptive` or `disabled`) and effort come
from the role's settings; thinking blocks in the answer are not part of its text. The SDK's
own retries are off (`max_retries=0`): retries are ours (emosim/agents/llm/faults.py), so
that only retryable errors are retried, the server's `x-should-retry` and `retry-after` are
obeyed, and every attempt is recorded in the cassette.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic

from .context import CallSite
from .faults import KEY_ENV, TransientCallError, classify_status, parse_retry_after
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
    system: list[dict[str, Any]] = []
    for block in request.system:
        item: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cache:
            item["cache_control"] = {"type": "ephemeral"}
        system.append(item)
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": system,
        "messages": [{"role": m.role, "content": m.text} for m in request.messages],
        "output_config": output_config,
    }
    if request.thinking:
        params["thinking"] = {"type": request.thinking}
    return params


def _told_not_to_retry(exc: Exception) -> bool:
    """The SDK notes transport failures whose response headers said `x-should-retry: false`."""
    try:
        from anthropic._base_client import errors_not_to_retry
    except ImportError:  # pragma: no cover - a future SDK without the note
        return False
    return exc in errors_not_to_retry


def _cause(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


class AnthropicTransport:
    provider = "anthropic"
    replaying = False

    def __init__(self, client: anthropic.Anthropic, timeout: float):
        self.client = client
        self.timeout = timeout

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        try:
            raw = self.client.messages.with_raw_response.create(
                **request_params(request), timeout=self.timeout
            )
            message = json.loads(raw.http_response.content)
        except anthropic.APITimeoutError as exc:
            raise TransientCallError(
                "timeout",
                f"no answer within {self.timeout:g} s from {request.model}",
                retry=not _told_not_to_retry(exc),
            ) from None
        except anthropic.APIConnectionError as exc:
            # refused, reset, or dropped mid-response (RemoteProtocolError): transient
            raise TransientCallError(
                "connection",
                f"connection to the Messages API at {self.client.base_url} failed ({_cause(exc)})",
                retry=not _told_not_to_retry(exc),
            ) from None
        except anthropic.APIStatusError as exc:
            detail = exc.api_message or exc.type or "error"
            headers = exc.response.headers
            raise classify_status(
                exc.status_code,
                f"{exc.status_code} {detail}",
                parse_retry_after(headers),
                headers.get("x-should-retry"),
            ) from None
        except (anthropic.APIResponseValidationError, ValueError) as exc:
            raise TransientCallError("bad_response", f"unreadable API response ({exc})") from None
        if not isinstance(message, dict) or message.get("type") != "message":
            raise TransientCallError("bad_response", "unreadable API response (not a message)")
        return reply_from_message(message)


def reply_from_message(message: dict[str, Any], *, batch: bool = False) -> ModelReply:
    """A Messages API `message` object (JSON) as a reply: its text blocks (not thinking),
    stop reason and details, and usage. Read from the JSON directly: building the SDK's
    typed objects cost more per call than the rest of the answer's handling."""
    text = "".join(
        str(b.get("text", "")) for b in message.get("content") or [] if b.get("type") == "text"
    )
    usage = message.get("usage") or {}
    details = message.get("stop_details")
    return ModelReply(
        output=parse_json_object(text),
        text=text,
        stop_reason=message.get("stop_reason"),
        stop_details={k: v for k, v in details.items() if v is not None}
        if isinstance(details, dict)
        else None,
        model=message.get("model"),
        usage=Usage(
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
            cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
        ),
        batch=batch,
    )
