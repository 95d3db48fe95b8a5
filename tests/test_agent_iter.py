"""`Agent.iter`, `run` and `run_sync`: the node sequence and how a run is driven."""

from __future__ import annotations

import subprocess
import sys
import threading

import anyio
import anyio.to_thread
import pytest
import sniffio

from agentkit import (
    Agent,
    CallToolsNode,
    End,
    FinalResult,
    ModelRequest,
    ModelRequestNode,
    ModelResponse,
    RunContext,
    TextPart,
    ToolCallPart,
    Usage,
    UsageLimits,
    UserError,
    UserPromptPart,
)
from agentkit.models import AgentInfo, FunctionModel, Model, TestModel

pytestmark = pytest.mark.anyio


def answer(text: str) -> FunctionModel:
    return FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart(text)]))


async def test_iter_yields_request_response_end() -> None:
    agent = Agent(answer("Paris"))
    async with agent.iter("What is the capital of France?") as agent_run:
        nodes = [node async for node in agent_run]
    assert [type(node) for node in nodes] == [ModelRequestNode, CallToolsNode, End]
    first = nodes[0]
    assert isinstance(first, ModelRequestNode)
    assert isinstance(first.request.parts[0], UserPromptPart)
    assert first.request.parts[0].content == "What is the capital of France?"
    assert nodes[2] == End(FinalResult("Paris"))
    assert agent_run.result is not None
    assert agent_run.result.data == "Paris"


async def test_iter_can_be_driven_by_hand_with_next() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def double(x: int) -> int:
        return 2 * x

    async with agent.iter("go") as agent_run:
        node = agent_run.next_node
        kinds = [type(node).__name__]
        while not isinstance(node, End):
            node = await agent_run.next(node)
            kinds.append(type(node).__name__)
    assert kinds == ["UserPromptNode", "ModelRequestNode", "CallToolsNode", "ModelRequestNode", "CallToolsNode", "End"]
    assert agent_run.result is not None
    assert agent_run.result.data == '{"double":0}'


async def test_next_after_end_is_a_user_error() -> None:
    agent = Agent(answer("ok"))
    async with agent.iter("hi") as agent_run:
        async for _ in agent_run:
            pass
        with pytest.raises(UserError, match="already ended"):
            await agent_run.next(agent_run.next_node)


async def test_result_is_none_until_end() -> None:
    agent = Agent(answer("ok"))
    async with agent.iter("hi") as agent_run:
        assert agent_run.result is None
        await agent_run.next(agent_run.next_node)
        assert agent_run.result is None


async def test_iter_accepts_every_documented_keyword() -> None:
    seen: list[AgentInfo] = []

    def model_function(messages: list, info: AgentInfo) -> ModelResponse:  # type: ignore[type-arg]
        seen.append(info)
        if info.result_tools:
            return ModelResponse(parts=[ToolCallPart("final_result", {"response": 3})])
        return ModelResponse(parts=[TextPart("text")])

    agent = Agent(answer("unused"), deps_type=int)
    history = [ModelRequest(parts=[UserPromptPart("earlier")]), ModelResponse(parts=[TextPart("reply")])]
    async with agent.iter(
        "now",
        result_type=int,
        message_history=history,
        model=FunctionModel(model_function),
        deps=7,
        model_settings={"temperature": 0.0},
        usage_limits=UsageLimits(request_limit=3),
        usage=Usage(requests=1),
        infer_name=False,
    ) as agent_run:
        async for _ in agent_run:
            pass
    assert agent_run.result is not None
    assert agent_run.result.data == 3
    assert agent_run.usage().requests == 2
    assert seen[0].model_settings == {"temperature": 0.0}
    assert agent_run.all_messages()[:2] == history
    assert agent.name is None


async def test_run_returns_result_with_messages() -> None:
    agent = Agent(answer("hello"))
    result = await agent.run("hi")
    assert result.data == "hello"
    assert [message.kind for message in result.all_messages()] == ["request", "response"]
    assert result.new_messages() == result.all_messages()
    assert result.usage().requests == 1


def test_run_sync_runs_outside_an_event_loop() -> None:
    agent = Agent(answer("sync"))
    assert agent.run_sync("hi").data == "sync"


