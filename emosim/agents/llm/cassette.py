"""The cassette: every model call of a run, one JSON line each, and replay from it.

`cassette.jsonl` in the run folder holds `call` lines (request hash, request, reply or error,
usage, latency) and `blob` lines: long texts (system prompts, output schemas) are written
once and referred to by sha256, so a run of thousands of calls stays small. Each call and
the blobs it needs are appended with a single write on an O_APPEND file, so a killed process
never leaves half a line; the file is synced to disk at most once a second and on close (like
the checkpoints' `synchronous=NORMAL`): a sync per call cost more than the call's own work.
A torn last line (power loss mid-write) is ignored by readers.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import weakref
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from emosim.errors import DataError, EmosimError
from emosim.schemas.common import StrictModel

from .context import CallSite
from .faults import CallError, FatalCallError, TransientCallError, redact
from .wire import ModelReply, ModelRequest

CASSETTE = "cassette.jsonl"
SYNC_SECONDS = 1.0


class ErrorInfo(StrictModel):
    kind: str
    status: int | None = None
    message: str
    transient: bool
    retry: bool = Field(default=True, description="False when the server said not to retry.")


class CallLine(StrictModel):
    type: Literal["call"] = "call"
    key: str = Field(description="sha256 of the request (ModelRequest.key).")
    role: str
    conversation: str | None = None
    turn: int | None = None
    attempt: int = Field(ge=1, description="Attempt number of this request within its turn.")
    provider: str
    request: dict[str, Any] = Field(description="The request; long texts as blob references.")
    reply: ModelReply | None = None
    error: ErrorInfo | None = None
    latency_ms: float = 0.0
    at: str = Field(description="When the call finished (UTC, ISO 8601).")
    replayed: bool = False


class BlobLine(StrictModel):
    type: Literal["blob"] = "blob"
    sha: str
    text: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class CassetteWriter:
    """Appends call lines to one cassette file; shared by every agent writing to it."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._known: set[str] = (
            {b.sha for b in _read_lines(path)[0].values()} if path.exists() else set()
        )
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._synced = time.monotonic()
        self._recorded: set[tuple[str | None, str, int]] | None = None
        self._shas: dict[str, str] = {}
        self._schemas: dict[int, tuple[dict[str, Any], str]] = {}

    def skip_recorded_calls(self) -> None:
        """From now on, a call that the file held when this process opened it (same
        conversation, request and attempt) is not written again, once: a resumed batch run
        re-asks what it asked before the kill and is answered from the collected batch
        results, so the cassette keeps one line per call."""
        with self._lock:
            if self._recorded is None:
                calls = _read_lines(self.path)[1] if self.path.stat().st_size else []
                self._recorded = {(c.conversation, c.key, c.attempt) for c in calls}

    def close(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.fsync(fd)
            os.close(fd)

    def __del__(self) -> None:
        self.close()

    def record(
        self,
        site: CallSite,
        provider: str,
        request: ModelRequest,
        *,
        reply: ModelReply | None = None,
        error: CallError | None = None,
        latency_ms: float = 0.0,
        replayed: bool = False,
    ) -> bool:
        """Append the call; False when it was skipped (see `skip_recorded_calls`)."""
        blobs: list[BlobLine] = []
        key = request.key()
        with self._lock:
            if self._recorded is not None:
                ident = (site.conversation, key, max(1, site.attempt))
                if ident in self._recorded:
                    self._recorded.discard(ident)  # once: the call re-asked after the resume
                    return False
            compact = self._compact(request, blobs)
            line = CallLine(
                key=key,
                role=site.role,
                conversation=site.conversation,
                turn=site.turn,
                attempt=max(1, site.attempt),
                provider=provider,
                request=compact,
                reply=reply,
                error=None
                if error is None
                else ErrorInfo(
                    kind=error.kind,
                    status=error.status,
                    message=str(error),
                    transient=isinstance(error, TransientCallError),
                    retry=getattr(error, "retry", True),
                ),
                latency_ms=round(latency_ms, 3),
                at=datetime.now(UTC).isoformat(),
                replayed=replayed,
            )
            # the line is redacted as a whole, once: request, reply and error alike
            text = "".join(b.model_dump_json() + "\n" for b in blobs)
            text += redact(line.model_dump_json()) + "\n"
            os.write(self._fd, text.encode())
            due = time.monotonic() - self._synced >= SYNC_SECONDS
            if due:
                self._synced = time.monotonic()
        if due:
            os.fsync(self._fd)
        return True

    def _compact(self, request: ModelRequest, blobs: list[BlobLine]) -> dict[str, Any]:
        """The request as its cassette line holds it: long texts as blob references. (Built
        field by field, in model_dump's order: the system texts and the schema are the bulk of
        a request and are serialized and hashed once per process, not once per call. Keys are
        taken out of the whole line as it is written, and of a blob's text.)"""

        def ref(text: str) -> str:
            sha = self._shas.get(text)
            if sha is None:
                if len(self._shas) > 4096:
                    self._shas.clear()
                sha = self._shas[text] = _sha(text)
            if sha not in self._known:
                self._known.add(sha)
                blobs.append(BlobLine(sha=sha, text=redact(text)))
            return sha

        schema = self._schemas.get(id(request.output_schema))
        if schema is None or schema[0] is not request.output_schema:
            text = json.dumps(request.output_schema, sort_keys=True, ensure_ascii=False)
            schema = self._schemas[id(request.output_schema)] = (request.output_schema, text)
        return {
            "model": request.model,
            "system": [{"blob": ref(b.text), "cache": b.cache} for b in request.system],
            "messages": [{"role": m.role, "text": m.text} for m in request.messages],
            "schema_name": request.schema_name,
            "output_schema": {"blob": ref(schema[1])},
            "max_tokens": request.max_tokens,
            "effort": request.effort,
            "thinking": request.thinking,
        }


_writers: weakref.WeakValueDictionary[Path, CassetteWriter] = weakref.WeakValueDictionary()
_writers_lock = threading.Lock()


def open_writer(path: Path) -> CassetteWriter:
    """The one writer of this cassette file in this process."""
    key = path.resolve()
    with _writers_lock:
        writer = _writers.get(key)
        if writer is None:
            writer = CassetteWriter(key)
            _writers[key] = writer
        return writer


def _read_lines(path: Path) -> tuple[dict[str, BlobLine], list[CallLine]]:
    try:
        raw = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError([f"{path}: no cassette (was the run made with a model backend?)"]) from None
    lines = raw.split("\n")
    blobs: dict[str, BlobLine] = {}
    calls: list[CallLine] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("type") == "blob":
                blob = BlobLine.model_validate(data)
                blobs[blob.sha] = blob
            else:
                calls.append(CallLine.model_validate(data))
        except (json.JSONDecodeError, ValidationError, AttributeError) as exc:
            if number == len(lines):  # the last line, cut short by a crash: never trusted
                break
            raise DataError([f"{path}:{number}: not a cassette line ({exc})"]) from None
    return blobs, calls


class Cassette:
    """A cassette read back: blobs and calls, in file order."""

    def __init__(self, path: Path):
        self.path = path
        self.blobs, self.calls = _read_lines(path)

    def text(self, sha: str) -> str:
        return self.blobs[sha].text


class ReplayMiss(EmosimError):
    """A request the cassette has no answer for."""


class ReplayTransport:
    """Answers from a cassette, in recorded order per request; never touches the network.

    Recorded failures are replayed too (a 529 then a success replays as a retry and a
    success), so a replay reproduces failed turns as well as good ones. Answers are looked up
    by conversation and request: two conversations can ask the same question (an observer
    reading the same reply), and in a concurrent batch one may have met a dropped connection
    where the other did not. A request of a conversation the cassette does not hold (a fork)
    is answered from any conversation's recording. When a request's recorded answers run out,
    its last one answers again.
    """

    provider = "replay"
    replaying = True

    def __init__(self, cassette: Cassette):
        self.cassette = cassette
        self._queues: dict[tuple[str | None, str], deque[CallLine]] = {}
        self._any: dict[str, deque[CallLine]] = {}
        for call in cassette.calls:
            self._queues.setdefault((call.conversation, call.key), deque()).append(call)
            self._any.setdefault(call.key, deque()).append(call)
        self._lock = threading.Lock()

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        key = request.key()
        with self._lock:
            queue = self._queues.get((site.conversation, key)) or self._any.get(key)
            if not queue:
                where = f" of conversation {site.conversation}" if site.conversation else ""
                raise ReplayMiss(
                    f"replay: no recorded answer for {site.label}{where} (request {key[:16]}) "
                    f"in {self.cassette.path}: the prompts, settings or scenario differ from "
                    "the recorded run"
                )
            call = queue.popleft() if len(queue) > 1 else queue[0]
        if call.error is not None:
            error = call.error
            if error.transient:
                raise TransientCallError(
                    error.kind, error.message, status=error.status, retry=error.retry
                )
            raise FatalCallError(error.kind, error.message, status=error.status)
        if call.reply is None:
            raise ReplayMiss(f"replay: {self.cassette.path}: call {key[:16]} has no reply")
        return call.reply
