"""The live-operator endpoint: a small FastAPI app that appends `live_operator` events.

Every route but /healthz needs `Authorization: Bearer <token>`, checked before the body is
read; a token in the URL is refused (URLs end up in logs) and scrubbed from the request
before anything logs it. A body is read only up to `EndpointLimits.max_body_bytes` (a
larger Content-Length is refused unread) and holds at most `max_events` events; a batch is
stored whole or not at all. Client errors are 4xx with a short JSON message; a store held
by another writer is 503 with Retry-After. No /docs or /redoc (they load scripts from a
CDN); /openapi.json only when asked for, behind the token.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from emosim import __version__
from emosim.catalog import Catalog, get_catalog
from emosim.errors import DataError, EmosimError
from emosim.schemas.common import StrictModel

from .checks import CLOCK_SKEW
from .operators import OperatorBatch, OperatorEvent
from .policy import ResolutionPolicy
from .resolve import ResolvedLabel, resolved_rows
from .store import LabelStore, StoreBusy

MAX_PROBLEMS = 20  # problems listed in one error body; the rest are counted
RETRY_AFTER = "2"  # seconds, for a busy store
TOKEN_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "key", "bearer"})


class EndpointLimits(StrictModel):
    """What one request may carry (`emosim labels serve --max-body-bytes/--max-events`)."""

    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body read, in bytes (1 MiB)."
    )
    max_events: int = Field(default=1_000, ge=1, description="Most events in one request.")
    busy_timeout: float = Field(
        default=2.0, gt=0, description="Seconds to wait for another writer before a 503."
    )


def _error(status: int, message: str, problems: list[str] | None = None) -> HTTPException:
    detail: dict[str, Any] = {"error": message}
    if problems is not None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more")
        detail["problems"] = shown
    return HTTPException(status, detail=detail)


def _problems(exc: ValidationError, prefix: str = "body") -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]))
        out.append(f"{loc}: {e['msg']} (got {json.dumps(e.get('input'), default=str)[:80]})")
    return out


def _parse_batch(raw: bytes, limits: EndpointLimits) -> OperatorBatch:
    try:
        doc: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        detail = f"malformed JSON: {exc}"[:200]
        raise _error(400, detail, [detail]) from None
    if isinstance(doc, list):
        doc = {"events": doc}
    elif isinstance(doc, dict) and "events" not in doc:
        doc = {"events": [doc]}
    events = doc.get("events") if isinstance(doc, dict) else None
    if isinstance(events, list) and len(events) > limits.max_events:
        raise _error(
            413,
            f"too many events: {len(events)} in one request (at most {limits.max_events}; "
            "send them in smaller batches); nothing was stored",
        )
    try:
        return OperatorBatch.model_validate(doc)
    except ValidationError as exc:
        raise _error(422, "invalid events; nothing was stored", _problems(exc)) from None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes: a larger declared length is refused
    before a byte is read, a longer stream as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    too_big = f"request body over {limit:,} bytes (the endpoint's --max-body-bytes); nothing stored"
    if declared is not None:
        if not declared.isdigit():
            raise _error(400, f"bad Content-Length header {declared[:40]!r}")
        if int(declared) > limit:
            raise _error(413, too_big)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _error(413, too_big)
    return bytes(body)


class TokenInURL:
    """Refuses a request whose URL carries a token, after scrubbing the query from the
    request so that neither this app nor the server's access log ever records it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            query = scope["query_string"].decode("latin-1")
            names = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
            if names & TOKEN_PARAMS:
                scope["query_string"] = b"redacted"  # the access log reads the same scope
                response = JSONResponse(
                    {
                        "detail": {
                            "error": "a token in the URL is refused (URLs are logged): send "
                            "it as 'Authorization: Bearer <token>' only"
                        }
                    },
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def bearer_guard(token: str) -> Callable[..., str]:
    """A FastAPI dependency that accepts only `Authorization: Bearer <token>` (compared in
    constant time); the label endpoint and the layer endpoint share it."""
    bearer = HTTPBearer(auto_error=False)

    def require_token(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> str:
        if credentials is None or not secrets.compare_digest(
            credentials.credentials.encode(), token.encode()
        ):
            raise HTTPException(
                401,
                detail={"error": "missing or bad token (send Authorization: Bearer <token>)"},
                headers={"WWW-Authenticate": "Bearer"},
            )
        return credentials.credentials

    return require_token


def create_app(
    store_path: Path,
    token: str,
    catalog: Catalog | None = None,
    policy: ResolutionPolicy | None = None,
    *,
    limits: EndpointLimits | None = None,
    openapi: bool = False,
    clock_skew: timedelta = CLOCK_SKEW,
) -> FastAPI:
    if not token:
        raise EmosimError("the live-operator endpoint needs a non-empty token")
    catalog = catalog or get_catalog()
    policy = policy or ResolutionPolicy()
    limits = limits or EndpointLimits()
    LabelStore.open(store_path).close()  # fail now, not on the first request
    lock = threading.Lock()  # one writer at a time here; other processes: the store's lock
    app = FastAPI(
        title="emosim live-operator labels",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(TokenInURL)
    require_token = bearer_guard(token)

    def open_store() -> LabelStore:
        store = LabelStore.open(store_path, timeout=limits.busy_timeout)
        store.clock_skew = clock_skew
        return store

    def store_batch(events: list[OperatorEvent]) -> dict[str, Any]:
        now = datetime.now(UTC)
        items = [e.pending(f"events[{i}]", now) for i, e in enumerate(events)]
        with lock, open_store() as store:
            try:
                result = store.append(items, catalog)
            except DataError as exc:
                raise _error(422, "invalid events; nothing was stored", exc.problems) from None
        return {
            "stored": [e.event_id for e in result.stored],
            "already_stored": [e.event_id for e in result.already_stored],
        }

    @app.exception_handler(StoreBusy)
    async def busy(_: Request, exc: StoreBusy) -> JSONResponse:
        return JSONResponse(
            {"detail": {"error": "the label store is busy; nothing was stored, try again"}},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER},
        )

    @app.exception_handler(EmosimError)
    async def store_error(_: Request, exc: EmosimError) -> JSONResponse:
        return JSONResponse({"detail": {"error": str(exc)[:300]}}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(
            {"detail": {"error": "bad request", "problems": problems[:MAX_PROBLEMS]}},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def short_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=201, dependencies=[Depends(require_token)])
    async def post_events(request: Request) -> dict[str, Any]:
        """Append operator events: `{"events": [...]}`, a list, or one event (OperatorEvent)."""
        batch = _parse_batch(await _read_body(request, limits.max_body_bytes), limits)
        return await run_in_threadpool(store_batch, batch.events)

    @app.get("/v1/conversations/{conversation_id}/labels", dependencies=[Depends(require_token)])
    def conversation_labels(conversation_id: str) -> list[ResolvedLabel]:
        """The current labels of a conversation, with every source's opinion."""
        with open_store() as store:
            if conversation_id not in store.shapes([conversation_id]):
                raise _error(404, f"unknown conversation {conversation_id[:80]!r}")
            events = store.events(conversation_id)
        return resolved_rows(events, policy)

    if openapi:

        @app.get("/openapi.json", dependencies=[Depends(require_token)], include_in_schema=False)
        def openapi_schema() -> dict[str, Any]:
            return app.openapi()

    return app
