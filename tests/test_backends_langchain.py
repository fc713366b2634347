"""The LangChain backend: any BaseChatModel by import path, asked via with_structured_output.

LangChain's own fake chat models do not support structured output, so this file defines a
small BaseChatModel that does: it answers the bound tool with a tool call whose arguments
fit the schema (the same answers the mock Messages API gives).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from emosim.agents.backends import build_agents, check_backend
from emosim.catalog import Catalog
from emosim.errors import AgentFailure, EmosimError
from emosim.graphs.runner import Job
from emosim.validate import validate_paths

from .mock_anthropic import answer
from .test_backends_mock import _play, _scenario

SPEC = "langchain:tests.test_backends_langchain.ToolCallingChatModel"
CALLS: list[dict[str, Any]] = []


class ToolCallingChatModel(BaseChatModel):
    """Answers with a call of the first bound tool; `broken=True` answers in prose instead."""

    model: str = "tool-caller-1"
    broken: bool = False

    @property
    def _llm_type(self) -> str:
        return "tool-calling-test"

    def bind_tools(self, tools: list[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        function = kwargs["tools"][0]["function"]
        prompt = "\n".join(str(m.content) for m in messages if m.type == "human")
        CALLS.append({"tool": function["name"], "choice": kwargs.get("tool_choice")})
        usage = {
            "input_tokens": 1200,
            "output_tokens": 40,
            "total_tokens": 1240,
            "input_token_details": {"cache_read": 1000},
        }
        if self.broken:
            message = AIMessage(content="I would rather chat.", usage_metadata=usage)
        else:
            digest = len(prompt) * 7919 + len(CALLS)
            args = answer({**function["parameters"], "title": function["name"]}, prompt, digest)
            message = AIMessage(
                content="",
                tool_calls=[{"name": function["name"], "args": args, "id": f"call_{len(CALLS)}"}],
                usage_metadata=usage,
                response_metadata={"model_name": self.model, "finish_reason": "tool_calls"},
            )
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_every_role_on_a_langchain_chat_model(catalog: Catalog, tmp_path: Path) -> None:
    from emosim.agents.llm.settings import UnpricedModelWarning

    CALLS.clear()
    with pytest.warns(UnpricedModelWarning, match="no price for model 'tool-caller-2'"):
        run, (record,), sim = _play(
            catalog, tmp_path, f"{SPEC}?model=tool-caller-2", [Job(_scenario(catalog, 3), "h", 6)]
        )
    assert record.outcome.status == "completed", record.outcome.failure_reason
    assert validate_paths([run.records_path], catalog).problems == []
    assert {c["choice"] for c in CALLS} == {"any"}  # with_structured_output forced the tool
    assert {c["tool"] for c in CALLS} == {
        "ClientMessage",
        "EmotionReading",
        "AdvisorDraft",
        "CriticReview",
        "StrategyReading",
        "SentenceLabels",
    }
    info = record.provenance.backends["advisor"]
    assert (info.backend, info.model) == ("langchain", "tool-caller-2")
    assert record.advisor_turns[0].strategies.source == "langchain-strategy/tool-caller-2"
    lines = [json.loads(x) for x in (run.path / "cassette.jsonl").read_text().splitlines()]
    calls = [x for x in lines if x["type"] == "call"]
    assert len(calls) == len(CALLS) and {c["provider"] for c in calls} == {"langchain"}
    usage = calls[0]["reply"]["usage"]
    assert usage == {
        "input_tokens": 200,
        "output_tokens": 40,
        "cache_read_tokens": 1000,
        "cache_write_tokens": 0,
    }
    scores = sim.agents_for(_scenario(catalog, 3)).accounting.scores(record.id)
    # an unpriced model's cost is unknown, never $0
    assert scores["tokens_in"] == 1200 * len(CALLS) and "cost_usd" not in scores
    assert scores["unpriced_calls"] == len(CALLS)


def test_a_model_that_never_answers_in_structure_fails_the_turn(catalog: Catalog) -> None:
    agents = build_agents(catalog, f"critic={SPEC}?broken=true", anti_pattern_rate=0.0)
    from emosim.agents.messages import CriticInput
    from emosim.schemas import EmotionAnnotation

    observed = EmotionAnnotation(
        primary="worry",
        family="fear",
        intensity=0.5,
        intensity_level="medium",
        confidence=0.5,
        observer="x",
    )
    CALLS.clear()
    with pytest.raises(AgentFailure) as info:
        agents.critic.review(CriticInput(draft="Hello there.", observed=observed, transcript=[]))
    assert str(info.value).startswith("critic turn 0: invalid answer after one repair request")
    assert len(CALLS) == 2  # the answer and one repair


def test_langchain_spec_errors(catalog: Catalog) -> None:
    with pytest.raises(EmosimError) as info:
        check_backend(catalog, "client=langchain:no_such_package_xyz.Chat")
    assert "cannot import 'no_such_package_xyz'" in str(info.value)
    with pytest.raises(EmosimError) as info:
        build_agents(catalog, "langchain:pathlib.Path", anti_pattern_rate=0.0)
    assert "not a LangChain BaseChatModel" in str(info.value)
    with pytest.raises(EmosimError) as info:
        build_agents(catalog, f"{SPEC}?broken=maybe", anti_pattern_rate=0.0)
    assert "cannot build" in str(info.value)
