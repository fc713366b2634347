"""A small Messages API on 127.0.0.1 for tests and benchmarks.

It answers `POST /v1/messages` with structured outputs (`output_config.format`) that fit each
emosim role's schema, reports prompt-cache usage the way the API does (cache_control
breakpoints, a minimum cacheable prefix, reads and writes), and injects faults on request:
429, 529, 500, timeouts, invalid answers, 400/401/404.

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
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("429", "529", "500", "timeout", "invalid", "not_json")
_WORDS = re.compile(r"[A-Za-z']{3,}")


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
        return {
            "sentences": [
                {"text": t, "function": pick("function", i), "strategy": pick("strategy", i)}
                for i, t in enumerate(lines)
            ],
            "primary_strategy": pick("primary_strategy"),
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

    def __init__(self, min_tokens: int, ttl: float = 300.0):
        self.min_tokens = min_tokens
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
                if size > read and size >= self.min_tokens:
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
        min_cache_tokens: int = 1024,
        record: bool = True,
        port: int = 0,
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
            else:
                return None
            self.injected.append(fault)
            return fault

    def respond(
        self, body: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, headers) for one request; may sleep for latency or a timeout."""
        if self.record:
            with self.lock:
                self.requests.append(body)
        if self.api_key is not None and key != self.api_key:
            return 401, _error("authentication_error", f"invalid x-api-key: {key}"), {}
        fault = self._fault()
        if self.latency:
            time.sleep(self.latency)
        if fault in ("429", "529", "500", "400", "404"):
            kinds = {
                "429": "rate_limit_error",
                "529": "overloaded_error",
                "500": "api_error",
                "400": "invalid_request_error",
                "404": "not_found_error",
            }
            headers = {"retry-after": "0"} if fault == "429" else {}
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
        return (
            200,
            {
                "id": f"msg_mock_{digest:08x}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": uncached,
                    "output_tokens": tokens(text),
                    "cache_creation_input_tokens": write,
                    "cache_read_input_tokens": read,
                },
            },
            {},
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms stalls)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/messages":
                    self._send(404, _error("not_found_error", f"no route {self.path}"), {})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(400, _error("invalid_request_error", "body is not JSON"), {})
                    return
                bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ")
                key = self.headers.get("x-api-key") or bearer or None
                status, payload, headers = mock.respond(body, key)
                self._send(status, payload, headers)

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
    parser.add_argument("--min-cache-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    mock = MockAnthropic(
        latency=args.latency,
        fault_rate=args.fault_rate,
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
