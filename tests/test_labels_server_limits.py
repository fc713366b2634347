"""The live-operator endpoint under hostile requests: body and event limits, no docs, tokens
only in the header (never logged), short 4xx errors, 503 when the store is busy; and a real
server refusing a 50 MB body quickly with its memory flat."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emosim.labels.server import MAX_PROBLEMS, EndpointLimits, create_app

from .test_labels import build_store, count

TOKEN = "limits-token-not-a-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def built(tmp_path_factory, scripted_run):
    _, records = scripted_run
    return build_store(tmp_path_factory.mktemp("limits"), records[0])


@pytest.fixture()
def store(built, tmp_path: Path):
    path, recs = built
    return shutil.copy(path, tmp_path / "labels.sqlite"), recs


def client(path: Path, catalog, **options) -> TestClient:
    limits = EndpointLimits(**{k: options.pop(k) for k in list(options) if k != "openapi"})
    return TestClient(create_app(path, TOKEN, catalog, limits=limits, **options))


def event(cid: str, n: int, **extra) -> dict:
    return {"conversation_id": cid, "turn_index": 0, "field": "emotion", "value": "shame",
            "operator": "op_ana", "event_id": f"lim-{n}", **extra}  # fmt: skip


def test_a_body_over_the_limit_is_refused_declared_or_streamed(store, catalog) -> None:
    path, recs = store
    http = client(path, catalog, max_body_bytes=2_000)
    before = count(path)
    body = b'{"events": [' + b" " * 5_000 + b"]}"
    response = http.post("/v1/events", content=body, headers=AUTH)
    assert response.status_code == 413
    assert "over 2,000 bytes" in response.json()["detail"]["error"]

    def chunks():  # no Content-Length: read until the limit, no further
        yield b'{"events": ['
        for _ in range(100):
            yield b" " * 100

    response = http.post("/v1/events", content=chunks(), headers=AUTH)
    assert response.status_code == 413
    response = http.post("/v1/events", content=b"{}", headers={**AUTH, "Content-Length": "x"})
    assert response.status_code == 400
    assert count(path) == before


def test_too_many_events_in_one_request_are_refused(store, catalog) -> None:
    path, recs = store
    http = client(path, catalog, max_events=5)
    before = count(path)
    six = [event(recs[0].id, n) for n in range(6)]
    response = http.post("/v1/events", json={"events": six}, headers=AUTH)
    assert response.status_code == 413
    assert "too many events: 6 in one request (at most 5" in response.json()["detail"]["error"]
    assert http.post("/v1/events", json=six[:5], headers=AUTH).status_code == 201
    assert count(path) == before + 5


def test_no_docs_and_openapi_only_behind_the_token_when_asked(store, catalog) -> None:
    path, _ = store
    http = client(path, catalog)
    for url in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        response = http.get(url, headers=AUTH)
        assert response.status_code == 404, url
        assert response.json() == {"detail": {"error": "Not Found"}}
    http = client(path, catalog, openapi=True)
    assert http.get("/openapi.json").status_code == 401
    schema = http.get("/openapi.json", headers=AUTH).json()
    assert "/v1/events" in schema["paths"] and http.get("/docs").status_code == 404


@pytest.mark.parametrize("param", ["token", "access_token", "API_KEY"])
def test_a_token_in_the_url_is_refused_even_with_a_good_header(store, catalog, param) -> None:
    path, recs = store
    http = client(path, catalog)
    before = count(path)
    url = f"/v1/events?{param}={TOKEN}"
    response = http.post(url, json=[event(recs[0].id, 1)], headers=AUTH)
    assert response.status_code == 400
    assert "token in the URL is refused" in response.json()["detail"]["error"]
    assert TOKEN not in response.text
    assert http.get(f"/healthz?{param}=x").status_code == 400
    assert count(path) == before


def test_client_errors_are_short_4xx(store, catalog) -> None:
    path, recs = store
    http = client(path, catalog)
    assert http.get("/nowhere", headers=AUTH).status_code == 404
    response = http.delete("/v1/events", headers=AUTH)
    assert response.status_code == 405 and len(response.content) < 200
    bad = [event(recs[0].id, n, value="glee") for n in range(200)]
    response = http.post("/v1/events", json=bad, headers=AUTH)
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1] == "... and 181 more"
    assert len(response.content) < 20_000
    response = http.get("/v1/conversations/" + "x" * 5_000 + "/labels", headers=AUTH)
    assert response.status_code == 404 and len(response.content) < 300


def test_a_busy_store_is_503_with_retry_after(store, catalog) -> None:
    path, recs = store
    http = client(path, catalog, busy_timeout=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = http.post("/v1/events", json=[event(recs[0].id, 1)], headers=AUTH)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert "busy" in response.json()["detail"]["error"]
        reading = http.get(f"/v1/conversations/{recs[0].id}/labels", headers=AUTH)
        assert reading.status_code == 200  # readers are not held up by a writer
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert http.post("/v1/events", json=[event(recs[0].id, 1)], headers=AUTH).status_code == 201


# --- a real server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _send(port: int, head: bytes, body_bytes: int, chunked: bool = False) -> tuple[bytes, float]:
    """Send `head`, then up to `body_bytes` of body while the server reads it; return the
    response's status line and the seconds until it arrived."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        piece = b"x" * 65_536
        sent, answer = 0, b""
        s.setblocking(False)
        while sent < body_bytes and not answer:
            with contextlib.suppress(BlockingIOError):
                answer = s.recv(4096)
            try:
                data = (b"10000\r\n" + piece + b"\r\n") if chunked else piece
                sent += s.send(data)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.001)
                if time.perf_counter() - started > 10:
                    break
        s.setblocking(True)
        answer = answer or s.recv(4096)
    return answer.split(b"\r\n", 1)[0], time.perf_counter() - started


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS")
def test_a_real_server_refuses_50_mb_fast_with_memory_flat_and_never_logs_the_token(
    store,
) -> None:
    path, recs = store
    port = _free_port()
    env = {**os.environ, "EMOSIM_LABELS_TOKEN": TOKEN, "COLUMNS": "200"}
    log = path.parent / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from emosim.cli import app; app()",
                "labels",
                "serve",
                "--port",
                str(port),
                "--store",
                str(path),
            ],  # fmt: skip
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None and time.time() < deadline, log.read_text()
                    time.sleep(0.2)
            before = _rss(server.pid)
            big = 50 * 2**20
            head = (
                f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {big}\r\n\r\n"
            ).encode()
            status, seconds = _send(port, head, big)
            timings = [seconds]
            assert b"413" in status and seconds < 1.0, (status, seconds)
            chunked = head.replace(f"Content-Length: {big}".encode(), b"Transfer-Encoding: chunked")
            status, seconds = _send(port, chunked, big, chunked=True)
            timings.append(seconds)
            assert b"413" in status and seconds < 1.0, (status, seconds)
            many = ("[" + ",".join(
                f'{{"conversation_id":"{recs[0].id}","field":"emotion","operator":"o"}}'
                for _ in range(10_000)) + "]").encode()  # fmt: skip
            head = (
                f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Length: {len(many)}\r\n\r\n"
            ).encode()
            status, seconds = _send(port, head + many, 0)
            timings.append(seconds)
            assert b"413" in status and seconds < 1.0, (status, seconds)
            grown = _rss(server.pid) - before
            print("413 after (s): 50 MB declared, 50 MB chunked, 10,000 events:", timings)
            print(f"server RSS grew {grown / 2**20:.1f} MB")
            assert grown < 20 * 2**20  # flat: nothing buffered
            url = f"GET /healthz?token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            status, _ = _send(port, url, 0)
            assert b"400" in status
        finally:
            server.terminate()
            server.wait(timeout=20)
    text = log.read_text()
    assert "/healthz?redacted" in text and "413" in text
    assert TOKEN not in text
