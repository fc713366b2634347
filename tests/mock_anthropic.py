"""A small Messages API on 127.0.0.1 for tests and benchmarks, as strict as the real one
where emosim could go wrong.

It answers `POST /v1/messages` with structured outputs (`output_config.format`) that fit each
emosim role's schema and `POST /v1/messages/count_tokens`. Like the API it
- rejects unknown model ids (404), more than 4 cache_control breakpoints, sampling parameters
  (temperature, top_p, top_k) and manual thinking budgets on 5.x models, and
  `thinking: disabled` on models that always think (400);
- thinks: unless thinking is disabled, the answer starts with a thinking block whose tokens
  (by effort) count toward max_tokens and output tokens; an answer that does not fit stops
  with `max_tokens`, cut off;
- reports prompt-cache usage per model (minimum cacheable prefix per model, reads, writes);
and `/v1/messages/batches` (create, retrieve, results as JSONL; `batch_delay` seconds of
processing, `batch_error_rate` of requests errored), and injects faults on request: 429 (with retry-after), 529, 500, 409, 500 with
`x-should-retry: false`, timeouts, invalid or non-JSON answers, `max_tokens` and `refusal`
stops, 400/401/404, and connections dropped before or in the middle of the response
(`drop`, `drop_before`; `drop_rate` drops that share of all requests mid-response).

    with MockAnthropic(latency=0.2, fault_rate=0.1) as mock:
        ... ANTHROPIC_BASE_URL=mock.url ...

or as a process (for benchmarks): `python -m tests.mock_anthropic --latency 0.2`, which prints
`READY <url>` and serves until terminated.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("429", "529", "500", "timeout", "invalid", "not_json")
_WORDS = re.compile(r"[A-Za-z']{3,}")


def _known_models() -> frozenset[str]:
    from typing import get_args

    from anthropic.types.model import Model

    literal = get_args(Model)[0]
    return frozenset(get_args(literal))


KNOWN_MODELS = _known_models()  # the ids the installed SDK lists
ALWAYS_THINKING = ("claude-fable-", "claude-mythos-", "claude-opus-5-5")
NO_SAMPLING = (
    "claude-fable-",
    "claude-mythos-",
    "claude-opus-5",
    "claude-sonnet-5",
    "claude-haiku-5",
)
# Minimum cacheable prefix, tokens (the mock's table; the API documents one per model).
CACHE_MINIMUM = {
    "claude-fable-": 512,
    "claude-mythos-": 512,
    "claude-opus-5": 512,
    "claude-sonnet-5": 1024,
    "claude-haiku-5-5": 2048,
    "claude-opus-4-": 4096,
    "claude-haiku-4-5": 4096,
}
THINKING_TOKENS = {"low": 48, "medium": 160, "high": 480, "xhigh": 960, "max": 1600}
MAX_BREAKPOINTS = 4


def cache_minimum(model: str) -> int:
    for prefix, size in CACHE_MINIMUM.items():
        if model.startswith(prefix):
            return size
    return 1024


def problems(body: dict[str, Any]) -> tuple[int, str, str] | None:
    """(status, error type, message) of a request the API would reject, or None."""
    model = str(body.get("model"))
    if model not in KNOWN_MODELS:
        return 404, "not_found_error", f"model: {model}"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return 400, "invalid_request_error", "max_tokens: required, a positive integer"
    if model.startswith(NO_SAMPLING):
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                return 400, "invalid_request_error", f"{name}: not supported by {model}"
    thinking = (body.get("thinking") or {}).get("type")
    if thinking == "enabled" and model.startswith(NO_SAMPLING):
        return 400, "invalid_request_error", "thinking.type.enabled: use adaptive"
    if thinking == "disabled" and model.startswith(ALWAYS_THINKING):
        return 400, "invalid_request_error", f"thinking: {model} always thinks"
    breakpoints = 0
    system = body.get("system") or []
    blocks = [b for b in system if isinstance(b, dict)] if isinstance(system, list) else []
    for message in body.get("messages", []):
        if isinstance(message.get("content"), list):
            blocks += [b for b in message["content"] if isinstance(b, dict)]
    blocks += [t for t in body.get("tools") or [] if isinstance(t, dict)]
    breakpoints = sum("cache_control" in b for b in blocks) + ("cache_control" in body)
    if breakpoints > MAX_BREAKPOINTS:
        return (
            400,
            "invalid_request_error",
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints}.",
        )
    return None


def thinks(body: dict[str, Any]) -> bool:
    model = str(body.get("model"))
    kind = (body.get("thinking") or {}).get("type")
    if model.startswith("claude-haiku-4"):
        return kind in ("enabled", "adaptive")
    return kind != "disabled"


def tokens(text: str) -> int:
    """Rough token count (about four characters a token), as the mock bills it."""
    return max(1, len(text) // 4)


def enums(schema: Any, found: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Property name -> allowed values, for every enum in a JSON schema."""
    found = {} if found is None else found
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            for variant in [prop, prop.get("items") or {}, *(prop.get("anyOf") or [])]:
                if isinstance(variant, dict) and variant.get("enum"):
                    found.setdefault(name, list(variant["enum"]))
        for value in schema.values():
            enums(value, found)
    elif isinstance(schema, list):
        for value in schema:
            enums(value, found)
    return found


