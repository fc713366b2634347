"""Model backends, unit level: spec parsing, settings, request hashing, the Anthropic transport
(SDK over an httpx2 MockTransport), retries, repair and the cassette."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from pydantic import ValidationError

from emosim.agents.backends import build_agents
from emosim.agents.llm.accounting import Accounting
from emosim.agents.llm.anthropic_transport import (
    AnthropicTransport,
    request_body,
    request_params,
)
from emosim.agents.llm.caller import ModelCaller, ReplyError
from emosim.agents.llm.cassette import Cassette, CassetteWriter, ReplayMiss, ReplayTransport
from emosim.agents.llm.context import CallSite
from emosim.agents.llm.faults import FatalCallError, TransientCallError, redact
from emosim.agents.llm.settings import RetrySettings, RoleSettings, load_settings
from emosim.agents.llm.spec import AnthropicRole, LangChainRole, ScriptedRole, parse_spec
from emosim.agents.llm.wire import Message, ModelReply, ModelRequest, SystemBlock, Usage
from emosim.catalog import Catalog
from emosim.errors import AgentFailure, DataError, EmosimError

FAST = RetrySettings(initial_seconds=0.5, max_seconds=4, jitter_seconds=0, total_seconds=60)
ROLE = RoleSettings(model="claude-test", max_tokens=256, timeout=5, retries=3)


def _request(text: str = "hello", model: str = "claude-test") -> ModelRequest:
    return ModelRequest(
        model=model,
        system=[
            SystemBlock(text="stable rules", cache=True),
            SystemBlock(text="persona", cache=True),
        ],
        messages=[Message(role="user", text=text)],
        schema_name="Answer",
        output_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
        max_tokens=256,
    )


# --- spec ------------------------------------------------------------------------------------


def test_spec_forms() -> None:
    assert all(isinstance(b, ScriptedRole) for b in parse_spec("scripted").roles.values())
    plan = parse_spec("anthropic:claude-opus-5-5")
    assert {b.model for b in plan.roles.values()} == {"claude-opus-5-5"}
    mixed = parse_spec("client=anthropic, advisor=anthropic ,*=scripted")
    assert isinstance(mixed.roles["client"], AnthropicRole)
    assert isinstance(mixed.roles["critic"], ScriptedRole)
    assert isinstance(parse_spec("advisor=anthropic").roles["client"], ScriptedRole)
    lc = parse_spec(
        "critic=langchain:langchain_openai.ChatOpenAI?model=gpt-x&temperature=0.2&max_retries=0"
        "&structured_output_method=json_schema"
    ).roles["critic"]
    assert isinstance(lc, LangChainRole) and lc.target == "langchain_openai.ChatOpenAI"
    assert lc.kwargs == {"model": "gpt-x", "temperature": 0.2, "max_retries": 0}
    assert lc.method == "json_schema" and lc.model_name() == "gpt-x"
    replay = parse_spec("replay:runs/abc")
    assert replay.replay == Path("runs/abc") and replay.uses_models()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("clinet=anthropic", "unknown role 'clinet'"),
        ("openai", "unknown backend 'openai'"),
        ("client=anthropic,client=scripted", "given twice"),
        ("langchain:notapath", "module.ChatModelClass"),
        ("client=replay:runs/x", "whole run"),
        ("replay:", "needs a run folder"),
    ],
)
def test_spec_errors_are_one_clear_line(spec: str, words: str) -> None:
    with pytest.raises(EmosimError) as info:
        parse_spec(spec)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_backend_config_file(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(
        "roles:\n  client: anthropic:claude-x\n  '*': scripted\n"
        "settings:\n  retry: {initial_seconds: 0}\n  roles: {client: {max_tokens: 99}}\n"
    )
    plan = parse_spec(str(path))
    assert plan.roles["client"] == AnthropicRole(model="claude-x")
    settings = load_settings(catalog.root, plan.settings, plan.source)
    assert settings.roles["client"].max_tokens == 99 and settings.retry.initial_seconds == 0
    assert settings.roles["advisor"].model == "claude-sonnet-5-5"  # untouched defaults

    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  client: anthropic\nsetings: {}\n")
    with pytest.raises(DataError) as info:
        parse_spec(str(bad))
    assert f"{bad}:3: setings" in str(info.value)
    with pytest.raises(DataError) as info:
        load_settings(catalog.root, {"roles": {"client": {"max_tokens": "lots"}}}, "x.yaml")
    assert "roles.client.max_tokens" in str(info.value) and "x.yaml" in str(info.value)


def test_defaults_name_current_models(catalog: Catalog) -> None:
    settings = load_settings(catalog.root)
    assert settings.roles["advisor"].model.startswith("claude-sonnet")
    assert settings.roles["critic"].model.startswith("claude-haiku")
    for role in settings.roles.values():
        assert role.model in settings.pricing


# --- request hash ------------------------------------------------------------------------


def test_request_hash_is_stable_and_content_only() -> None:
    a = _request()
    b = ModelRequest.model_validate(json.loads(a.model_dump_json()))
    assert a.key() == b.key() and len(a.key()) == 64
    assert a.model_copy(update={"max_tokens": 999}).key() == a.key()
    assert _request("hello!").key() != a.key()
    assert _request(model="claude-other").key() != a.key()
    reordered = a.model_copy(
        update={"output_schema": {"properties": {"n": {"type": "integer"}}, "type": "object"}}
    )
    assert reordered.key() == a.key()


# --- the Anthropic transport through the SDK --------------------------------------------------


def _sdk(handler: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-ant-test-transport-key",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


def _message(text: str, **usage: int) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
    }


def test_anthropic_request_body_and_reply() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(
            200,
            json=_message('{"n": 3}', cache_read_input_tokens=900, cache_creation_input_tokens=0),
        )

    transport = AnthropicTransport(_sdk(handler), timeout=5)
    request = _request().model_copy(update={"effort": "low"})
    reply = transport.send(request, CallSite("critic", None, 1))
    assert reply.output == {"n": 3}
    assert reply.usage == Usage(input_tokens=10, output_tokens=5, cache_read_tokens=900)
    body = seen[0]
    assert [b["cache_control"] for b in body["system"]] == [{"type": "ephemeral"}] * 2
    assert body["output_config"] == {
        "format": {"type": "json_schema", "schema": request.output_schema},
        "effort": "low",
    }
    assert "temperature" not in body and "tools" not in body
    assert body["messages"] == [{"role": "user", "content": "hello"}]


def test_deprecated_model_warned_once_like_the_sdk() -> None:
    """The body goes through the SDK's `post`, not `messages.create`: its warning about a
    deprecated model is kept (once per model and process)."""
    from anthropic._data.deprecated_models import DEPRECATED_MODELS

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=_message('{"n": 1}'))

    model = next(iter(DEPRECATED_MODELS))
    transport = AnthropicTransport(_sdk(handler), timeout=5)
    with pytest.warns(DeprecationWarning, match=model):
        transport.send(_request(model=model), CallSite("client", None, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transport.send(_request(model=model), CallSite("client", None, 2))
        transport.send(_request(), CallSite("client", None, 3))


def test_request_keeps_the_schema_object() -> None:
    """Not pydantic's copy: the serialized-once caches of the schema are keyed by the object."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    request = _request().model_copy(update={"output_schema": schema})
    assert ModelRequest.model_validate(request.model_dump()).output_schema == schema
    built = ModelRequest(**(request.model_dump() | {"output_schema": schema}))
    assert built.output_schema is schema
    assert built.with_repair("x", "y").output_schema is schema
    with pytest.raises(ValidationError):
        ModelRequest(**(request.model_dump() | {"output_schema": ["not", "a", "schema"]}))


