"""The live-operator endpoint: a small FastAPI app that appends `live_operator` events.

Every route but /healthz needs `Authorization: Bearer <token>`; the token is checked before
the body is read, and a batch is stored whole or not at all.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from emosim import __version__
from emosim.catalog import Catalog, get_catalog
from emosim.errors import DataError, EmosimError

from .operators import OperatorBatch, OperatorEvent
from .policy import ResolutionPolicy
from .resolve import ResolvedLabel, resolved_rows
from .store import LabelStore


def _problems(exc: ValidationError, prefix: str = "body") -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]))
        out.append(f"{loc}: {e['msg']} (got {json.dumps(e.get('input'), default=str)[:80]})")
    return out


def _parse_batch(raw: bytes) -> OperatorBatch:
    try:
        doc: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        detail = f"malformed JSON: {exc}"
        raise HTTPException(400, detail={"error": detail, "problems": [detail]}) from None
    if isinstance(doc, list):
        doc = {"events": doc}
    elif isinstance(doc, dict) and "events" not in doc:
        doc = {"events": [doc]}
    try:
        return OperatorBatch.model_validate(doc)
    except ValidationError as exc:
        raise HTTPException(
            422, detail={"error": "invalid events; nothing was stored", "problems": _problems(exc)}
        ) from None


def create_app(
    store_path: Path,
    token: str,
    catalog: Catalog | None = None,
    policy: ResolutionPolicy | None = None,
) -> FastAPI:
    if not token:
        raise EmosimError("the live-operator endpoint needs a non-empty token")
    catalog = catalog or get_catalog()
    policy = policy or ResolutionPolicy()
    LabelStore.open(store_path).close()  # fail now, not on the first request
    lock = threading.Lock()  # one writer at a time: SQLite serializes anyway, this keeps it tidy
    app = FastAPI(title="emosim live-operator labels", version=__version__)
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

    def store_batch(events: list[OperatorEvent]) -> dict[str, Any]:
        now = datetime.now(UTC)
        items = [e.pending(f"events[{i}]", now) for i, e in enumerate(events)]
        with lock, LabelStore.open(store_path) as store:
            try:
                result = store.append(items, catalog)
            except DataError as exc:
                raise HTTPException(
                    422,
                    detail={
                        "error": "invalid events; nothing was stored",
                        "problems": exc.problems,
                    },
                ) from None
        return {
            "stored": [e.event_id for e in result.stored],
            "already_stored": [e.event_id for e in result.already_stored],
        }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=201, dependencies=[Depends(require_token)])
    async def post_events(request: Request) -> dict[str, Any]:
        """Append operator events: `{"events": [...]}`, a list, or one event (OperatorEvent)."""
        batch = _parse_batch(await request.body())
        return await run_in_threadpool(store_batch, batch.events)

    @app.get("/v1/conversations/{conversation_id}/labels", dependencies=[Depends(require_token)])
    def conversation_labels(conversation_id: str) -> list[ResolvedLabel]:
        """The current labels of a conversation, with every source's opinion."""
        with lock, LabelStore.open(store_path) as store:
            if conversation_id not in store.conversations():
                raise HTTPException(
                    404, detail={"error": f"unknown conversation {conversation_id!r}"}
                )
            events = store.events(conversation_id)
        return resolved_rows(events, policy)

    return app
