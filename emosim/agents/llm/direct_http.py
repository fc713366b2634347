"""The Messages API call over plain keep-alive HTTP/1.1 (the standard library's http.client).

Why: at 32 conversations in flight every call's client-side work runs under one GIL, and the
SDK's request path (request options, httpx2 request and response models, h11's validation of
some 18 headers both ways) was about half of a model call's CPU in emosim's process. The same
exchange through http.client costs about a quarter of that (`python -m benchmarks llm`).

Nothing else changes: the SDK client still says where and how to call (its base URL, its
headers with the key, API version and user agent, httpx2's TLS trust store), read once. The
SDK's own `post` is used instead whenever this path could behave differently: a proxy from
the environment applies to the API's host, the SDK client was given its own HTTP client, or
the URL is not http(s).

Connections are pooled like httpx2's: one per call in flight, kept alive up to 100 idle, an
idle one dropped after 5 s or when the server has closed it; a connection that failed or timed
out is never reused. The timeout applies to connecting and to each read and write, as the
SDK's does.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
import urllib.request
import weakref
from dataclasses import dataclass
from typing import Any

MAX_IDLE = 100
IDLE_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read in full: status, headers (case-insensitive `get`), body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Lost(Exception):
    """The connection failed (refused, reset, closed mid-answer); `cause` says how."""

    def __init__(self, cause: BaseException):
        self.cause = cause
        text = str(cause)
        super().__init__(f"{type(cause).__name__}: {text}" if text else type(cause).__name__)


class TimedOut(Exception):
    """No connection or no answer within the timeout."""


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle keep-alive socket that is readable has been closed (or spoken to) by the
    server: it must not carry another request."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


class Route:
    """Keep-alive connections to one API host, shared by the threads of a process."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        prefix: str,
        headers: dict[str, str],
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.prefix = prefix.rstrip("/")
        self.headers = headers
        self.ssl_context = ssl_context
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, since = self._idle.pop()
            sock = conn.sock
            if sock is None or now - since > IDLE_SECONDS or _closed_by_peer(sock):
                conn.close()
                continue
            conn.timeout = timeout
            sock.settimeout(timeout)
            return conn
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=self.ssl_context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def post(self, path: str, body: bytes, timeout: float) -> Answer:
        """POST `body` (JSON) and read the whole answer; `Lost` or `TimedOut` when it fails."""
        conn = self._connection(timeout)
        try:
            conn.request("POST", self.prefix + path, body=body, headers=self.headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError:  # socket.timeout: connect, send or read
            conn.close()
            raise TimedOut from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Lost(exc) from None
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._release(conn)
        return Answer(response.status, response.headers, data)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()


def _proxied(scheme: str, host: str) -> bool:
    """A proxy from the environment (HTTP(S)_PROXY, ALL_PROXY, not NO_PROXY) applies."""
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass_environment(host, proxies)


_routes: weakref.WeakKeyDictionary[Any, Route | None] = weakref.WeakKeyDictionary()
_routes_lock = threading.Lock()


def route_for(client: Any) -> Route | None:
    """The direct route for an SDK client, or None where its own `post` must be used (see
    the module docstring). One route per client: its transports share the connections."""
    with _routes_lock:
        if client in _routes:
            return _routes[client]
        route = _routes[client] = _build_route(client)
        return route


def _build_route(client: Any) -> Route | None:
    try:
        from anthropic._base_client import SyncHttpxClientWrapper
    except ImportError:  # pragma: no cover - an SDK that moved it: keep to the SDK's path
        return None
    if type(getattr(client, "_client", None)) is not SyncHttpxClientWrapper:
        return None  # an HTTP client of the caller's (a test's mock transport, a proxy)
    url = client.base_url
    scheme, host = url.scheme, url.host
    if scheme not in ("http", "https") or not host or _proxied(scheme, host):
        return None
    port = url.port or (443 if scheme == "https" else 80)
    headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
    headers = {k.lower(): v for k, v in headers.items()}
    headers["content-type"] = "application/json"
    headers["accept"] = "application/json"
    context = None
    if scheme == "https":
        import httpx2

        context = httpx2.create_ssl_context()
    return Route(scheme, host, port, url.raw_path.decode("ascii"), headers, context)
