"""Any LangChain chat model, asked for structured output with `with_structured_output`.

The model is built from an import path and keyword arguments. Provider errors are sorted
into transient and fatal by HTTP status where the exception carries one, else by name.
Set the provider's own timeout and retry arguments in the spec (e.g. `timeout=60`,
`max_retries=0`): retries here are bounded by agents/llm/defaults.yaml like Claude's.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from emosim.errors import EmosimError

from .context import CallSite
from .faults import CallError, classify_generic
from .spec import LangChainRole, import_chat_model
from .wire import ModelReply, ModelRequest, Usage, parse_json_object


def build_chat_model(role: LangChainRole, where: str) -> BaseChatModel:
    cls = import_chat_model(role, where)
    if not issubclass(cls, BaseChatModel):
        raise EmosimError(f"{where}: {role.target} is not a LangChain BaseChatModel")
    try:
        return cls(**role.kwargs)
    except Exception as exc:  # noqa: BLE001 - any constructor error is the user's to fix
        raise EmosimError(f"{where}: cannot build {role.target}({exc})") from None


def _messages(request: ModelRequest) -> list[BaseMessage]:
    system = "\n\n".join(block.text for block in request.system)
    out: list[BaseMessage] = [SystemMessage(content=system)]
    for m in request.messages:
        out.append(HumanMessage(content=m.text) if m.role == "user" else AIMessage(content=m.text))
    return out


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


class LangChainTransport:
    provider = "langchain"
    replaying = False

    def __init__(self, model: BaseChatModel, method: str | None = None):
        self.model = model
        self.method = method
        self._runnables: dict[str, Any] = {}

    def _runnable(self, request: ModelRequest) -> Any:
        runnable = self._runnables.get(request.schema_name)
        if runnable is None:
            schema = {"title": request.schema_name, **request.output_schema}
            kwargs = {"method": self.method} if self.method else {}
            runnable = self.model.with_structured_output(schema, include_raw=True, **kwargs)
            self._runnables[request.schema_name] = runnable
        return runnable

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        try:
            result = self._runnable(request).invoke(_messages(request))
        except CallError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted into transient or fatal
            raise classify_generic(exc) from None
        raw = result.get("raw")
        parsed = result.get("parsed")
        text = json.dumps(parsed, ensure_ascii=False) if isinstance(parsed, dict) else ""
        if not text and raw is not None:
            text = raw.content if isinstance(raw.content, str) else json.dumps(raw.content)
        output = parsed if isinstance(parsed, dict) else parse_json_object(text)
        meta = getattr(raw, "response_metadata", None) or {}
        return ModelReply(
            output=output,
            text=text,
            stop_reason=meta.get("stop_reason") or meta.get("finish_reason"),
            model=meta.get("model_name") or meta.get("model"),
            usage=_usage(raw),
        )
