"""Local stand-ins for other providers' HTTP APIs on 127.0.0.1, for the LangChain tests:

- OpenAI chat completions (`POST /v1/chat/completions`), as OpenAI and OpenAI-compatible
  servers (vLLM, llama.cpp server, LM Studio, Ollama's /v1) speak it: `response_format`
  json_schema with `strict: true` is checked the way OpenAI checks it (every object closed
  with additionalProperties false and every property required), tools, usage with cached
  tokens, `finish_reason: length` when max_completion_tokens is too small;
- Ollama's native chat (`POST /api/chat`), streamed as NDJSON or not, with `format` as a JSON
  schema and `options.num_predict`.

Both answer with the same role answers as the mock Messages API (tests/mock_anthropic.py).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .mock_anthropic import answer, tokens


def strict_problems(schema: Any, where: str = "schema") -> list[str]:
    """What OpenAI's strict mode would reject in a JSON schema."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            if schema.get("additionalProperties") is not False:
                found.append(f"{where}: additionalProperties must be false")
            missing = sorted(set(props) - set(schema.get("required") or []))
            if missing:
                found.append(f"{where}: every property must be required (missing {missing})")
        for key, value in schema.items():
            found += strict_problems(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += strict_problems(value, f"{where}[{i}]")
    return found


def _prompt(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        parts.append(str(content))
    return "\n".join(parts)


def _system_text(messages: list[dict[str, Any]]) -> str:
    return "".join(
        str(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    )


def _schema_in_prompt(system: str) -> dict[str, Any]:
    """The schema a schema-in-prompt request carries after 'fit this JSON schema:'."""
    marker = "fit this JSON schema:\n"
    if marker not in system:
        return {}
    try:
        return json.loads(system.split(marker, 1)[1])
    except json.JSONDecodeError:
        return {}


class _Mock:
    """A threaded HTTP server that records request bodies and counts calls."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.calls = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Any:
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, body: dict[str, Any]) -> tuple[int, Any, str]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with mock.lock:
                    mock.requests.append({"path": self.path, **body})
                    mock.calls += 1
                if mock.latency:
                    time.sleep(mock.latency)
                status, payload, kind = mock.route(self.path.split("?")[0], body)
                data = (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                )
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class MockOpenAI(_Mock):
    """`/v1/chat/completions` as OpenAI (and compatible servers) answer it."""

    def route(self, path: str, body: dict[str, Any]) -> tuple[int, Any, str]:
        if path.rstrip("/") != "/v1/chat/completions":
            return (
                404,
                {"error": {"message": f"no route {path}", "type": "not_found"}},
                "application/json",
            )
        messages = body.get("messages") or []
        fmt = body.get("response_format") or {}
        schema: dict[str, Any] = {}
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = {"title": spec.get("name", ""), **(spec.get("schema") or {})}
            if spec.get("strict"):
                problems = strict_problems(spec.get("schema") or {})
                if problems:
                    error = {
                        "message": "Invalid schema: " + "; ".join(problems[:3]),
                        "type": "invalid_request_error",
                    }
                    return 400, {"error": error}, "application/json"
        elif not fmt:
            schema = _schema_in_prompt(_system_text(messages))
        prompt = _prompt(messages)
        digest = int(hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:8], 16)
        text = json.dumps(answer(schema, prompt, digest))
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if limit and tokens(text) > limit:
            text, finish = text[: limit * 4], "length"
        prompt_tokens = sum(tokens(json.dumps(m)) for m in messages)
        return (
            200,
            {
                "id": f"chatcmpl-mock{digest:08x}",
                "object": "chat.completion",
                "created": 1_760_000_000,
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": tokens(text),
                    "total_tokens": prompt_tokens + tokens(text),
                    "prompt_tokens_details": {"cached_tokens": prompt_tokens // 2},
                },
            },
            "application/json",
        )


class MockOllama(_Mock):
    """Ollama's `/api/chat`, streamed (NDJSON) or not."""

    def route(self, path: str, body: dict[str, Any]) -> tuple[int, Any, str]:
        if path.rstrip("/") != "/api/chat":
            return 404, {"error": f"no route {path}"}, "application/json"
        messages = body.get("messages") or []
        fmt = body.get("format")
        schema = fmt if isinstance(fmt, dict) else _schema_in_prompt(_system_text(messages))
        digest = int(hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:8], 16)
        text = json.dumps(answer(schema, _prompt(messages), digest))
        limit = (body.get("options") or {}).get("num_predict")
        reason = "stop"
        if limit and limit > 0 and tokens(text) > limit:
            text, reason = text[: limit * 4], "length"
        model = body.get("model")
        done = {
            "model": model,
            "created_at": "2026-12-07T00:00:00Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reason,
            "total_duration": 1,
            "prompt_eval_count": sum(tokens(str(m.get("content"))) for m in messages),
            "eval_count": tokens(text),
        }
        if body.get("stream", True):
            first = {
                "model": model,
                "created_at": "2026-12-07T00:00:00Z",
                "message": {"role": "assistant", "content": text},
                "done": False,
            }
            return 200, json.dumps(first) + "\n" + json.dumps(done) + "\n", "application/x-ndjson"
        done["message"]["content"] = text
        return 200, done, "application/json"