def test_prebuilt_body_is_the_request_params() -> None:
    """The bytes sent (cached system and schema JSON) are the SDK parameters, schema key order
    kept (it is the order the model answers in), for every optional part and a text that
    orjson refuses (a lone surrogate)."""
    schema = {"type": "object", "properties": {"z": {"type": "string"}, "a": {"type": "integer"}}}
    base = _request().model_copy(update={"output_schema": schema})
    variants = [
        base,
        base.model_copy(update={"effort": "low", "thinking": "disabled"}),
        base.model_copy(update={"system": [SystemBlock(text="no cache")]}),
        base.with_repair("not json", "missing n"),
        _request(text="lone \ud800 surrogate"),
    ]
    for request in variants:
        for _ in range(2):  # built, then from the cache
            body = request_body(request)
            assert json.loads(body) == request_params(request)
    assert list(
        json.loads(request_body(base))["output_config"]["format"]["schema"]["properties"]
    ) == ["z", "a"]


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, TransientCallError, "rate_limited"),
        (529, TransientCallError, "overloaded"),
        (500, TransientCallError, "server_error"),
        (503, TransientCallError, "server_error"),
        (401, FatalCallError, "authentication"),
        (403, FatalCallError, "authentication"),
        (400, FatalCallError, "bad_request"),
        (404, FatalCallError, "not_found"),
    ],
)
def test_anthropic_errors_sorted(status: int, error: type, kind: str) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = {
            "type": "error",
            "error": {"type": "x", "message": "key sk-ant-test-transport-key bad"},
        }
        return httpx2.Response(status, json=body, headers={"retry-after": "7"})

    with pytest.raises(error) as info:
        AnthropicTransport(_sdk(handler), timeout=5).send(_request(), CallSite("client", None, 0))
    assert info.value.kind == kind and info.value.status == status
    assert "sk-ant-test-transport-key" not in str(info.value)
    if status == 429:
        assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    "failure",
    [httpx2.ReadTimeout, httpx2.ConnectError, httpx2.ReadError, httpx2.RemoteProtocolError],
)
def test_anthropic_timeouts_and_lost_connections_are_transient(failure: type) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise failure(
            "peer closed connection without sending complete message body", request=request
        )

    with pytest.raises(TransientCallError) as info:
        AnthropicTransport(_sdk(handler), timeout=5).send(_request(), CallSite("client", None, 0))
    expected = "timeout" if failure is httpx2.ReadTimeout else "connection"
    assert info.value.kind == expected and info.value.retry
    if expected == "connection":
        assert failure.__name__ in str(info.value)


