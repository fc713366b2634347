"""`emosim layer serve`: the chat-time layer over HTTP on 127.0.0.1.

POST /v1/read with `{"messages": [{"role", "content"}, ...]}` returns a `LayerReading`. Every
route but /healthz needs `Authorization: Bearer <token>`, checked before the body is read;
bodies over `max_body` bytes are refused (413) before they are parsed; /docs and /openapi.json
exist only with `docs=True`.
"""

from __future__ import annotations

import json

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from emosim import __version__
from emosim.errors import DataError, EmosimError
from emosim.labels.server import TokenInURL, bearer_guard

from .reading import Conversation, Layer, LayerReading

MAX_BODY = 256 * 1024


def _problems(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in ('body', *e['loc']))}: {e['msg']}"
        f" (got {json.dumps(e.get('input'), default=str)[:80]})"
        for e in exc.errors()
    ]


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, detail={"error": f"body over {limit} bytes"})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, detail={"error": f"body over {limit} bytes"})
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    layer: Layer, token: str, *, max_body: int = MAX_BODY, docs: bool = False
) -> FastAPI:
    if not token:
        raise EmosimError("the layer endpoint needs a non-empty token")
    app = FastAPI(
        title="emosim emotional layer",
        version=__version__,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(TokenInURL)
    require_token = bearer_guard(token)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/read", dependencies=[Depends(require_token)])
    async def read(request: Request) -> LayerReading:
        """The emotion reading, ranked strategies, anti-patterns, plan and guidance."""
        raw = await _body(request, max_body)
        try:
            doc = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HTTPException(400, detail={"error": f"malformed JSON: {exc}"}) from None
        if isinstance(doc, list):
            doc = {"messages": doc}
        try:
            conversation = Conversation.model_validate(doc)
        except ValidationError as exc:
            raise HTTPException(
                422, detail={"error": "invalid conversation", "problems": _problems(exc)}
            ) from None
        try:
            return await run_in_threadpool(layer.read, conversation.messages)
        except DataError as exc:
            raise HTTPException(
                422, detail={"error": "nothing to read", "problems": exc.problems}
            ) from None

    return app