def test_run_sync_with_coroutine_tools_does_not_import_anyios_asyncio_backend() -> None:
    # run_sync runs its loop with asyncio's runner: anyio's backend (~20 ms to import) is not needed.
    code = (
        "import sys\n"
        "from agentkit import Agent\n"
        "from agentkit.models import TestModel\n"
        "agent = Agent(TestModel())\n"
        "@agent.tool_plain\n"
        "async def weather(city: str) -> str:\n"
        "    return 'sunny'\n"
        "print(agent.run_sync('go').data, 'asyncio' in sys.modules, 'anyio._backends._asyncio' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ['{"weather":"sunny"}', "True", "False"]


def test_tools_run_by_run_sync_can_use_anyio_and_sniffio_sees_asyncio() -> None:
    agent = Agent(TestModel())
    seen: dict[str, object] = {}

    @agent.tool_plain
    async def slow(city: str) -> str:
        await anyio.sleep(0)
        seen["library"] = sniffio.current_async_library()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await anyio.sleep(1)  # cancelled at once
        seen["anyio worker"] = await anyio.to_thread.run_sync(threading.current_thread)
        return "sunny"

    @agent.tool_plain
    def blocking(city: str) -> str:
        seen["sync tool"] = threading.current_thread()
        return "rain"

    assert agent.run_sync("go").data == '{"slow":"sunny","blocking":"rain"}'
    assert seen["library"] == "asyncio"
    assert threading.main_thread() not in (seen["anyio worker"], seen["sync tool"])


async def test_run_sync_inside_event_loop_is_a_clear_error() -> None:
    agent = Agent(answer("x"))
    with pytest.raises(UserError, match=r"run_sync cannot be called from inside a running (asyncio|trio) event loop"):
        agent.run_sync("hi")


async def test_missing_model_is_a_clear_error() -> None:
    agent = Agent()
    with pytest.raises(UserError, match="`model` must be set"):
        await agent.run("hi")


async def test_agent_name_is_inferred_from_the_variable() -> None:
    my_agent = Agent(answer("x"))
    await my_agent.run("hi")
    assert my_agent.name == "my_agent"


async def test_override_replaces_model_and_deps_in_context_only() -> None:
    agent = Agent(answer("original"), deps_type=str)

    @agent.system_prompt
    def prompt(ctx: RunContext[str]) -> str:
        return f"deps={ctx.deps}"

    with agent.override(model=answer("overridden"), deps="test-deps"):
        result = await agent.run("hi", deps="real-deps")
        assert result.data == "overridden"
        first = result.all_messages()[0]
        assert isinstance(first, ModelRequest)
        assert first.parts[0].content == "deps=test-deps"
    assert (await agent.run("hi", deps="real")).data == "original"


def test_model_strings_build_without_key_or_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    for name in ("openai:gpt-4o", "anthropic:claude-3-5-sonnet-latest", "test"):
        agent = Agent(name)
        assert isinstance(agent.model, Model)
        assert agent.model.model_name == name.partition(":")[2] or name


def test_defer_model_check_keeps_the_model_name_until_the_first_run() -> None:
    agent = Agent("test", defer_model_check=True)
    assert agent.model == "test"
    agent.run_sync("hi")
    assert isinstance(agent.model, TestModel)


def test_unknown_model_string_is_a_clear_error_when_the_agent_is_built() -> None:
    with pytest.raises(UserError, match=r"^Unknown model: nonsense:model\n"):
        Agent("nonsense:model")


def test_unknown_model_string_with_defer_model_check_fails_at_the_first_run() -> None:
    agent = Agent("nonsense:model", defer_model_check=True)
    with pytest.raises(UserError, match=r"^Unknown model: nonsense:model\n"):
        agent.run_sync("hi")


async def test_message_history_continues_without_repeating_system_prompt() -> None:
    agent = Agent(answer("second"), system_prompt="be brief")
    first = await agent.run("one")
    second = await agent.run("two", message_history=first.all_messages())
    requests = [m for m in second.all_messages() if isinstance(m, ModelRequest)]
    system_parts = [p for r in requests for p in r.parts if p.part_kind == "system-prompt"]
    assert len(system_parts) == 1
    assert len(second.new_messages()) == 2
    assert second.new_messages()[0].parts[0].content == "two"  # type: ignore[union-attr]


async def test_capture_run_messages_keeps_messages_of_a_failed_run() -> None:
    from agentkit import UnexpectedModelBehavior, capture_run_messages

    agent = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[ToolCallPart("missing_tool", {})])), retries=0)
    with capture_run_messages() as messages, pytest.raises(UnexpectedModelBehavior):
        await agent.run("hi")
    assert [m.kind for m in messages] == ["request", "response"]
    assert messages[0].parts[0].content == "hi"  # type: ignore[union-attr]


async def test_a_prompt_of_the_wrong_type_is_a_clear_error() -> None:
    agent = Agent(answer("x"))
    with pytest.raises(
        UserError,
        match=(
            r"user prompt to be a str or a sequence of str, ImageUrl, AudioUrl, DocumentUrl and BinaryContent items, "
            r"got 42 \(type=int\)"
        ),
    ):
        await agent.run(42)  # type: ignore[arg-type]


def test_a_tool_that_is_not_callable_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"Expected a function or a Tool in tools, got 42 \(type=int\)"):
        Agent(TestModel(), tools=[42])  # type: ignore[list-item]


async def test_a_run_driven_by_hand_starts_at_the_user_prompt_node() -> None:
    from agentkit import UserPromptNode

    agent = Agent(answer("Paris"))
    async with agent.iter("What is the capital of France?") as run:
        node = run.next_node
        assert isinstance(node, UserPromptNode)
        assert Agent.is_user_prompt_node(node)
        assert node.user_prompt == "What is the capital of France?"
        kinds = []
        while not Agent.is_end_node(node):
            node = await run.next(node)
            kinds.append(type(node).__name__)
    assert kinds == ["ModelRequestNode", "CallToolsNode", "End"]
    assert run.result is not None
    assert run.result.data == "Paris"


async def test_iterating_a_run_never_yields_the_user_prompt_node() -> None:
    agent = Agent(answer("Paris"))
    async with agent.iter("q") as run:
        kinds = [type(node).__name__ async for node in run]
    assert kinds == ["ModelRequestNode", "CallToolsNode", "End"]
