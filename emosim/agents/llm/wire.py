"""Provider-neutral model calls: what is asked, what comes back, and the request's hash.

Every transport (Anthropic, LangChain, replay) takes a `ModelRequest` and returns a
`ModelReply`, so recording, replay, retries and accounting are written once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import Field, ValidatorFunctionWrapHandler, field_validator

from emosim.schemas.common import StrictModel


class SystemBlock(StrictModel):
    text: str
    cache: bool = Field(default=False, description="Prompt-cache breakpoint after this block.")


class Message(StrictModel):
    role: Literal["user", "assistant"]
    text: str


class ModelRequest(StrictModel):
    model: str
    system: list[SystemBlock]
    messages: list[Message]
    schema_name: str
    output_schema: dict[str, Any]
    max_tokens: int
    effort: str | None = None
    thinking: str | None = Field(
        default=None, description="adaptive | disabled; None: the model's default."
    )

    @field_validator("output_schema", mode="wrap")
    @classmethod
    def _schema_kept(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """The schema object itself, not pydantic's copy: the reply models' schemas are built
        once per process and serialized once per object (`schema_json`, the cassette, the
        request body); a copy per request missed those caches on every call."""
        if type(value) is dict and all(type(k) is str for k in value):
            return value
        return handler(value)

    def key(self) -> str:
        """Stable hash: sorted JSON of model, system, messages and output schema.

        No timestamps, ids or limits (max_tokens, effort, thinking): the same prompt asks the
        same question, so a replay finds it after a settings change that does not alter what
        the model is shown, and a retry with a larger max_tokens is the same request.
        """
        # The canonical JSON of {"messages", "model", "system", "tools"} (sorted keys), built
        # from pieces: the long, stable ones (system blocks, schema) are serialized once per
        # process. Same bytes as json.dumps(body, sort_keys=True), so keys never change.
        digest = hashlib.sha256()
        messages = [{"role": m.role, "text": m.text} for m in self.messages]
        digest.update(b'{"messages":')
        digest.update(_canonical(messages).encode())
        digest.update(b',"model":')
        digest.update(_canonical(self.model).encode())
        digest.update(b',"system":[')
        digest.update(b",".join(_block_json(b.text, b.cache) for b in self.system))
        digest.update(b'],"tools":{"name":')
        digest.update(_canonical(self.schema_name).encode())
        digest.update(b',"schema":')
        digest.update(schema_json(self.output_schema).encode())
        digest.update(b"}}")
        return digest.hexdigest()

    def with_repair(self, answer: str, problem: str) -> ModelRequest:
        """The same request plus the invalid answer and what was wrong with it."""
        note = (
            "Your answer did not pass validation:\n"
            f"{problem}\n"
            "Answer again with the complete, corrected JSON object and nothing else."
        )
        return self.model_copy(
            update={
                "messages": [
                    *self.messages,
                    Message(role="assistant", text=answer or "(no answer)"),
                    Message(role="user", text=note),
                ]
            }
        )


class Usage(StrictModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """All input tokens, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


class ModelReply(StrictModel):
    output: dict[str, Any] | None = Field(
        default=None, description="The structured answer, when the reply held a JSON object."
    )
    text: str = Field(default="", description="The answer as the model wrote it.")
    stop_reason: str | None = None
    stop_details: dict[str, Any] | None = Field(
        default=None, description="Why the model stopped, when it says (a refusal's category)."
    )
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    batch: bool = Field(
        default=False, description="Answered through the Message Batches API (batch price)."
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_BLOCKS: dict[tuple[str, bool], bytes] = {}
_SCHEMAS: dict[int, tuple[dict[str, Any], str]] = {}


def _block_json(text: str, cache: bool) -> bytes:
    found = _BLOCKS.get((text, cache))
    if found is None:
        if len(_BLOCKS) > 4096:
            _BLOCKS.clear()
        found = _BLOCKS[(text, cache)] = _canonical({"cache": cache, "text": text}).encode()
    return found


def schema_json(schema: dict[str, Any]) -> str:
    """Canonical JSON of an output schema; serialized once per schema object (the reply
    models' schemas are built once per process and never changed)."""
    entry = _SCHEMAS.get(id(schema))
    if entry is None or entry[0] is not schema:
        if len(_SCHEMAS) > 256:
            _SCHEMAS.clear()
        entry = _SCHEMAS[id(schema)] = (schema, _canonical(schema))
    return entry[1]


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object a text reply holds (also inside a ```json fence), or None."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            return None
        try:
            value = json.loads(body[start : end + 1])
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None
