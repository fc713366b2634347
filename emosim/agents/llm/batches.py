"""Claude calls through the Message Batches API (`emosim batch --message-batches`): half price,
asynchronous, the natural mode for offline sweeps.

Every in-flight conversation runs in its own thread as usual; its Claude agents' transport is
a `BatchTransport`, whose `send` hands the request to the run's `BatchCoordinator` and waits.
When every in-flight conversation is waiting (or `linger_seconds` after the first request of
a round), the coordinator submits all waiting requests as one batch, polls it with backoff
until it has ended, collects the results and wakes the conversations, which each run to
their next model call. So each batch round advances every in-flight conversation by one agent
step, and the graph, records, retries, repairs and cassette are the same as with direct calls
(a replay of a batch run needs no batch and no key).

Kill -9 at any point: `message_batches.jsonl` in the run folder lists every submitted batch
(id and custom ids, written as soon as the API has accepted it) and every collected result
(written before any conversation sees it). A resumed run answers a request from a collected
result, or waits for the batch it is already in, and submits only requests that were never
sent. A request's custom id is a hash of (conversation, request, attempt), which a resumed
conversation asks again identically. (A kill in the instant between the API accepting a batch
and its line being written loses that batch's id: its requests are sent again.)

A per-request error in a batch result is sorted like a direct call's (overloaded, server
errors, expired: transient, retried in a later round; a bad request: fatal).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic

from .anthropic_transport import reply_from_message, request_params
from .context import CallSite
from .faults import CallError, FatalCallError, TransientCallError, classify_status
from .settings import BatchSettings
from .wire import ModelReply, ModelRequest

LEDGER = "message_batches.jsonl"
PROVIDER = "anthropic-batch"
STATUS_OF = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def custom_id(conversation: str | None, key: str, attempt: int) -> str:
    return hashlib.sha256(f"{conversation}|{key}|{attempt}".encode()).hexdigest()[:48]


def _reply(message: dict[str, Any]) -> ModelReply:
    return reply_from_message(message, batch=True)


def _error(result: dict[str, Any]) -> CallError:
    kind = result.get("type")
    if kind in ("expired", "canceled"):
        return TransientCallError(kind, f"batch request {kind}")
    error = (result.get("error") or {}).get("error") or result.get("error") or {}
    name = str(error.get("type") or "api_error")
    return classify_status(STATUS_OF.get(name, 500), f"{name}: {error.get('message', '')}")


class Ledger:
    """message_batches.jsonl: submitted batches and collected results, one line each."""

    def __init__(self, path: Path):
        self.path = path
        self.submitted: dict[str, list[str]] = {}  # batch id -> custom ids
        self.collected: set[str] = set()
        self.results: dict[str, dict[str, Any]] = {}  # custom id -> result
        if path.exists():
            data = path.read_bytes()
            for line in data[: data.rfind(b"\n") + 1].splitlines():
                entry = json.loads(line)
                if entry["type"] == "submitted":
                    self.submitted[entry["batch"]] = entry["custom_ids"]
                elif entry["type"] == "result":
                    self.results[entry["custom_id"]] = entry["result"]
                elif entry["type"] == "collected":
                    self.collected.add(entry["batch"])
        self.in_batch = {
            cid: batch
            for batch, ids in self.submitted.items()
            if batch not in self.collected
            for cid in ids
        }
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, *entries: dict[str, Any]) -> None:
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries)
        with self._lock:
            os.write(self._fd, text.encode())
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None  # type: ignore[assignment]


class BatchCoordinator:
    """Gathers the waiting requests of all in-flight conversations into batch rounds."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        run_dir: Path,
        settings: BatchSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.settings = settings
        self.sleep = sleep
        self.ledger = Ledger(run_dir / LEDGER)
        self.cond = threading.Condition()
        self.active = 0
        self.waiting: dict[str, tuple[dict[str, Any], Future[dict[str, Any]]]] = {}
        self.first_wait = 0.0
        self.followers: dict[str, Future[dict[str, Any]]] = {}  # in an earlier, uncollected batch
        self.rounds: list[int] = []  # requests per round
        self.round_seconds: list[float] = []
        self.resumed_batches = sorted(self.ledger.in_batch.values())
        self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="emosim-batches", daemon=True)
        self._thread.start()

    # --- conversation threads ------------------------------------------------------------

    def enter(self) -> None:
        with self.cond:
            self.active += 1

    def leave(self) -> None:
        with self.cond:
            self.active -= 1
            self.cond.notify_all()

    def ask(self, request: ModelRequest, site: CallSite) -> dict[str, Any]:
        """The result (as the batch results give it) of one request; blocks for its round."""
        cid = custom_id(site.conversation, request.key(), site.attempt)
        with self.cond:
            if self._error is not None:
                raise FatalCallError("batch", f"Message Batches: {self._error}")
            if cid in self.ledger.results:
                return self.ledger.results[cid]
            future: Future[dict[str, Any]] = Future()
            if cid in self.ledger.in_batch:
                self.followers[cid] = future
            else:
                if not self.waiting:
                    self.first_wait = time.monotonic()
                self.waiting[cid] = (
                    {"custom_id": cid, "params": request_params(request)},
                    future,
                )
            self.cond.notify_all()
        return future.result()

    # --- the coordinator thread ----------------------------------------------------------

    def close(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        self._thread.join(timeout=30)
        self.ledger.close()

    def _due(self) -> bool:
        if not self.waiting:
            return False
        everyone = len(self.waiting) + len(self.followers) >= self.active
        lingered = time.monotonic() - self.first_wait >= self.settings.linger_seconds
        return everyone or lingered

    def _loop(self) -> None:
        try:
            for batch in sorted(set(self.resumed_batches)):
                self._collect(batch, time.monotonic())
            while True:
                with self.cond:
                    while not self._stop and not self._due():
                        self.cond.wait(timeout=0.05)
                    if self._stop and not self.waiting:
                        return
                    taken = dict(list(self.waiting.items())[: self.settings.max_requests])
                    for cid in taken:
                        del self.waiting[cid]
                    if self.waiting:
                        self.first_wait = time.monotonic()
                self._round(taken)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting conversation
            with self.cond:
                self._error = exc
                for _, future in self.waiting.values():
                    future.set_exception(FatalCallError("batch", f"Message Batches: {exc}"))
                for future in self.followers.values():
                    future.set_exception(FatalCallError("batch", f"Message Batches: {exc}"))
                self.waiting.clear()
                self.followers.clear()

    def _api(self, call: Callable[[], Any]) -> Any:
        """A batch endpoint call, retried on transient failures (bounded)."""
        wait = self.settings.poll_initial_seconds
        for attempt in range(8):
            try:
                return call()
            except (anthropic.APIConnectionError, anthropic.RateLimitError) as exc:
                error: Exception = exc
            except anthropic.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in (408, 409, 429):
                    raise
                error = exc
            if attempt == 7:
                raise error
            self.sleep(wait)
            wait = min(self.settings.poll_max_seconds, wait * 2)
        raise AssertionError("unreachable")

    def _round(self, taken: dict[str, tuple[dict[str, Any], Future[dict[str, Any]]]]) -> None:
        started = time.monotonic()
        batch = self._api(
            lambda: self.client.messages.batches.create(requests=[r for r, _ in taken.values()])
        )
        self.ledger.write(
            {
                "type": "submitted",
                "batch": batch.id,
                "custom_ids": list(taken),
                "at": datetime.now(UTC).isoformat(),
            }
        )
        with self.cond:
            for cid, (_, future) in taken.items():
                self.ledger.in_batch[cid] = batch.id
                self.followers[cid] = future
        self.rounds.append(len(taken))
        self._collect(batch.id, started)

    def _collect(self, batch_id: str, started: float) -> None:
        wait = self.settings.poll_initial_seconds
        while True:
            status = self._api(lambda: self.client.messages.batches.retrieve(batch_id))
            if status.processing_status == "ended":
                break
            self.sleep(wait)
            wait = min(self.settings.poll_max_seconds, wait * 2)
        results = {
            item.custom_id: item.result.model_dump(mode="json")
            for item in self._api(lambda: list(self.client.messages.batches.results(batch_id)))
        }
        entries = [
            {"type": "result", "custom_id": cid, "result": result}
            for cid, result in results.items()
        ]
        self.ledger.write(*entries, {"type": "collected", "batch": batch_id})
        self.round_seconds.append(time.monotonic() - started)
        with self.cond:
            self.ledger.results.update(results)
            for cid in [c for c, b in self.ledger.in_batch.items() if b == batch_id]:
                del self.ledger.in_batch[cid]
                future = self.followers.pop(cid, None)
                if future is None:
                    continue
                result = results.get(cid) or {"type": "expired"}
                future.set_result(result)
            self.cond.notify_all()


class BatchTransport:
    """A role's Claude calls as requests of the coordinator's batch rounds."""

    provider = PROVIDER
    replaying = False
    batched = True

    def __init__(self, coordinator: BatchCoordinator):
        self.coordinator = coordinator

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        result = self.coordinator.ask(request, site)
        if result.get("type") == "succeeded":
            return _reply(result["message"])
        raise _error(result)


_active: dict[Path, BatchCoordinator] = {}
_active_lock = threading.Lock()


def coordinator_for(run_dir: Path | None) -> BatchCoordinator | None:
    if run_dir is None:
        return None
    with _active_lock:
        return _active.get(run_dir.resolve())


@contextmanager
def message_batches(
    run_dir: Path, client: anthropic.Anthropic, settings: BatchSettings
) -> Iterator[BatchCoordinator]:
    """Claude roles of agents built for `run_dir` inside this block send through batches."""
    coordinator = BatchCoordinator(client, run_dir, settings)
    key = run_dir.resolve()
    with _active_lock:
        _active[key] = coordinator
    try:
        yield coordinator
    finally:
        with _active_lock:
            _active.pop(key, None)
        coordinator.close()
