"""The request guard and the run-interception hook the recorder is built on."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentNode,
    ModelRequestsBlocked,
    ModelResponse,
    RetryPromptPart,
    RunInfo,
    RunObserver,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    intercept_runs,
)
from agentkit.models import Model, ModelRequestParameters, TestModel, override_allow_model_requests

# These tests drive the guard themselves, so the plugin's default block is lifted for them.
pytestmark = [pytest.mark.anyio, pytest.mark.agentkit_allow_model_requests]


class NetworkModel(Model):
    """Stands in for a provider: it would talk to a real service."""

    def __init__(self) -> None:
        self.requests = 0

    @property
    def model_name(self) -> str:
        return "network"

    @property
    def system(self) -> str:
        return "example"

    async def request(
        self, messages: list[Any], model_settings: Any, model_request_parameters: ModelRequestParameters
    ) -> tuple[ModelResponse, Any]:
        from agentkit import Usage

        self.requests += 1
        return ModelResponse(parts=[TextPart("from the network")]), Usage()


async def test_guard_blocks_real_models_but_not_test_doubles() -> None:
    network = NetworkModel()
    agent = Agent(network)
    with override_allow_model_requests(False):
        with pytest.raises(ModelRequestsBlocked, match="NetworkModel 'network' was about to send one"):
            await agent.run("hi")
        assert (await agent.run("hi", model=TestModel())).data == "success (no tool calls)"
    assert network.requests == 0
    assert (await agent.run("hi")).data == "from the network"


async def test_guard_blocks_provider_models_before_any_key_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent("openai:gpt-4o")
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked):
        await agent.run("hi")


class Recorder:
    """An interceptor that wraps the model, sees tool calls and nodes, and can answer tools itself."""

    def __init__(self, canned_tool_return: Any = None) -> None:
        self.infos: list[RunInfo] = []
        self.nodes: list[tuple[int, str]] = []
        self.tool_calls: list[str] = []
        self.ended: list[tuple[Any, BaseException | None]] = []
        self.canned = canned_tool_return

    def start_run(self, info: RunInfo) -> RunObserver:
        self.infos.append(info)
        recorder = self

        class Observer(RunObserver):
            def wrap_model(self, model: Model) -> Model:
                return TestModel(custom_result_text=f"wrapped {model.model_name}")

            async def call_tool(self, call: ToolCallPart, execute: Any) -> ToolReturnPart | RetryPromptPart:
                recorder.tool_calls.append(call.tool_name)
                if recorder.canned is not None:
                    return ToolReturnPart(call.tool_name, recorder.canned, call.tool_call_id)
                result: ToolReturnPart | RetryPromptPart = await execute()
                return result

            def on_node(self, index: int, node: AgentNode) -> None:
                recorder.nodes.append((index, type(node).__name__))

            def on_end(self, result: Any, error: BaseException | None) -> None:
                recorder.ended.append((result, error))

        return Observer()


async def test_interceptor_sees_and_wraps_every_run_in_context() -> None:
    agent = Agent("openai:gpt-4o", name="module_level")
    executed: list[str] = []

    @agent.tool_plain
    def lookup(key: str) -> str:
        executed.append(key)
        return "real"

    recorder = Recorder()
    with intercept_runs(recorder):
        result = await agent.run("hi")
    assert result.data == "wrapped gpt-4o"
    (info,) = recorder.infos
    assert (info.agent_name, info.model.model_name, info.user_prompt, info.streamed) == (
        "module_level",
        "gpt-4o",
        "hi",
        False,
    )
    assert recorder.tool_calls == ["lookup"]
    assert executed == ["a"]
    assert recorder.nodes == [
        (0, "ModelRequestNode"),
        (1, "CallToolsNode"),
        (2, "ModelRequestNode"),
        (3, "CallToolsNode"),
        (4, "End"),
    ]
    assert recorder.ended == [(result, None)]
    assert (await Agent(TestModel()).run("outside")).data == "success (no tool calls)"
    assert len(recorder.infos) == 1


async def test_interceptor_can_answer_a_tool_without_running_it() -> None:
    agent = Agent(TestModel())
    executed: list[str] = []

    @agent.tool_plain
    def send_email(to: str) -> str:
        executed.append(to)
        return "sent"

    with intercept_runs(Recorder(canned_tool_return="recorded")):
        result = await agent.run("hi")
    assert executed == []
    returns = [p.content for m in result.all_messages() for p in m.parts if isinstance(p, ToolReturnPart)]
    assert returns == ["recorded"]


async def test_interceptor_is_told_when_a_run_fails() -> None:
    def broken(x: int) -> int:
        raise KeyError("boom")

    recorder = Recorder()
    agent = Agent(TestModel(), tools=[broken])
    with intercept_runs(recorder), pytest.raises(KeyError):
        await agent.run("hi")
    ((result, error),) = recorder.ended
    assert result is None
    assert isinstance(error, KeyError)
