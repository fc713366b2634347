"""Any LangChain chat model, asked for structured output; every common provider by its own
best route.

The model is built from an import path and keyword arguments; the role's settings reach it
unless the spec sets them itself: max_tokens (`max_tokens`, or `num_predict` for Ollama),
timeout (`timeout` / `request_timeout`, or the Ollama client's), and `max_retries=0`
(retries are emosim's, bounded by agents/llm/defaults.yaml like Claude's, and recorded).

How the answer is asked for:

    ChatAnthropic      with_structured_output(method="json_schema"): output_config.format;
                       the system prompt goes as text blocks with their cache_control
                       breakpoints; the role's thinking and effort are sent
    ChatOpenAI         method="json_schema", strict=True (also any OpenAI-compatible server
                       through base_url: vLLM, llama.cpp server, LM Studio, Ollama's /v1)
    ChatOllama         method="json_schema" (Ollama's `format`)
    any other model    with_structured_output with its default method (tool calling)
    no tool binding    the schema goes in the system prompt; the JSON answer is parsed, and an
                       invalid one gets the caller's one repair request

`structured_output_method=...` in the spec overrides the method (`prompt` forces the
schema-in-prompt route). A reply that does not parse (OutputParserException, or `parsed`
missing) is an invalid answer for the repair request, never a crash. Provider errors are
sorted into transient and fatal by HTTP status where the exception carries one (and its
`x-should-retry` header), else by name.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from emosim.errors import EmosimError

from .context import CallSite
from .faults import CallError, classify_generic
from .settings import RoleSettings, thinking_for
from .spec import LangChainRole, import_chat_model
from .wire import ModelReply, ModelRequest, Usage, parse_json_object

PROMPT = "prompt"
# Provider classes by name -> the structured-output method that suits them.
METHODS = {"ChatAnthropic": "json_schema", "ChatOpenAI": "json_schema", "ChatOllama": "json_schema"}
STOPS = {
    "length": "max_tokens",  # OpenAI, Ollama
    "max_tokens": "max_tokens",
    "content_filter": "refusal",  # OpenAI
    "refusal": "refusal",
    "stop": "end_turn",
    "end_turn": "end_turn",
    "tool_calls": "tool_use",
    "tool_use": "tool_use",
}


def _field_names(cls: type) -> dict[str, str]:
    """Every constructor name of a pydantic chat model (field names and aliases) -> field."""
    out: dict[str, str] = {}
    for name, info in getattr(cls, "model_fields", {}).items():
        out[name] = name
        if info.alias:
            out[info.alias] = name
    return out


def role_kwargs(cls: type, given: dict[str, Any], settings: RoleSettings | None) -> dict[str, Any]:
    """The role's limits as the class's constructor arguments, where the spec leaves them."""
    if settings is None:
        return {}
    fields = _field_names(cls)
    taken = {fields.get(k, k) for k in given}
    out: dict[str, Any] = {}

    def put(field: str, value: Any) -> None:
        if field in fields.values() and field not in taken:
            out[field] = value

    if "max_tokens" in fields.values():
        put("max_tokens", settings.max_tokens)
    else:
        put("num_predict", settings.max_tokens)
    for name in ("default_request_timeout", "request_timeout"):
        put(name, settings.timeout)
    if "client_kwargs" in fields.values() and "client_kwargs" not in taken:
        out["client_kwargs"] = {"timeout": settings.timeout}
    put("max_retries", 0)
    if cls.__name__ == "ChatAnthropic":
        thinking = thinking_for(settings.model, settings.thinking)
        if thinking:
            put("thinking", {"type": thinking})
        if settings.effort:
            put("reasoning_effort", settings.effort)
    return out


def build_chat_model(
    role: LangChainRole, where: str, settings: RoleSettings | None = None
) -> BaseChatModel:
    cls = import_chat_model(role, where)
    if not issubclass(cls, BaseChatModel):
        raise EmosimError(f"{where}: {role.target} is not a LangChain BaseChatModel")
    try:
        return cls(**role.kwargs, **role_kwargs(cls, role.kwargs, settings))
    except Exception as exc:  # noqa: BLE001 - any constructor error is the user's to fix
        raise EmosimError(f"{where}: cannot build {role.target}({exc})") from None


def _system(request: ModelRequest, blocks: bool, extra: str = "") -> SystemMessage:
    if not blocks:
        text = "\n\n".join(block.text for block in request.system)
        return SystemMessage(content=text + extra)
    content: list[str | dict[str, Any]] = []
    for block in request.system:
        item: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cache:
            item["cache_control"] = {"type": "ephemeral"}
        content.append(item)
    if extra:
        content.append({"type": "text", "text": extra.strip()})
    return SystemMessage(content=content)


def _messages(request: ModelRequest, blocks: bool = False, extra: str = "") -> list[BaseMessage]:
    out: list[BaseMessage] = [_system(request, blocks, extra)]
    for m in request.messages:
        out.append(HumanMessage(content=m.text) if m.role == "user" else AIMessage(content=m.text))
    return out


def schema_instruction(request: ModelRequest) -> str:
    schema = json.dumps({"title": request.schema_name, **request.output_schema}, indent=1)
    return (
        "\n\nAnswer with one JSON object and nothing else (no prose, no code fence). It must "
        f"fit this JSON schema:\n{schema}"
    )


def _usage(message: Any) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    read = int(details.get("cache_read") or 0)
    write = int(details.get("cache_creation") or 0)
    return Usage(
        input_tokens=max(0, int(meta.get("input_tokens") or 0) - read - write),
        output_tokens=int(meta.get("output_tokens") or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _text(message: Any) -> str:
    """The answer text of a chat message: text blocks only (no thinking blocks)."""
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def _stop(raw: Any) -> tuple[str | None, dict[str, Any] | None]:
    meta = getattr(raw, "response_metadata", None) or {}
    reason = meta.get("stop_reason") or meta.get("finish_reason") or meta.get("done_reason")
    details = meta.get("stop_details")
    refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
    if refusal:  # OpenAI structured outputs: the model declined
        return "refusal", {"type": "refusal", "explanation": str(refusal)}
    return (STOPS.get(reason, reason) if reason else None), (
        details if isinstance(details, dict) else None
    )


class LangChainTransport:
    provider = "langchain"
    replaying = False

    def __init__(self, model: BaseChatModel, method: str | None = None):
        self.model = model
        name = type(model).__name__
        self.method = method or METHODS.get(name)
        self.strict = name == "ChatOpenAI" and self.method == "json_schema"
        self.blocks = name == "ChatAnthropic"  # system text blocks keep cache_control
        self._fields = _field_names(type(model))
        self._budget_field = (
            "max_tokens"
            if "max_tokens" in self._fields.values()
            else ("num_predict" if "num_predict" in self._fields.values() else None)
        )
        self._models: dict[int, BaseChatModel] = {}
        self._runnables: dict[tuple[str, int], Any] = {}

    def _model_for(self, max_tokens: int) -> BaseChatModel:
        """The model, with a larger max_tokens when the caller asks again after a cut-off."""
        field = self._budget_field
        if field is None or getattr(self.model, field, None) in (None, max_tokens):
            return self.model
        if max_tokens not in self._models:
            self._models[max_tokens] = self.model.model_copy(update={field: max_tokens})
        return self._models[max_tokens]

    def _runnable(self, request: ModelRequest) -> Any:
        key = (request.schema_name, request.max_tokens)
        runnable = self._runnables.get(key)
        if runnable is None:
            model = self._model_for(request.max_tokens)
            if self.method == PROMPT:
                runnable = model
            else:
                schema = {"title": request.schema_name, **request.output_schema}
                kwargs: dict[str, Any] = {"method": self.method} if self.method else {}
                if self.strict:
                    kwargs["strict"] = True
                try:
                    runnable = model.with_structured_output(schema, include_raw=True, **kwargs)
                except NotImplementedError:  # no tool binding: the schema goes in the prompt
                    self.method = PROMPT
                    runnable = model
            self._runnables[key] = runnable
        return runnable

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        runnable = self._runnable(request)
        prompt = self.method == PROMPT
        extra = schema_instruction(request) if prompt else ""
        try:
            result = runnable.invoke(_messages(request, self.blocks, extra))
        except CallError:
            raise
        except OutputParserException as exc:  # an invalid answer: repairable
            text = str(getattr(exc, "llm_output", "") or "")
            return ModelReply(output=parse_json_object(text), text=text or str(exc))
        except Exception as exc:  # noqa: BLE001 - sorted into transient or fatal
            raise classify_generic(exc) from None
        if prompt:
            raw, parsed = result, None
        else:
            raw, parsed = result.get("raw"), result.get("parsed")
        if hasattr(parsed, "model_dump"):
            parsed = parsed.model_dump()
        raw_text = _text(raw) if raw is not None else ""
        text = json.dumps(parsed, ensure_ascii=False) if isinstance(parsed, dict) else raw_text
        output = parsed if isinstance(parsed, dict) else parse_json_object(raw_text)
        stop, details = _stop(raw)
        meta = getattr(raw, "response_metadata", None) or {}
        return ModelReply(
            output=output,
            text=text,
            stop_reason=stop,
            stop_details=details,
            model=meta.get("model_name") or meta.get("model"),
            usage=_usage(raw),
        )