@pytest.mark.parametrize(
    ("status", "header", "error", "retry"),
    [
        (409, None, TransientCallError, True),
        (500, "false", TransientCallError, False),
        (529, "false", TransientCallError, False),
        (400, "true", TransientCallError, True),
        (400, "false", FatalCallError, None),
        (503, "true", TransientCallError, True),
    ],
)
def test_x_should_retry_overrides_the_status(
    status: int, header: str | None, error: type, retry: bool | None
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"retry-after-ms": "1500"} | ({"x-should-retry": header} if header else {})
        body = {"type": "error", "error": {"type": "x", "message": "busy"}}
        return httpx2.Response(status, json=body, headers=headers)

    with pytest.raises(error) as info:
        AnthropicTransport(_sdk(handler), timeout=5).send(_request(), CallSite("client", None, 0))
    if retry is not None:
        assert info.value.retry is retry and info.value.retry_after == 1.5


# --- caller: retries, repair, accounting ----------------------------------------------------


class Scripted:
    """A transport that plays a list of outcomes (replies or exceptions) in order."""

    provider = "fake"
    replaying = False

    def __init__(self, *outcomes: Any):
        self.outcomes = list(outcomes)
        self.requests: list[ModelRequest] = []

    def send(self, request: ModelRequest, site: CallSite) -> ModelReply:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _reply(n: Any) -> ModelReply:
    text = json.dumps({"n": n})
    return ModelReply(output={"n": n}, text=text, usage=Usage(input_tokens=100, output_tokens=10))


def _parse(reply: ModelReply) -> int:
    value = (reply.output or {}).get("n")
    if not isinstance(value, int):
        raise ReplyError(f"answer: n: expected an integer (got {value!r})")
    return value


