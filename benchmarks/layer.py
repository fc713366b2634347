"""The chat-time layer: latency per call and throughput under concurrent clients, on CPU.

Conversations: the first 10 messages (5 client, 5 supporter, ending with the client) of 200
ESConv train dialogs, each read once per round (different texts every call, so no cache
helps). Per call: wall-clock p50 / p99 and CPU time (process time: a busy machine inflates
wall time, not CPU time; the load average is printed beside it). Baseline in the same run: the
stock classifier emotion observer alone, reading the conversation's last client message
(`observe`, with evidence) -- what any emotion-aware host would call at least.

Throughput: 16 client threads, each sending its share of the conversations; (a) calling
`Layer.read` in-process, (b) POSTing to `emosim layer serve`'s app (uvicorn on 127.0.0.1,
bearer token) with httpx. Target: p50 <= 10 ms per call.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console
from rich.table import Table

DIALOGS = 200
CLIENTS = 16
ROUNDS = 3


def _conversations() -> list[list[dict[str, str]]]:
    from emosim.agents.classifier.strategy_store import default_data_dir

    out = []
    with open(default_data_dir() / "train.jsonl", encoding="utf-8") as handle:
        for line in handle:
            messages, last = [], None
            for u in json.loads(line)["dialog"]:
                role = "user" if u["speaker"] == "usr" else "assistant"
                if role == last:
                    messages[-1]["content"] += " " + u["text"]
                else:
                    messages.append({"role": role, "content": u["text"]})
                last = role
            if messages and messages[0]["role"] == "user" and len(messages) >= 9:
                out.append(messages[:9] if messages[8]["role"] == "user" else messages[:8])
            if len(out) == DIALOGS:
                break
    # 10 messages: a system prompt a host would send, then 9 turns ending with the client
    return [[{"role": "system", "content": "You are a support agent."}, *m] for m in out]


def _timed(call, items) -> tuple[list[float], float]:  # noqa: ANN001
    walls = []
    cpu = time.process_time()
    for item in items:
        started = time.perf_counter()
        call(item)
        walls.append(time.perf_counter() - started)
    return walls, (time.process_time() - cpu) / len(items)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _throughput(send, items) -> float:  # noqa: ANN001
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, items))
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    import httpx
    import uvicorn

    from emosim.agents.classifier import build_classifier_observer
    from emosim.agents.messages import EmotionObserverInput
    from emosim.catalog import get_catalog
    from emosim.layer.reading import Layer
    from emosim.layer.server import create_app

    console = Console()
    catalog = get_catalog()
    layer = Layer.load(catalog)
    stock = build_classifier_observer(catalog)
    conversations = _conversations()
    last_client = [
        next(m["content"] for m in reversed(c) if m["role"] == "user") for c in conversations
    ]
    layer.read(conversations[0])  # warm up
    stock.observe(EmotionObserverInput(text=last_client[0]))

    base_walls, base_cpu, walls, cpu = [], 0.0, [], 0.0
    for _ in range(ROUNDS):
        w, c = _timed(lambda t: stock.observe(EmotionObserverInput(text=t)), last_client)
        base_walls += w
        base_cpu += c / ROUNDS
        w, c = _timed(layer.read, conversations)
        walls += w
        cpu += c / ROUNDS
    load = os.getloadavg()[0]
    table = Table(
        title=f"layer: one call, {len(conversations)} ESConv conversations x {ROUNDS} (load {load:.1f})"
    )
    for col in ("call", "p50 ms", "p99 ms", "CPU ms/call", "p50 vs baseline"):
        table.add_column(col)
    b50 = _pct(base_walls, 0.5)
    table.add_row(
        "emotion observer alone, last client message (baseline)",
        f"{b50 * 1000:.1f}",
        f"{_pct(base_walls, 0.99) * 1000:.1f}",
        f"{base_cpu * 1000:.1f}",
        "1.00x",
    )
    p50 = _pct(walls, 0.5)
    table.add_row(
        "layer.read, 10-message conversation",
        f"{p50 * 1000:.1f}",
        f"{_pct(walls, 0.99) * 1000:.1f}",
        f"{cpu * 1000:.1f}",
        f"{p50 / b50:.2f}x",
    )
    console.print(table)

    port, token = _free_port(), "bench-token"
    server = uvicorn.Server(
        uvicorn.Config(create_app(layer, token), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    local = threading.local()

    def post(conversation: list[dict[str, str]]) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        response = client.post("/v1/read", json={"messages": conversation})
        response.raise_for_status()

    sequential = len(conversations) / sum(walls[: len(conversations)])
    in_process = _throughput(layer.read, conversations)
    over_http = _throughput(post, conversations)
    server.should_exit = True
    thread.join(timeout=10)
    table = Table(
        title=f"layer: throughput, {CLIENTS} concurrent clients (load {os.getloadavg()[0]:.1f})"
    )
    for col in ("path", "calls/s", "vs one client"):
        table.add_column(col)
    table.add_row("one client, in-process (baseline)", f"{sequential:.0f}", "1.00x")
    table.add_row(
        f"{CLIENTS} threads, in-process Layer.read",
        f"{in_process:.0f}",
        f"{in_process / sequential:.2f}x",
    )
    table.add_row(
        f"{CLIENTS} clients, HTTP POST /v1/read (uvicorn, 127.0.0.1)",
        f"{over_http:.0f}",
        f"{over_http / sequential:.2f}x",
    )
    console.print(table)