def _between(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}[^>]*>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1) if match else ""


CLIENT_LINES = [
    "Honestly I feel a bit anxious about all of this and I'm not sure where to start.",
    "I guess I'm worried I waited too long, and that makes me kind of embarrassed.",
    "Okay, that actually helps a little, I feel calmer than I did.",
    "I'm still confused about how the numbers fit together, can you walk me through it?",
    "That makes sense, I think I'm ready to try one small step this month.",
    "I'm frustrated that nobody ever explained this to me before.",
]
ADVISOR_LINES = [
    "That sounds like a lot to carry, and it makes sense that you feel this way.",
    "A lot of people I work with have felt exactly this way.",
    "Let me put that in plain English: an index fund is a fund that follows a whole market.",
    "We don't have to solve all of it today.",
    "What matters most to you about this money?",
    "Would it help if I walked through how that works?",
]
NEGATIVE_LINE = "Honestly, you should just stop worrying about it."


def answer(schema: dict[str, Any], prompt: str, digest: int) -> dict[str, Any]:
    """A valid answer for an emosim role's schema, varied by the request's digest."""
    title = schema.get("title", "")
    allowed = enums(schema)

    def pick(name: str, offset: int = 0) -> Any:
        values = allowed.get(name) or ["other"]
        return values[(digest + offset) % len(values)]

    if title == "ClientMessage":
        unshared = re.search(r"Not shared yet: ([a-z_, ]+)\.", prompt)
        facts = [unshared.group(1).split(", ")[0]] if unshared and digest % 2 else []
        return {"message": CLIENT_LINES[digest % len(CLIENT_LINES)], "shared_fact_ids": facts}
    if title == "AdvisorDraft":
        lines = [ADVISOR_LINES[(digest + i) % len(ADVISOR_LINES)] for i in range(2 + digest % 2)]
        if "<negative_example" in prompt:
            lines.append(NEGATIVE_LINE)
        lead = re.search(r"name ([a-z_]+) as your primary strategy", prompt)  # a candidate
        return {
            "sentences": [
                {"text": t, "function": pick("function", i), "strategy": pick("strategy", i)}
                for i, t in enumerate(lines)
            ],
            "primary_strategy": lead.group(1) if lead else pick("primary_strategy"),
            "other_strategies": [pick("other_strategies", 1)],
            "learning_objective": "Meet the feeling before the numbers.",
        }
    if title == "EmotionReading":
        message = _between(prompt, "client_message")
        words = _WORDS.findall(message)
        primary = pick("primary")
        cues = [{"text": words[digest % len(words)], "signals": primary}] if words else []
        return {
            "primary": primary,
            "secondary": None,
            "intensity": round(0.3 + (digest % 60) / 100, 2),
            "confidence": 0.7,
            "cues": cues,
        }
    if title == "StrategyReading":
        return {"primary": pick("primary"), "others": [pick("others", 1)], "confidence": 0.6}
    if title == "SentenceLabels":
        count = len(re.findall(r"<sentence index=", prompt))
        return {
            "labels": [{"function": pick("function", i), "strategy": None} for i in range(count)]
        }
    if title == "CriticReview":
        draft = _between(prompt, "draft")
        findings = []
        if "just stop worrying" in draft:
            codes = allowed.get("code") or ["other"]
            code = "dismissal" if "dismissal" in codes else codes[0]
            findings.append(
                {
                    "code": code,
                    "severity": "major",
                    "message": "Dismisses the client's feeling.",
                    "evidence": "just stop worrying",
                }
            )
        score = 0.5 if findings else 0.9
        return {
            "findings": findings,
            "voice": score,
            "empathy": score,
            "compliance": 1.0,
            "clarity": 0.9,
        }
    return {}