def _caller(transport: Any, tmp_path: Path | None = None, retries: int = 3) -> ModelCaller:
    caller = ModelCaller(
        "advisor",
        transport,
        ROLE.model_copy(update={"retries": retries}),
        FAST,
        price=None,
        accounting=Accounting(),
        cassette=CassetteWriter(tmp_path / "cassette.jsonl") if tmp_path else None,
    )
    caller.waits = []  # type: ignore[attr-defined]
    caller.sleep = caller.waits.append  # type: ignore[attr-defined]
    return caller


def test_transient_errors_back_off_exponentially_then_succeed(tmp_path: Path) -> None:
    fake = Scripted(
        TransientCallError("overloaded", "529", status=529),
        TransientCallError("rate_limited", "429", status=429, retry_after=3.5),
        TransientCallError("timeout", "slow"),
        _reply(4),
    )
    caller = _caller(fake, tmp_path)
    assert caller.ask(CallSite("advisor", "c1", 3), _request(), _parse) == 4
    assert caller.waits == [0.5, 3.5, 2.0]  # type: ignore[attr-defined]
    lines = Cassette(tmp_path / "cassette.jsonl").calls
    assert [c.attempt for c in lines] == [1, 2, 3, 4]
    assert [c.error.kind if c.error else None for c in lines] == [
        "overloaded",
        "rate_limited",
        "timeout",
        None,
    ]
    totals = caller.accounting.conversation("c1")
    assert (totals.calls, totals.failed_calls, totals.input_tokens) == (4, 3, 100)


def test_retry_after_is_waited_out_in_full_and_bounded_by_total_time() -> None:
    fake = Scripted(
        TransientCallError("rate_limited", "429", status=429, retry_after=45.0),
        _reply(1),
    )
    caller = _caller(fake)  # max_seconds 4: a longer retry-after still wins
    assert caller.ask(CallSite("advisor", "c1", 3), _request(), _parse) == 1
    assert caller.waits == [45.0]  # type: ignore[attr-defined]
    fake = Scripted(TransientCallError("rate_limited", "429", status=429, retry_after=600.0))
    caller = _caller(fake)  # total_seconds 60: waiting 600 s would be in vain
    with pytest.raises(AgentFailure):
        caller.ask(CallSite("advisor", "c1", 3), _request(), _parse)
    assert caller.waits == [] and len(fake.requests) == 1  # type: ignore[attr-defined]


def test_x_should_retry_false_fails_the_turn_without_a_retry(tmp_path: Path) -> None:
    fake = Scripted(TransientCallError("server_error", "500 boom", status=500, retry=False))
    caller = _caller(fake, tmp_path)
    with pytest.raises(AgentFailure) as info:
        caller.ask(CallSite("advisor", "c1", 3), _request(), _parse)
    assert "not retried (x-should-retry: false)" in str(info.value)
    assert len(fake.requests) == 1
    replay = ReplayTransport(Cassette(tmp_path / "cassette.jsonl"))
    with pytest.raises(TransientCallError) as replayed:
        replay.send(_request(), CallSite("advisor", "c1", 3))
    assert replayed.value.retry is False


def test_a_cut_off_answer_is_asked_again_once_with_a_larger_budget() -> None:
    cut = ModelReply(text='{"n": ', output=None, stop_reason="max_tokens")
    fake = Scripted(cut, _reply(7))
    caller = _caller(fake)
    assert caller.ask(CallSite("advisor", None, 1), _request(), _parse) == 7
    assert [r.max_tokens for r in fake.requests] == [256, 512]
    assert fake.requests[0].key() == fake.requests[1].key()  # the same question

    fake = Scripted(cut, cut, _reply(1))
    caller = _caller(fake)
    caller.settings = caller.settings.model_copy(update={"max_tokens_retry": 4000})
    with pytest.raises(AgentFailure) as info:
        caller.ask(CallSite("advisor", None, 1), _request(), _parse)
    assert "cut off at max_tokens twice (256, then 4000 tokens" in str(info.value)
    assert "raise max_tokens for advisor" in str(info.value) and len(fake.requests) == 2


