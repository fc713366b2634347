"""Claude through the official SDK: Messages API with structured outputs and prompt caching.

The structured answer is asked for with `output_config.format` (a JSON schema from the
reply's pydantic model), which current models support and which, unlike forced tool use,
the newest models accept. The system prompt's stable blocks carry
`cache_control: {"type": "ephemeral"}`. Thinking (`adaptive` or `disabled`) and effort come
from the role's settings; thinking blocks in the answer are not part of its text. The SDK's
own retries are off (`max_retries=0`): retries are ours (emosim/agents/llm/faults.py), so
that only retryable errors are retried, the server's `x-should-retry` and `retry-after` are
obeyed, and every attempt is recorded in the cassette.

The body is prebuilt JSON bytes: the system prompt and the output schema, the bulk of every
request, are serialized once per process. It is sent on the process's keep-alive http.client
connections (direct_http.py), with the SDK client's URL, headers and TLS trust, and errors
sorted as the SDK's would be; the SDK's `post` (its httpx2 client) is kept for a proxy or an
HTTP client of the caller's. The SDK's request path was about half of a model call's CPU,
which bounds throughput at 32 conversations in flight (`python -m benchmarks llm`).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from typing import Any

import anthropic
import httpx2
import orjson

from .context import CallSite
from .direct_http import Lost, Route, TimedOut, route_for
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


_SYSTEM: dict[tuple[str, bool], orjson.Fragment] = {}
_SCHEMAS: dict[int, tuple[dict[str, Any], orjson.Fragment]] = {}


def _system_json(text: str, cache: bool) -> orjson.Fragment:
    """One system block as JSON, serialized once (the prompts are rendered once and reused)."""
    found = _SYSTEM.get((text, cache))
    if found is None:
        if len(_SYSTEM) > 4096:
            _SYSTEM.clear()
        item: dict[str, Any] = {"type": "text", "text": text}
        if cache:
            item["cache_control"] = {"type": "ephemeral"}
        found = _SYSTEM[(text, cache)] = orjson.Fragment(orjson.dumps(item))
    return found


def _schema_json(schema: dict[str, Any]) -> orjson.Fragment:
    """An output schema as JSON (key order kept), once per schema object: the reply models'
    schemas are built once per process and never changed."""
    entry = _SCHEMAS.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_SCHEMAS) > 256:
            _SCHEMAS.clear()
        entry = _SCHEMAS[id(schema)] = (schema, orjson.Fragment(orjson.dumps(schema)))
    return entry[1]


def request_body(request: ModelRequest) -> bytes:
    """`request_params(request)` as JSON bytes, from the cached pieces."""
    output_config: dict[str, Any] = {
        "format": {"type": "json_schema", "schema": _schema_json(request.output_schema)}
    }
    if request.effort:
        output_config["effort"] = request.effort
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": [_system_json(b.text, b.cache) for b in request.system],
        "messages": [{"role": m.role, "content": m.text} for m in request.messages],
        "output_config": output_config,
    }
    if request.thinking:
        params["thinking"] = {"type": request.thinking}
    try:
        return orjson.dumps(params)
    except orjson.JSONEncodeError:  # a lone surrogate in a text: json escapes what orjson refuses
        return json.dumps(request_params(request)).encode()


def _deprecated(model: str) -> str | None:
    """End-of-life date of a deprecated model, as the SDK's `messages.create` warns of it."""
    try:
        from anthropic._data.deprecated_models import DEPRECATED_MODELS
    except ImportError:  # pragma: no cover - an SDK that keeps the table elsewhere
        return None
    return DEPRECATED_MODELS.get(model)


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_deprecated(model: str) -> None:
    if model in _warned:  # checked once per model and process
        return
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    if (end := _deprecated(model)) is not None:
        warnings.warn(
            f"The model '{model}' is deprecated and will reach end-of-life on {end}.",
            DeprecationWarning,
            stacklevel=4,
        )


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
        self.route = route_for(client)

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        _warn_deprecated(request.model)
        body = request_body(request)
        if self.route is None:
            message = self._post_sdk(body, request.model)
        else:
            message = self._post_direct(self.route, body, request.model)
        if not isinstance(message, dict) or message.get("type") != "message":
            raise TransientCallError("bad_response", "unreadable API response (not a message)")
        return reply_from_message(message)

    def _post_direct(self, route: Route, body: bytes, model: str) -> Any:
        """The call on the process's keep-alive connections (emosim/agents/llm/direct_http.py):
        same body, headers and error handling as the SDK's path, a quarter of its CPU."""
        try:
            answer = route.post("/v1/messages", body, self.timeout)
        except TimedOut:
            raise TransientCallError(
                "timeout", f"no answer within {self.timeout:g} s from {model}"
            ) from None
        except Lost as exc:
            raise TransientCallError(
                "connection",
                f"connection to the Messages API at {self.client.base_url} failed ({exc})",
            ) from None
        if not 200 <= answer.status < 300:
            headers = answer.headers
            raise classify_status(
                answer.status,
                f"{answer.status} {_error_detail(answer.body)}",
                parse_retry_after(headers),
                headers.get("x-should-retry"),
            )
        try:
            return orjson.loads(answer.body)
        except orjson.JSONDecodeError as exc:
            raise TransientCallError("bad_response", f"unreadable API response ({exc})") from None

    def _post_sdk(self, body: bytes, model: str) -> Any:
        """The call through the SDK's `post` (a proxy, or an HTTP client of the caller's)."""
        try:
            raw = self.client.post(
                "/v1/messages",
                cast_to=httpx2.Response,
                content=body,
                options={"timeout": self.timeout},
            )
            return orjson.loads(raw.content)
        except anthropic.APITimeoutError as exc:
            raise TransientCallError(
                "timeout",
                f"no answer within {self.timeout:g} s from {model}",
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
        except (anthropic.APIResponseValidationError, ValueError) as exc:  # incl. JSONDecodeError
            raise TransientCallError("bad_response", f"unreadable API response ({exc})") from None


def _error_detail(body: bytes) -> str:
    """The API error's message (or type), as the SDK's `api_message` gives it."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip()[:200] or "error"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "error")
    return "error"


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