class CacheBook:
    """Prompt-cache simulation: prefixes up to cache_control breakpoints, kept 5 minutes."""

    def __init__(self, min_tokens: int | None, ttl: float = 300.0):
        self.min_tokens = min_tokens  # None: per model (CACHE_MINIMUM)
        self.ttl = ttl
        self.entries: dict[str, float] = {}
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> tuple[int, int, int]:
        """(uncached input, cache read, cache write) tokens of a request."""
        parts: list[tuple[str, bool]] = []
        fmt = (body.get("output_config") or {}).get("format")
        if fmt:
            parts.append((json.dumps(fmt, sort_keys=True), False))
        system = body.get("system") or []
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        for block in system:
            parts.append((block.get("text", ""), "cache_control" in block))
        for message in body.get("messages", []):
            content = message.get("content")
            blocks = content if isinstance(content, list) else [{"text": content}]
            for block in blocks:
                parts.append(
                    (f"{message['role']}:{block.get('text', '')}", "cache_control" in block)
                )
        digest = hashlib.sha256(str(body.get("model")).encode())
        total = 0
        breakpoints: list[tuple[str, int]] = []
        for text, cached in parts:
            digest.update(text.encode())
            total += tokens(text)
            if cached:
                breakpoints.append((digest.copy().hexdigest(), total))
        now = time.monotonic()
        read = write = 0
        with self.lock:
            for key, size in reversed(breakpoints):
                if self.entries.get(key, 0) > now:
                    read = size
                    self.entries[key] = now + self.ttl
                    break
            if breakpoints:
                key, size = breakpoints[-1]
                minimum = self.min_tokens or cache_minimum(str(body.get("model")))
                if size > read and size >= minimum:
                    write = size - read
                    self.entries[key] = now + self.ttl
        return total - read - write, read, write