def test_a_refusal_is_recorded_as_one_with_its_reason_and_never_repaired() -> None:
    from emosim.agents.llm.caller import ModelRefusal

    refusal = ModelReply(
        text="",
        stop_reason="refusal",
        stop_details={"type": "refusal", "category": "general_harms", "explanation": "Not this."},
    )
    fake = Scripted(refusal, _reply(1))
    with pytest.raises(ModelRefusal) as info:
        _caller(fake).ask(CallSite("client", None, 4), _request(), _parse)
    assert str(info.value) == "client turn 4: refused by the model: general_harms; Not this."
    assert isinstance(info.value, AgentFailure) and len(fake.requests) == 1


def test_retries_are_bounded_then_the_turn_fails() -> None:
    fake = Scripted(*[TransientCallError("overloaded", "529 overloaded", status=529)] * 3)
    caller = _caller(fake, retries=2)
    with pytest.raises(AgentFailure) as info:
        caller.ask(CallSite("advisor", "c1", 5), _request(), _parse)
    assert str(info.value).startswith("advisor turn 5: model call failed")
    assert len(fake.requests) == 3 and not fake.outcomes


def test_retries_stop_at_total_time() -> None:
    fake = Scripted(*[TransientCallError("overloaded", "529", status=529)] * 5)
    caller = _caller(fake, retries=10)
    caller.retry = RetrySettings(
        initial_seconds=0, max_seconds=0, jitter_seconds=0, total_seconds=0.001
    )
    caller.sleep = lambda s: __import__("time").sleep(0.002)  # type: ignore[assignment]
    with pytest.raises(AgentFailure):
        caller.ask(CallSite("advisor", None, 1), _request(), _parse)
    assert 1 <= len(fake.requests) <= 2  # of the 11 attempts the count allows


def test_fatal_errors_stop_at_once() -> None:
    fake = Scripted(FatalCallError("authentication", "401 invalid x-api-key"), _reply(1))
    with pytest.raises(EmosimError) as info:
        _caller(fake).ask(CallSite("advisor", None, 1), _request(), _parse)
    assert not isinstance(info.value, AgentFailure)
    assert "advisor (claude-test): 401 invalid x-api-key" in str(info.value)
    assert len(fake.requests) == 1


def test_one_repair_request_carries_the_validation_error() -> None:
    fake = Scripted(_reply("three"), _reply(3))
    assert _caller(fake).ask(CallSite("advisor", None, 1), _request(), _parse) == 3
    repair = fake.requests[1]
    assert [m.role for m in repair.messages] == ["user", "assistant", "user"]
    assert repair.messages[1].text == '{"n": "three"}'
    assert "expected an integer (got 'three')" in repair.messages[2].text
    assert repair.key() != fake.requests[0].key()


def test_a_second_invalid_answer_fails_the_turn() -> None:
    fake = Scripted(_reply("x"), ModelReply(text="sorry, no JSON", output=None))
    with pytest.raises(AgentFailure) as info:
        _caller(fake).ask(CallSite("sentence_observer", None, 7), _request(), _parse)
    assert str(info.value).startswith("sentence_observer turn 7: invalid answer after one repair")


# --- cassette and replay ------------------------------------------------------------------------


