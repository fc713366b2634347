"""The Messages API call on keep-alive http.client connections (emosim/agents/llm/direct_http.py):
taken only where it matches the SDK's path, same headers and error handling, connections
reused, and never a dead one."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx2
import pytest

from emosim.agents.llm.anthropic_transport import AnthropicTransport, make_client
from emosim.agents.llm.context import CallSite
from emosim.agents.llm.direct_http import Route, route_for
from emosim.agents.llm.faults import FatalCallError, TransientCallError
from emosim.agents.llm.wire import Message, ModelRequest, SystemBlock

from .mock_anthropic import MockAnthropic

KEY = "sk-ant-test-direct-http-0123456789"
SITE = CallSite("client", None, 1)


def _request() -> ModelRequest:
    return ModelRequest(
        model="claude-haiku-5-5",
        system=[SystemBlock(text="rules", cache=True)],
        messages=[Message(role="user", text="hello")],
        schema_name="StrategyReading",
        output_schema={
            "title": "StrategyReading",
            "type": "object",
            "properties": {"primary": {"type": "string", "enum": ["validation"]}},
        },
        max_tokens=1024,
        thinking="disabled",
    )


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def test_direct_only_where_it_matches_the_sdk(keyed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = make_client("http://127.0.0.1:9/prefix/")
    route = route_for(plain)
    assert route is not None and route is route_for(plain)  # one pool per client
    assert (route.host, route.port, route.prefix) == ("127.0.0.1", 9, "/prefix")
    assert route.headers["anthropic-version"] == plain.default_headers["anthropic-version"]
    assert KEY in json.dumps(route.headers)  # the SDK's auth header, whatever its name
    assert route_for(make_client("https://api.example.test")).ssl_context is not None  # type: ignore[union-attr]
    own = make_client("http://127.0.0.1:9", http_client=httpx2.Client())
    assert route_for(own) is None  # the caller's HTTP client (a mock transport, a proxy)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    assert route_for(make_client("https://api.example.test")) is None
    monkeypatch.setenv("NO_PROXY", "api.example.test")
    assert route_for(make_client("https://api.example.test")) is not None


def test_direct_calls_send_the_sdk_headers_and_reuse_one_connection(keyed: None) -> None:
    peers: list[Any] = []
    with MockAnthropic(api_key=KEY) as mock:
        handler = mock.server.RequestHandlerClass
        original = handler.do_POST

        def spy(self: BaseHTTPRequestHandler) -> None:
            peers.append((self.client_address, dict(self.headers)))
            original(self)

        handler.do_POST = spy  # type: ignore[method-assign]
        transport = AnthropicTransport(make_client(mock.url), timeout=5)
        assert transport.route is not None
        replies = [transport.send(_request(), SITE) for _ in range(3)]
        sent = mock.requests
    assert all(r.output and r.output["primary"] == "validation" for r in replies)
    assert len({address for address, _ in peers}) == 1  # kept alive
    headers = {k.lower(): v for k, v in peers[0][1].items()}
    sdk = {k.lower(): v for k, v in make_client(mock.url).default_headers.items()}
    for name in ("anthropic-version", "user-agent", "x-stainless-lang"):
        assert headers[name] == sdk[name]
    assert sent[0]["system"][0]["cache_control"] == {"type": "ephemeral"}


@pytest.mark.parametrize(
    ("fault", "error", "kind", "retry", "after"),
    [
        ("429", TransientCallError, "rate_limited", True, 0.0),
        ("529", TransientCallError, "overloaded", True, None),
        ("409", TransientCallError, "conflict", True, None),
        ("should_retry_false", TransientCallError, "server_error", False, None),
        ("400", FatalCallError, "bad_request", None, None),
        ("404", FatalCallError, "not_found", None, None),
    ],
)
def test_direct_errors_sorted_like_the_sdk_path(
    keyed: None, fault: str, error: type, kind: str, retry: bool | None, after: float | None
) -> None:
    with MockAnthropic() as mock:
        mock.enqueue(fault)
        transport = AnthropicTransport(make_client(mock.url), timeout=5)
        with pytest.raises(error) as info:
            transport.send(_request(), SITE)
        assert transport.send(_request(), SITE).output  # the connection is still usable
    assert info.value.kind == kind
    assert "injected" in str(info.value)  # the API's error message, as the SDK reports it
    if retry is not None:
        assert info.value.retry is retry and info.value.retry_after == after


def test_direct_timeouts_and_drops_are_transient_and_never_reuse_the_connection(
    keyed: None,
) -> None:
    with MockAnthropic(timeout_delay=1.0) as mock:
        transport = AnthropicTransport(make_client(mock.url), timeout=0.3)
        mock.enqueue("timeout", "drop", "drop_before")
        outcomes = []
        for _ in range(3):
            with pytest.raises(TransientCallError) as info:
                transport.send(_request(), SITE)
            outcomes.append((info.value.kind, str(info.value)))
        assert transport.send(_request(), SITE).output  # a fresh connection answers
    assert [k for k, _ in outcomes] == ["timeout", "connection", "connection"]
    assert "no answer within 0.3 s" in outcomes[0][1]
    assert "IncompleteRead" in outcomes[1][1]  # cut off in the middle of the answer
    assert "RemoteDisconnected" in outcomes[2][1]  # closed before answering


class _ClosesAfterAnswering(BaseHTTPRequestHandler):
    """Answers, then closes the connection without saying so (`connection: close`), as a
    server does with a keep-alive connection it has held idle too long."""

    protocol_version = "HTTP/1.1"
    connections: set[Any] = set()
    closed = threading.Event()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        type(self).connections.add(self.client_address)
        data = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True
        type(self).closed.set()


@pytest.fixture
def closing_server() -> Iterator[tuple[str, int]]:
    _ClosesAfterAnswering.connections = set()
    _ClosesAfterAnswering.closed = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClosesAfterAnswering)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[:2]  # type: ignore[misc]
    server.shutdown()
    server.server_close()


def test_a_connection_the_server_closed_is_not_used_again(
    closing_server: tuple[str, int],
) -> None:
    host, port = closing_server
    route = Route("http", host, port, "", {"content-type": "application/json"})
    for _ in range(3):
        _ClosesAfterAnswering.closed.clear()
        answer = route.post("/v1/messages", b"{}", timeout=5)
        assert (answer.status, answer.body) == (200, b'{"ok": true}')
        assert _ClosesAfterAnswering.closed.wait(5)  # closed while the connection is idle
    assert len(_ClosesAfterAnswering.connections) == 3  # a new connection each time
    route.close()


def test_the_sdk_path_is_kept_for_a_client_with_its_own_http_client(keyed: None) -> None:
    seen: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.content)
        return httpx2.Response(
            200,
            json={
                "type": "message",
                "model": "claude-haiku-5-5",
                "content": [{"type": "text", "text": '{"primary": "validation"}'}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 2},
            },
        )

    client = anthropic.Anthropic(
        api_key=KEY,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    transport = AnthropicTransport(client, timeout=5)
    assert transport.route is None
    assert transport.send(_request(), SITE).output == {"primary": "validation"}
    assert len(seen) == 1