class MockAnthropic:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: tuple[str, ...] = FAULTS,
        seed: int = 0,
        api_key: str | None = None,
        timeout_delay: float = 1.5,
        min_cache_tokens: int | None = None,
        record: bool = True,
        port: int = 0,
        drop_rate: float = 0.0,
        drop_seed: int = 1,
        batch_delay: float = 0.0,
        batch_error_rate: float = 0.0,
    ):
        self.latency = latency
        self.fault_rate = fault_rate
        self.faults = faults
        self.rng = random.Random(seed)
        self.api_key = api_key
        self.timeout_delay = timeout_delay
        self.cache = CacheBook(min_cache_tokens)
        self.record = record
        self.requests: list[dict[str, Any]] = []
        self.calls = 0
        self.injected: list[str] = []
        self.queue: deque[str] = deque()
        self.drop_rate = drop_rate
        self.drop_rng = random.Random(drop_seed)
        self.dropped = 0
        self.rejected: list[str] = []
        self.batch_delay = batch_delay
        self.batch_error_rate = batch_error_rate
        self.batch_rng = random.Random(seed + 7)
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_custom_ids: list[str] = []  # every custom_id ever submitted, in order
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, *faults: str) -> None:
        """Faults for the next requests, in order (before any random ones)."""
        with self.lock:
            self.queue.extend(faults)

    def start(self) -> MockAnthropic:
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> MockAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _fault(self) -> str | None:
        with self.lock:
            self.calls += 1
            if self.queue:
                fault = self.queue.popleft()
            elif self.fault_rate and self.rng.random() < self.fault_rate:
                fault = self.rng.choice(self.faults)
            elif self.drop_rate and self.drop_rng.random() < self.drop_rate:
                fault = "drop"
            else:
                return None
            self.injected.append(fault)
            if fault.startswith("drop"):
                self.dropped += 1
            return fault

    # --- Message Batches ---------------------------------------------------------------------

    def create_batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return 400, _error("invalid_request_error", "requests: at least one"), {}
        ids = [r.get("custom_id") for r in requests]
        if len(set(ids)) != len(ids) or not all(
            isinstance(i, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids
        ):
            return (
                400,
                _error("invalid_request_error", "custom_id: unique, [A-Za-z0-9_-]{1,64}"),
                {},
            )
        with self.lock:
            batch_id = f"msgbatch_mock{len(self.batches):06d}"
            self.batches[batch_id] = {
                "requests": requests,
                "created": time.monotonic(),
                "results": None,
            }
            self.batch_custom_ids.extend(ids)
        return 200, self.batch_object(batch_id), {}

    def batch_object(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        ended = time.monotonic() - batch["created"] >= self.batch_delay
        count = len(batch["requests"])
        results = self.batch_results(batch_id) if ended else None
        errored = sum(r["result"]["type"] == "errored" for r in results or [])
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else count,
                "succeeded": count - errored if ended else 0,
                "errored": errored,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2026-12-07T00:00:00Z",
            "expires_at": "2026-12-08T00:00:00Z",
            "ended_at": "2026-12-07T00:01:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results" if ended else None,
        }

    def batch_results(self, batch_id: str) -> list[dict[str, Any]]:
        """Every request's result, computed once (errored at batch_error_rate)."""
        batch = self.batches[batch_id]
        with self.lock:
            if batch["results"] is not None:
                return batch["results"]
        results = []
        for item in batch["requests"]:
            params = item.get("params") or {}
            with self.lock:
                fail = self.batch_error_rate and self.batch_rng.random() < self.batch_error_rate
            if fail:
                error = _error("overloaded_error", "injected batch request error")
                result: dict[str, Any] = {"type": "errored", "error": error}
            else:
                status, payload, _ = self.respond(params, self.api_key, batched=True)
                if status == 200:
                    result = {"type": "succeeded", "message": payload}
                else:
                    result = {"type": "errored", "error": payload}
            results.append({"custom_id": item["custom_id"], "result": result})
        with self.lock:
            if batch["results"] is None:
                batch["results"] = results
            return batch["results"]

    def respond(
        self, body: dict[str, Any], key: str | None, *, batched: bool = False
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, headers) for one request; may sleep for a timeout fault. A
        request of a Message Batch (`batched`) meets no injected faults. (The latency is waited
        out by the handler: see `Handler.do_POST`.)"""
        if self.record:
            with self.lock:
                self.requests.append(body)
        if self.api_key is not None and key != self.api_key:
            return 401, _error("authentication_error", f"invalid x-api-key: {key}"), {}
        problem = problems(body)
        if problem is not None:
            status, kind, message = problem
            with self.lock:
                self.rejected.append(message)
            return status, _error(kind, message), {"x-should-retry": "false"}
        fault = None if batched else self._fault()
        if fault in ("drop", "drop_before"):
            return 0, {}, {"x-mock-drop": fault}
        if fault in ("429", "529", "500", "400", "404", "409", "should_retry_false"):
            kinds = {
                "429": "rate_limit_error",
                "529": "overloaded_error",
                "500": "api_error",
                "409": "conflict_error",
                "400": "invalid_request_error",
                "404": "not_found_error",
                "should_retry_false": "api_error",
            }
            headers = {"retry-after": "0"} if fault == "429" else {}
            if fault == "should_retry_false":
                headers = {"x-should-retry": "false"}
                return 500, _error(kinds[fault], "injected 500, do not retry"), headers
            return int(fault), _error(kinds[fault], f"injected {fault}"), headers
        if fault == "401":
            return 401, _error("authentication_error", f"invalid x-api-key: {key}"), {}
        if fault == "timeout":
            time.sleep(self.timeout_delay)
        fmt = (body.get("output_config") or {}).get("format") or {}
        prompt = "\n".join(
            m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for m in body.get("messages", [])
            if m.get("role") == "user"
        )
        digest = int(hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:8], 16)
        if fault == "invalid":
            text = json.dumps({"unexpected": True})
        elif fault == "not_json":
            text = "I'm sorry, I can't produce that as JSON."
        else:
            text = json.dumps(answer(fmt.get("schema") or {}, prompt, digest))
        uncached, read, write = self.cache.usage(body)
        return 200, self.message(body, text, digest, fault, (uncached, read, write)), {}

    def message(
        self,
        body: dict[str, Any],
        text: str,
        digest: int,
        fault: str | None,
        usage: tuple[int, int, int],
    ) -> dict[str, Any]:
        """The Message: thinking first (when on), then the answer, cut at max_tokens."""
        content: list[dict[str, Any]] = []
        used = 0
        effort = (body.get("output_config") or {}).get("effort") or "high"
        if thinks(body):
            budget = THINKING_TOKENS.get(effort, 480)
            thought = "Weighing the client's words before answering. " * (budget // 10)
            content.append({"type": "thinking", "thinking": thought, "signature": "sig-mock"})
            used = budget
        stop, details = "end_turn", None
        room = int(body["max_tokens"]) - used
        if fault == "refusal":
            content, stop = [], "refusal"
            details = {
                "type": "refusal",
                "category": "general_harms",
                "explanation": "This request was declined by the mock.",
            }
        elif fault == "max_tokens" or tokens(text) > room:
            stop = "max_tokens"
            keep = max(0, min(room, tokens(text) // 2 if fault == "max_tokens" else room)) * 4
            text = text[:keep]
        if stop != "refusal" and (text or stop == "end_turn"):
            content.append({"type": "text", "text": text})
        uncached, read, write = usage
        return {
            "id": f"msg_mock_{digest:08x}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": stop,
            "stop_details": details,
            "stop_sequence": None,
            "usage": {
                "input_tokens": uncached,
                "output_tokens": used + (tokens(text) if text else 0),
                "cache_creation_input_tokens": write,
                "cache_read_input_tokens": read,
            },
        }

    def count(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        problem = problems({**body, "max_tokens": 1})
        if problem is not None:
            status, kind, message = problem
            return status, _error(kind, message), {}
        uncached, read, write = CacheBook(10**9).usage(body)  # counts, caches nothing
        return 200, {"input_tokens": uncached + read + write}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms stalls)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                arrived = time.monotonic()
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                route = self.path.split("?")[0].rstrip("/")
                if route == "/v1/messages/batches":
                    try:
                        self._send(*mock.create_batch(json.loads(raw)))
                    except json.JSONDecodeError:
                        self._send(400, _error("invalid_request_error", "body is not JSON"), {})
                    return
                if route not in ("/v1/messages", "/v1/messages/count_tokens"):
                    self._send(404, _error("not_found_error", f"no route {self.path}"), {})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(400, _error("invalid_request_error", "body is not JSON"), {})
                    return
                bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ")
                key = self.headers.get("x-api-key") or bearer or None
                if route.endswith("count_tokens"):
                    self._send(*mock.count(body))
                    return
                status, payload, headers = mock.respond(body, key)
                # `latency` seconds from the request's arrival to its answer, the mock's own
                # work included, as a real API's latency includes its processing: the bound
                # `in flight / latency` is then the true limit of a client that adds nothing
                wait = arrived + mock.latency - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                drop = headers.pop("x-mock-drop", None)
                if drop:
                    self._drop(drop, payload)
                    return
                self._send(status, payload, headers)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == "/mock/stats":  # for benchmarks running the mock as a process
                    ids = mock.batch_custom_ids
                    stats = {"calls": mock.calls, "batch_requests": len(ids)}
                    stats["batch_unique"] = len(set(ids))
                    stats["cpu_seconds"] = time.process_time()  # the mock's own, not emosim's
                    self._send(200, stats, {})
                    return
                match = re.fullmatch(
                    r"/v1/messages/batches/([\w-]+)(/results)?", self.path.split("?")[0]
                )
                if not match or match.group(1) not in mock.batches:
                    self._send(404, _error("not_found_error", f"no route {self.path}"), {})
                    return
                batch_id = match.group(1)
                if not match.group(2):
                    self._send(200, mock.batch_object(batch_id), {})
                    return
                if mock.batch_object(batch_id)["processing_status"] != "ended":
                    self._send(400, _error("invalid_request_error", "batch not ended"), {})
                    return
                lines = "".join(json.dumps(r) + "\n" for r in mock.batch_results(batch_id))
                data = lines.encode()
                self.send_response(200)
                self.send_header("content-type", "application/binary")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drop(self, how: str, payload: dict[str, Any]) -> None:
                """Close the connection before answering, or after half the body."""
                try:
                    if how == "drop":
                        data = json.dumps({"type": "message", "content": [], "pad": "x" * 400})
                        self.send_response(200)
                        self.send_header("content-type", "application/json")
                        self.send_header("content-length", str(len(data) * 2))
                        self.end_headers()
                        self.wfile.write(data.encode())
                        self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.send_header("request-id", "req_mock")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout fault)

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 32+ clients connect at once in the benchmark


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def backend_config(
    path: Any,
    base_url: str,
    roles: dict[str, Any] | None = None,
    *,
    timeout: float = 5.0,
    retries: int = 2,
) -> str:
    """Write a backend config file for the mock (no backoff waits) and return its path."""
    role_names = (
        "client",
        "advisor",
        "emotion_observer",
        "strategy_observer",
        "sentence_observer",
        "critic",
    )
    config = {
        "roles": roles or {"*": "anthropic"},
        "settings": {
            "anthropic": {"base_url": base_url},
            "retry": {
                "initial_seconds": 0,
                "max_seconds": 0,
                "jitter_seconds": 0,
                "total_seconds": 30,
            },
            "roles": {r: {"timeout": timeout, "retries": retries} for r in role_names},
        },
    }
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--min-cache-tokens", type=int, default=None)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--batch-delay", type=float, default=0.0)
    parser.add_argument("--batch-error-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    mock = MockAnthropic(
        latency=args.latency,
        batch_delay=args.batch_delay,
        batch_error_rate=args.batch_error_rate,
        fault_rate=args.fault_rate,
        drop_rate=args.drop_rate,
        min_cache_tokens=args.min_cache_tokens,
        record=False,
        port=args.port,
    )
    print(f"READY {mock.url}", flush=True)
    try:
        mock.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        mock.server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
