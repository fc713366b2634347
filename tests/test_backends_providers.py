"""The real LangChain provider classes over HTTP against local mocks on 127.0.0.1: one full
conversation each (every role on the provider), records valid, cassette replay identical with
zero calls; what each provider is sent (structured-output route, limits, no own retries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from emosim.catalog import Catalog
from emosim.graphs.runner import Job
from emosim.schemas import ConversationRecord
from emosim.validate import validate_paths

from .mock_anthropic import MockAnthropic, answer
from .mock_providers import MockOllama, MockOpenAI, strict_problems
from .test_backends_mock import KEY, _play, _scenario, _strip

TITLES = {
    "ClientMessage",
    "EmotionReading",
    "AdvisorDraft",
    "CriticReview",
    "StrategyReading",
    "SentenceLabels",
}


def _settings(tmp_path: Path, spec: str, pricing: dict[str, Any] | None = None) -> str:
    """A backend config: every role on `spec`, no backoff waits, 7 s timeouts, 2 retries."""
    roles = (
        "client",
        "advisor",
        "emotion_observer",
        "strategy_observer",
        "sentence_observer",
        "critic",
    )
    config = {
        "roles": {"*": spec},
        "settings": {
            "retry": {
                "initial_seconds": 0,
                "max_seconds": 0,
                "jitter_seconds": 0,
                "total_seconds": 30,
            },
            "roles": {r: {"timeout": 7, "retries": 2} for r in roles},
            "pricing": pricing or {},
        },
    }
    path = tmp_path / "providers.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


def _conversation_and_replay(
    catalog: Catalog, tmp_path: Path, spec: str, monkeypatch: pytest.MonkeyPatch
) -> ConversationRecord:
    scenario = _scenario(catalog, exchanges=2, anti_pattern_rate=0.5)
    jobs = [Job(scenario, "h", 3)]
    run, (record,), _ = _play(catalog, tmp_path, spec, jobs, "provider")
    assert record.outcome.status == "completed", record.outcome.failure_reason
    assert validate_paths([run.records_path], catalog).problems == []
    assert {b.backend for r, b in record.provenance.backends.items() if r != "arc_controller"} == {
        "langchain"
    }

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    with monkeypatch.context() as patch:
        patch.setattr(httpx2.HTTPTransport, "handle_request", no_network)
        patch.setattr(httpx.HTTPTransport, "handle_request", no_network)
        _, (again,), _ = _play(catalog, tmp_path, f"replay:{run.path}", jobs, "replay")
    assert _strip(again.model_dump(mode="json")) == _strip(record.model_dump(mode="json"))
    return record


def test_chat_anthropic_json_schema_with_cache_breakpoints(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with MockAnthropic() as mock:
        spec = _settings(
            tmp_path,
            f"langchain:langchain_anthropic.ChatAnthropic?model=claude-haiku-5-5"
            f"&base_url={mock.url}&api_key={KEY}",
        )
        record = _conversation_and_replay(catalog, tmp_path, spec, monkeypatch)
        bodies = list(mock.requests)
    assert record.provenance.backends["advisor"].model == "claude-haiku-5-5"
    titles = {b["output_config"]["format"]["schema"]["title"] for b in bodies}
    assert titles == TITLES  # output_config.format: no forced tool use
    assert all("tools" not in b and "tool_choice" not in b for b in bodies)
    advisor = next(
        b for b in bodies if b["output_config"]["format"]["schema"]["title"] == "AdvisorDraft"
    )
    assert advisor["max_tokens"] == 8192 and advisor["thinking"] == {"type": "adaptive"}
    assert advisor["output_config"]["effort"] == "medium"
    assert [("cache_control" in block) for block in advisor["system"]] == [True, True]
    client = next(
        b for b in bodies if b["output_config"]["format"]["schema"]["title"] == "ClientMessage"
    )
    assert client["max_tokens"] == 1024 and client["thinking"] == {"type": "disabled"}
    assert json.dumps(bodies).count("cache_control") >= 2 * len(bodies) - 2 * sum(
        len(b["system"]) == 1 for b in bodies
    )


def test_chat_anthropic_has_no_retries_of_its_own(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosim.agents.backends import build_agents

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    agents = build_agents(
        catalog,
        "langchain:langchain_anthropic.ChatAnthropic?model=claude-sonnet-5-5&api_key=x",
        anti_pattern_rate=0.0,
    )
    model = agents.advisor.caller.transport.model  # type: ignore[attr-defined]
    assert (model.max_retries, model.max_tokens, model.default_request_timeout) == (0, 8192, 120)
    assert model.thinking == {"type": "adaptive"} and model.reasoning_effort == "medium"
    critic = agents.critic.caller.transport.model  # type: ignore[attr-defined]
    assert (critic.max_tokens, critic.default_request_timeout) == (4096, 60)


def test_chat_openai_strict_json_schema(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChatOpenAI through base_url: the route every OpenAI-compatible server takes."""
    price = {"gpt-mock-1": {"input": 1.0, "output": 4.0, "cache_write": 1.0, "cache_read": 0.1}}
    with MockOpenAI() as mock:
        spec = _settings(
            tmp_path,
            f"langchain:langchain_openai.ChatOpenAI?model=gpt-mock-1&base_url={mock.url}/v1"
            "&api_key=sk-local-not-a-secret",
            pricing=price,
        )
        record = _conversation_and_replay(catalog, tmp_path, spec, monkeypatch)
        bodies = list(mock.requests)
    formats = [b["response_format"] for b in bodies]
    assert {f["type"] for f in formats} == {"json_schema"}
    assert all(f["json_schema"]["strict"] is True for f in formats)
    assert {f["json_schema"]["name"] for f in formats} == TITLES
    assert all(strict_problems(f["json_schema"]["schema"]) == [] for f in formats)
    advisor = next(
        b for b in bodies if b["response_format"]["json_schema"]["name"] == "AdvisorDraft"
    )
    assert advisor["max_completion_tokens"] == 8192
    assert record.quality.scores["cost_usd"] > 0 and record.quality.scores["cache_read_tokens"] > 0


