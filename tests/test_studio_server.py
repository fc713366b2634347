"""LangGraph Studio's server: `langgraph dev` on 127.0.0.1 (a free port), driven through its
HTTP API as Studio drives it. Offline: the server's version check and analytics are off,
and everything it calls is local."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import emosim
from emosim.catalog import Catalog
from emosim.cli import app
from emosim.errors import EmosimError
from emosim.graphs.runner import load_job, run_jobs
from emosim.runs import RunFolder
from emosim.schemas import ConversationRecord
from emosim.studio.server import OFFLINE, check_port, open_run

ROOT = Path(__file__).resolve().parent.parent
CODE = Path(emosim.__file__).resolve().parent.parent  # the emosim the tests import
SCENARIO = "student_loan_servicer_frustration"
STARTUP = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, catalog: Catalog
) -> Iterator[tuple[httpx.Client, RunFolder, ConversationRecord]]:
    """The dev server on the project's langgraph.json (its .langgraph_api/ goes to a temporary
    folder), and a run played by `emosim run` while it starts. The server is stopped with its
    whole process group (its reloader and workers) however the tests end."""
    home = tmp_path_factory.mktemp("studio")
    log_path = home / "server.log"
    port = free_port()
    command = [
        *(sys.executable, "-m", "langgraph_cli", "dev", "--config", str(ROOT / "langgraph.json")),
        *("--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"),
    ]
    env = os.environ | OFFLINE | {"LANGSMITH_TRACING": "false", "PYTHONPATH": str(CODE)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        job = load_job(catalog, ROOT / "simulations" / f"{SCENARIO}.yaml", 2)
        folder, (played,) = run_jobs(catalog, [job], home, "scripted", "studio", "pytest")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + STARTUP
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
                pytest.fail(
                    f"langgraph dev did not start on 127.0.0.1:{port} (exit status "
                    f"{proc.poll()}; is langgraph-cli[inmem] installed? pip install -e '.[dev]'):"
                    f"\n{tail}"
                )
            try:
                if client.get("/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield client, folder, played
        client.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def assistant(server) -> str:  # noqa: ANN001
    found = server[0].post("/assistants/search", json={"graph_id": "simulation"}).json()
    assert found, "the simulation graph is not served"
    return found[0]["assistant_id"]


def new_thread(server: httpx.Client) -> str:
    response = server.post("/threads", json={"metadata": {"graph_id": "simulation"}})
    response.raise_for_status()
    return response.json()["thread_id"]


def run(server: httpx.Client, assistant: str, thread: str, **body) -> dict:
    response = server.post(f"/threads/{thread}/runs/wait", json={"assistant_id": assistant, **body})
    response.raise_for_status()
    return response.json()


def state(server: httpx.Client, thread: str) -> dict:
    return server.get(f"/threads/{thread}/state").json()


def test_the_forms_are_served(server, assistant: str) -> None:  # noqa: ANN001
    server, _, _ = server
    schemas = server.get(f"/assistants/{assistant}/schemas").json()
    assert schemas["input_schema"]["properties"]["scenario"]["description"]
    assert schemas["context_schema"]["properties"]["backend"]["description"]
    assert schemas["output_schema"]["properties"]["record"]
    assert schemas["state_schema"]["properties"]["work"]
    nodes = [n["id"] for n in server.get(f"/assistants/{assistant}/graph").json()["nodes"]]
    assert "load_scenario" in nodes and "critic_reviews" in nodes


def test_a_shipped_scenario_plays_to_a_valid_record(server, assistant: str) -> None:  # noqa: ANN001
    server, _, _ = server
    thread = new_thread(server)
    out = run(server, assistant, thread, input={"scenario": SCENARIO, "seed": 3})
    record = ConversationRecord.model_validate(out["record"])
    assert out["status"] == "completed" and record.outcome.status == "completed"
    final = state(server, thread)
    assert final["next"] == [] and final["values"]["record"] == out["record"]
    assert len(final["values"]["turns"]) == len(record.turns) == 2 * 3


def test_a_draft_edited_before_the_critic_gets_its_verdict(server, assistant: str) -> None:  # noqa: ANN001
    server, _, _ = server
    thread = new_thread(server)
    run(
        server,
        assistant,
        thread,
        input={"scenario": SCENARIO, "seed": 3},
        interrupt_before=["critic_reviews"],
    )
    paused = state(server, thread)
    assert paused["next"] == ["critic_reviews"]
    parent = paused["values"]["conversation_id"]
    edited = "That sounds exhausting. What monthly payment did the servicer quote you?"
    draft = {**paused["values"]["work"]["draft"], "text": edited}
    response = server.post(f"/threads/{thread}/state", json={"values": {"work": {"draft": draft}}})
    assert response.status_code == 200, response.text
    run(server, assistant, thread, input=None, interrupt_after=["critic_reviews"])
    judged = state(server, thread)["values"]["work"]
    assert judged["draft"]["text"] == edited and judged["verdict"]["critic"]
    out = run(server, assistant, thread, input=None)
    record = ConversationRecord.model_validate(out["record"])
    assert record.lineage.parent_id == parent and record.lineage.changed == {"draft.text": edited}
    reply = record.turns[1]
    sent = reply.text == edited
    assert sent or reply.rejected_drafts[0].text == edited
    verdict = reply.critic if sent else reply.rejected_drafts[0].verdict
    assert verdict.model_dump(mode="json") == judged["verdict"]
    refused = server.post(f"/threads/{thread}/state", json={"values": {"work": {"exchange": 9}}})
    assert refused.status_code in (400, 422) and "work.exchange" in refused.text


def test_a_run_opens_as_a_thread_and_forks(server, assistant: str, catalog: Catalog) -> None:  # noqa: ANN001
    server, folder, played = server
    (opened,) = open_run(str(server.base_url), catalog, folder)
    assert opened.new and opened.conversation == played.id
    (again,) = open_run(str(server.base_url), catalog, folder)
    assert not again.new and again.thread_id == opened.thread_id
    thread = opened.thread_id
    assert state(server, thread)["values"]["record"] == played.model_dump(mode="json")
    history = server.post(f"/threads/{thread}/history", json={"limit": 100}).json()
    at = next(
        h
        for h in history
        if h["next"] == ["client_speaks"] and h["values"]["work"].get("exchange") == 2
    )
    hidden = {**at["values"]["work"]["hidden"], "emotion": "anger", "intensity": 0.9}
    response = server.post(
        f"/threads/{thread}/state",
        json={
            "values": {"work": {"hidden": hidden}},
            "checkpoint_id": at["checkpoint"]["checkpoint_id"],
            "as_node": "update_arc",
        },
    )
    assert response.status_code == 200, response.text
    checkpoint = response.json()["checkpoint"]["checkpoint_id"]
    out = run(server, assistant, thread, input=None, checkpoint_id=checkpoint)
    child = ConversationRecord.model_validate(out["record"])
    assert child.lineage.parent_id == played.id and child.lineage.fork_checkpoint == checkpoint
    assert [t.text for t in child.turns[:2]] == [t.text for t in played.turns[:2]]
    assert child.turns[2].ground_truth.emotion == "anger"


def test_the_command_opens_a_run_in_a_running_server(server, cli) -> None:  # noqa: ANN001
    server, folder, played = server
    url = str(server.base_url)
    args = ["studio", folder.run_id, "--server", url, "--runs-dir", str(folder.path.parent)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert played.id in result.output and f"baseUrl={url}" in result.output
    missing = cli.invoke(app, [*args, "--conversation", "nope"])
    assert missing.exit_code == 1 and "no conversation 'nope'" in missing.output


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(EmosimError, match="is in use"):
            check_port("127.0.0.1", taken.getsockname()[1])
