"""`emosim studio`: the LangGraph dev server, with a run's conversations as Studio threads.

A run's checkpoints live in its own SQLite file, in LangGraph's format but not where the dev
server keeps threads, so opening a run copies each conversation into a thread: one state
update per checkpoint ("as" the node that made it), in order, through the server's API
(`POST /threads` with supersteps). Studio then shows the conversation step by step, as
played; editing a checkpoint and continuing forks it like `emosim fork`. The copy is
idempotent (a thread id per run and conversation) and never touches the run folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosim.catalog import Catalog
from emosim.debugging import RunInspector
from emosim.errors import EmosimError
from emosim.runs import RunFolder

from .edits import BY, NEW
from .graph import FIRST

GRAPH_ID = "simulation"
STUDIO = "https://smith.langchain.com/studio/?baseUrl={url}"
# the dev server checks PyPI for a newer version and sends usage analytics: not from here
OFFLINE = {"LANGGRAPH_NO_VERSION_CHECK": "1", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}


@dataclass
class Opened:
    conversation: str
    thread_id: str
    checkpoints: int
    status: str
    new: bool


def thread_id(run: RunFolder, conversation: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emosim:{run.run_id}:{conversation}"))


def supersteps(
    inspector: RunInspector, sim: Any, conversation: str, record: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """One state update per checkpoint of the conversation, written as its node would write
    it in Studio (`sim`: a Simulator on the run, for its checkpoints and turn ledger)."""
    history = inspector.history(conversation, sim)
    last = max(cp.turn_count for cp in history)
    turns = [t.model_dump(mode="json") for t in sim.ledger.turns(conversation, last)]
    manifest = inspector.manifest
    entry = inspector.jobs[conversation] | {
        "backend": manifest.get("backend", "scripted"),
        "observer": manifest.get("observer", "lexicon"),
        "run_id": inspector.run.run_id,
    }
    steps = []
    count = 0
    for cp in history:
        if not cp.values:  # the run's input checkpoint, before the input was written
            continue
        node = FIRST if cp.node in ("input", "__start__") else cp.node
        values: dict[str, Any] = {"work": {BY: node, NEW: node == FIRST, **cp.values}}
        if node == FIRST:
            values |= {
                "scenario": entry["scenario_source"] or entry["scenario_id"],
                "seed": entry["seed"],
                "backend": entry["backend"],
                "observer": entry["observer"],
                "job": entry,
                "conversation_id": conversation,
                "lineage": None,
                "turns": {BY: node, "start": 0, "items": []},
                "record": None,
                "status": "running",
            }
        elif cp.turn_count != count:
            start = min(count, cp.turn_count)
            values["turns"] = {BY: node, "start": start, "items": turns[start : cp.turn_count]}
        count = cp.turn_count
        if node == "finalize" and record is not None:
            values |= {"record": record, "status": record["outcome"]["status"]}
        steps.append({"updates": [{"values": values, "as_node": node}]})
    return steps


def open_run(
    url: str, catalog: Catalog, run: RunFolder, conversations: list[str] | None = None
) -> list[Opened]:
    """Copy a run's conversations into threads of the server at `url`."""
    from langgraph_sdk import get_sync_client
    from langgraph_sdk.errors import NotFoundError

    inspector = RunInspector(catalog, run)
    wanted = conversations or list(inspector.jobs)
    for conversation in wanted:
        inspector.job(conversation)  # one clear error for an unknown id, before any copy
    records = inspector.records()
    client = get_sync_client(url=url, api_key=None)
    opened = []
    with inspector._simulator(None) as sim:
        for conversation in wanted:
            tid = thread_id(run, conversation)
            record = records.get(conversation)
            status = record.outcome.status if record else "unfinished"
            try:  # opened before (and maybe forked since): left as it is
                count = len(client.threads.get_history(tid, limit=1000))
                opened.append(Opened(conversation, tid, count, status, new=False))
                continue
            except NotFoundError:
                pass
            steps = supersteps(
                inspector, sim, conversation, record.model_dump(mode="json") if record else None
            )
            client.threads.create(
                thread_id=tid,
                graph_id=GRAPH_ID,
                metadata={"run_id": run.run_id, "conversation_id": conversation},
                supersteps=steps,
            )
            opened.append(Opened(conversation, tid, len(steps), status, new=True))
    return opened


@contextmanager
def dev_server(root: Path, host: str, port: int, timeout: float = 120.0) -> Iterator[Any]:
    """`langgraph dev` on the project's langgraph.json, stopped (its process group) on exit."""
    try:
        import langgraph_cli  # noqa: F401
    except ImportError:
        raise EmosimError(
            "emosim studio needs the LangGraph dev server: pip install -e '.[dev]' "
            "(it brings langgraph-cli[inmem])"
        ) from None
    check_port(host, port)
    command = [
        *(sys.executable, "-m", "langgraph_cli", "dev", "--config", str(root / "langgraph.json")),
        *("--host", host, "--port", str(port), "--no-browser"),
    ]
    env = os.environ | {k: os.environ.get(k, v) for k, v in OFFLINE.items()}
    proc = subprocess.Popen(command, cwd=root, env=env, start_new_session=True)
    # the server has its own session: a hang-up or kill of this command must stop it too
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    try:
        wait_ready(f"http://{host}:{port}", proc, timeout)
        yield proc
    finally:
        stop(proc)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def check_port(host: str, port: int) -> None:
    """`langgraph dev` moves to another port when its own is taken; the run would then be
    opened in whatever answers there."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise EmosimError(
                f"--port: {host}:{port} is in use (another server?); choose a free one"
            ) from None


def wait_ready(url: str, proc: subprocess.Popen[Any], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmosimError(f"langgraph dev exited with status {proc.returncode} (see above)")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise EmosimError(f"langgraph dev did not answer at {url}/ok within {timeout:.0f} s")


def stop(proc: subprocess.Popen[Any]) -> None:
    """End the server and its workers (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