def test_chat_ollama_native_api(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MockOllama() as mock:
        spec = _settings(
            tmp_path, f"langchain:langchain_ollama.ChatOllama?model=llama-mock&base_url={mock.url}"
        )
        with pytest.warns(UserWarning, match="no price for model 'llama-mock'"):
            record = _conversation_and_replay(catalog, tmp_path, spec, monkeypatch)
        bodies = list(mock.requests)
    assert {b["format"]["title"] for b in bodies} == TITLES
    advisor = next(b for b in bodies if b["format"]["title"] == "AdvisorDraft")
    assert advisor["options"]["num_predict"] == 8192
    assert "cost_usd" not in record.quality.scores  # unknown model: unknown cost, not $0


PROMPTS: list[str] = []


class NoToolsChatModel(BaseChatModel):
    """A chat model without tool binding: answers the schema it finds in the system prompt,
    the first time in prose around the JSON with a wrong field (to need the repair)."""

    model: str = "plain-1"

    @property
    def _llm_type(self) -> str:
        return "no-tools-test"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        system = str(messages[0].content)
        schema = json.loads(system.split("fit this JSON schema:\n", 1)[1])
        prompt = "\n".join(str(m.content) for m in messages if m.type == "human")
        PROMPTS.append(schema["title"])
        if len(messages) == 2 and len(PROMPTS) == 1:
            text = 'Sure! {"not": "what you asked"}'
        else:
            text = "```json\n" + json.dumps(answer(schema, prompt, len(prompt))) + "\n```"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def test_a_model_without_tool_binding_answers_schema_in_prompt_json(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    PROMPTS.clear()
    spec = _settings(tmp_path, "langchain:tests.test_backends_providers.NoToolsChatModel")
    with pytest.warns(UserWarning):
        record = _conversation_and_replay(catalog, tmp_path, spec, monkeypatch)
    assert set(PROMPTS) == TITLES
    assert PROMPTS[0] == PROMPTS[1] == "ClientMessage"  # the invalid answer and its repair
    assert record.outcome.status == "completed"


def test_output_parser_exception_is_an_invalid_answer_for_the_repair() -> None:
    from langchain_core.exceptions import OutputParserException
    from langchain_core.runnables import RunnableLambda

    from emosim.agents.llm.context import CallSite
    from emosim.agents.llm.langchain_transport import LangChainTransport
    from emosim.agents.llm.wire import Message, ModelRequest, SystemBlock

    class Raising(NoToolsChatModel):
        def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
            def fail(_: Any) -> Any:
                raise OutputParserException("Failed to parse", llm_output='{"n": "three"}')

            return RunnableLambda(fail)

    request = ModelRequest(
        model="plain-1",
        system=[SystemBlock(text="rules", cache=True)],
        messages=[Message(role="user", text="count")],
        schema_name="Answer",
        output_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
        max_tokens=64,
    )
    reply = LangChainTransport(Raising()).send(request, CallSite("critic", None, 1))
    assert reply.output == {"n": "three"} and reply.text == '{"n": "three"}'
