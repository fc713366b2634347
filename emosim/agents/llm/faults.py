"""Which model-call failures are worth retrying, how long to wait, and keeping keys out of text.

Transports turn provider errors into `TransientCallError` or `FatalCallError`:

- transient, retried with exponential backoff and jitter: 408, 409, 429, 529, other 5xx,
  timeouts, and connection failures (refused, reset, dropped mid-response); a `retry-after`
  (or `retry-after-ms`) header is waited out, within the call's total time;
- `x-should-retry: true` makes any status transient; `x-should-retry: false` is obeyed: the
  error is not retried (a transient one ends its turn as failed at once);
- fatal, the run stops at once: 401/403 key problems, 400/404 bad requests or unknown models.

A transient error that outlives its retries ends the conversation as failed, with the reason,
and the batch goes on.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .settings import RetrySettings

T = TypeVar("T")
KEY_ENV = "ANTHROPIC_API_KEY"
_KEY_SHAPES = re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}|sk-[A-Za-z0-9_\-]{16,}")


class CallError(Exception):
    """A model call failed. `kind` names the failure for the cassette and the message."""

    def __init__(self, kind: str, message: str, *, status: int | None = None):
        self.kind = kind
        self.status = status
        super().__init__(redact(message))


class TransientCallError(CallError):
    """Rate limit, overload, server error, timeout or lost connection: worth another attempt,
    unless the server said not to (`retry=False`, from `x-should-retry: false`)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        retry: bool = True,
    ):
        super().__init__(kind, message, status=status)
        self.retry_after = retry_after
        self.retry = retry


class FatalCallError(CallError):
    """Bad key, bad request, unknown model or no route to the API: retrying cannot help."""


def redact(text: str) -> str:
    """Text with any API key (the configured one, or anything shaped like one) removed; also
    a JSON document's text (the configured key as JSON writes it inside a string)."""
    secret = os.environ.get(KEY_ENV, "")
    if len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, "[redacted]")
    return _KEY_SHAPES.sub("[redacted]", text)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds asked for by `retry-after-ms` or `retry-after` (seconds), or None."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        return max(0.0, seconds)
    return None


def classify_status(
    status: int,
    message: str,
    retry_after: float | None = None,
    should_retry: str | None = None,
) -> CallError:
    """An HTTP status from any provider as a transient or fatal call error; `should_retry` is
    the `x-should-retry` header, which overrides the status when present."""
    error = _by_status(status, message, retry_after)
    hint = (should_retry or "").strip().lower()
    if hint == "true" and isinstance(error, FatalCallError):
        return TransientCallError(error.kind, message, status=status, retry_after=retry_after)
    if hint == "false" and isinstance(error, TransientCallError):
        error.retry = False
    return error


def _by_status(status: int, message: str, retry_after: float | None) -> CallError:
    if status == 409:
        return TransientCallError("conflict", message, status=status, retry_after=retry_after)
    if status == 429:
        return TransientCallError("rate_limited", message, status=status, retry_after=retry_after)
    if status == 529:
        return TransientCallError("overloaded", message, status=status, retry_after=retry_after)
    if status == 408:
        return TransientCallError("timeout", message, status=status)
    if status >= 500:
        return TransientCallError("server_error", message, status=status, retry_after=retry_after)
    if status in (401, 403):
        return FatalCallError(
            "authentication",
            f"{message} (check the {KEY_ENV} environment variable)",
            status=status,
        )
    if status == 404:
        return FatalCallError("not_found", f"{message} (is the model id right?)", status=status)
    return FatalCallError("bad_request", message, status=status)


def classify_generic(exc: Exception) -> CallError:
    """Errors of providers we do not know by type: by status code or by name."""
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(status, int):
        headers = getattr(response, "headers", None)
        hint = headers.get("x-should-retry") if headers is not None else None
        return classify_status(status, message, parse_retry_after(headers), hint)
    name = type(exc).__name__.lower()
    if isinstance(exc, TimeoutError) or "timeout" in name or "timedout" in name:
        return TransientCallError("timeout", message)
    if "ratelimit" in name or "overloaded" in name:
        return TransientCallError("rate_limited", message)
    if isinstance(exc, ConnectionError) or any(
        word in name for word in ("connect", "protocol", "readerror", "networkerror")
    ):
        return TransientCallError("connection", message)
    return FatalCallError("error", message)


def backoff(settings: RetrySettings, attempt: int, error: BaseException | None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): exponential with jitter, up to
    max_seconds; a longer `retry-after` from the API is waited out in full (the call's
    total_seconds still bounds it: when the wait asked for would end past it, the call gives
    up at once instead of sleeping in vain)."""
    growth = settings.initial_seconds * 2 ** (attempt - 1)
    wait = min(settings.max_seconds, growth + random.uniform(0, settings.jitter_seconds))
    asked = getattr(error, "retry_after", None)
    if isinstance(asked, int | float) and asked > wait:
        wait = float(asked)
    return wait


def with_retries(
    call: Callable[[], T],
    settings: RetrySettings,
    retries: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()` retried on TransientCallError: bounded in attempts and in total time.

    Re-raises the last TransientCallError when the budget is spent (or at once when the
    server said not to retry); FatalCallError and any other exception pass through at once.
    A plain loop: a first attempt that succeeds, nearly every call, costs one `try`.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except TransientCallError as exc:
            if not exc.retry or attempt > retries:
                raise
            wait = backoff(settings, attempt, exc)
            if time.monotonic() - started + wait >= settings.total_seconds:
                raise
        sleep(wait)