def test_cassette_dedupes_long_texts_and_replays_in_order(tmp_path: Path) -> None:
    path = tmp_path / "cassette.jsonl"
    writer = CassetteWriter(path)
    site = CallSite("client", "conv", 0, attempt=1)
    writer.record(
        site, "anthropic", _request(), error=TransientCallError("overloaded", "529", status=529)
    )
    site.attempt = 2
    writer.record(site, "anthropic", _request(), reply=_reply(1), latency_ms=12.5)
    writer.record(site, "anthropic", _request("other"), reply=_reply(2))
    lines = path.read_text().splitlines()
    assert sum('"type":"blob"' in line for line in lines) == 3  # two system blocks, one schema
    cassette = Cassette(path)
    assert cassette.text(cassette.calls[0].request["system"][0]["blob"]) == "stable rules"
    replay = ReplayTransport(cassette)
    with pytest.raises(TransientCallError):
        replay.send(_request(), site)
    assert replay.send(_request(), site).output == {"n": 1}
    assert replay.send(_request(), site).output == {"n": 1}  # the last answer repeats
    with pytest.raises(ReplayMiss) as info:
        replay.send(_request("never asked"), CallSite("critic", "conv-9", 4))
    message = str(info.value)
    assert (
        "critic turn 4 of conversation conv-9" in message
        and _request("never asked").key()[:16] in message
    )


def test_cassette_ignores_a_torn_last_line_and_reports_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "cassette.jsonl"
    CassetteWriter(path).record(
        CallSite("client", None, 0, 1), "anthropic", _request(), reply=_reply(1)
    )
    with path.open("a") as handle:
        handle.write('{"type":"call","key":"abc')  # a crash mid-write
    assert len(Cassette(path).calls) == 1
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(DataError) as info:
        Cassette(path)
    assert f"{path}:1:" in str(info.value)


def test_redact_removes_the_key_and_key_shaped_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-secret-value-123")
    assert "plain-secret" not in redact("auth plain-secret-value-123 failed")
    assert redact("x sk-ant-api03-AbCdEf_123 y") == "x [redacted] y"


def test_no_key_reaches_the_cassette(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a message, a system block, the reply or an error, written as JSON escapes it."""
    secret = 'plain"secret\\value-123'
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    shaped = "sk-ant-api03-AbCdEf_123456"
    request = _request(text=f"my key is {secret} or {shaped}")
    request = request.model_copy(
        update={"system": [SystemBlock(text=f"rules {secret}", cache=True)]}
    )
    writer = CassetteWriter(tmp_path / "cassette.jsonl")
    site = CallSite("client", "c1", 1, attempt=1)
    writer.record(site, "anthropic", request, reply=ModelReply(text=f"echo {shaped} {secret}"))
    error = TransientCallError("server_error", "500", status=500)
    error.args = (f"500 {secret}",)
    writer.record(site, "anthropic", request, error=error)
    writer.close()
    text = (tmp_path / "cassette.jsonl").read_text()
    assert "plain" not in text and "AbCdEf" not in text and "[redacted]" in text
    calls = Cassette(tmp_path / "cassette.jsonl").calls
    assert calls[0].request["messages"][0]["text"] == "my key is [redacted] or [redacted]"


def test_missing_key_is_one_clear_error_before_any_call(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setattr(httpx2.Client, "send", lambda *a, **k: pytest.fail("network call"))
    with pytest.raises(EmosimError) as info:
        build_agents(catalog, "client=anthropic,*=scripted", anti_pattern_rate=0.1)
    assert "ANTHROPIC_API_KEY is not set" in str(info.value) and "client" in str(info.value)
    assert "\n" not in str(info.value)


def test_request_hash_is_the_canonical_json_of_its_content() -> None:
    """key() builds the canonical JSON from cached pieces: the bytes (and so every recorded
    cassette's keys) are those of json.dumps over the whole body."""
    import hashlib

    request = ModelRequest(
        model="claude-x",
        system=[SystemBlock(text='règles "é"\n\t', cache=True), SystemBlock(text="b")],
        messages=[Message(role="user", text="hé ✓"), Message(role="assistant", text="{}")],
        schema_name="A",
        output_schema={"z": 1, "a": {"y": [1, {"b": 2, "a": None}]}, "title": "é"},
        max_tokens=5,
    )
    body = {
        "model": request.model,
        "system": [b.model_dump() for b in request.system],
        "messages": [m.model_dump() for m in request.messages],
        "tools": {"name": request.schema_name, "schema": request.output_schema},
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert request.key() == hashlib.sha256(canonical.encode()).hexdigest()
