"""FunctionModel: the test's function decides each response, streamed or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentkit import Agent, ModelResponse, TextPart, UserError
from agentkit.models import AgentInfo, DeltaToolCalls, FunctionModel

pytestmark = pytest.mark.anyio


async def test_function_receives_messages_and_agent_info() -> None:
    seen: list[tuple[int, AgentInfo]] = []

    async def respond(messages: list[Any], info: AgentInfo) -> ModelResponse:
        seen.append((len(messages), info))
        return ModelResponse(parts=[TextPart("ok")])

    agent = Agent(FunctionModel(respond), model_settings={"max_tokens": 5})

    @agent.tool_plain
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    result = await agent.run("go")
    assert result.data == "ok"
    ((count, info),) = seen
    assert count == 1
    assert [tool.name for tool in info.function_tools] == ["lookup"]
    assert info.function_tools[0].description == "Look a key up."
    assert info.allow_text_result is True
    assert info.result_tools == []
    assert info.model_settings == {"max_tokens": 5}


async def test_default_model_name_comes_from_the_function() -> None:
    def my_brain(messages: list[Any], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("ok")])

    result = await Agent(FunctionModel(my_brain)).run("go")
    assert result.all_messages()[-1].model_name == "function:my_brain:"  # type: ignore[union-attr]


async def test_returning_something_else_is_a_clear_error() -> None:
    agent = Agent(FunctionModel(lambda messages, info: "just text"))  # type: ignore[arg-type,return-value]
    with pytest.raises(UserError, match="must return a ModelResponse, got str"):
        await agent.run("go")


def test_a_function_model_needs_a_function() -> None:
    with pytest.raises(TypeError, match="Either `function` or `stream_function` must be provided"):
        FunctionModel()


async def test_stream_only_model_in_a_plain_run_is_a_clear_error() -> None:
    async def stream(messages: list[Any], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        yield "x"

    with pytest.raises(UserError, match="has only a stream_function, so it can only answer streamed requests"):
        await Agent(FunctionModel(stream_function=stream)).run("go")


async def test_stream_function_yielding_the_wrong_type_is_a_clear_error() -> None:
    async def stream(messages: list[Any], info: AgentInfo) -> AsyncIterator[Any]:
        yield 42

    agent = Agent(FunctionModel(stream_function=stream))
    with pytest.raises(UserError, match=r"must yield str or dict\[int, DeltaToolCall\], got int"):
        async with agent.run_stream("go") as result:
            await result.get_data()


async def test_plain_function_streams_as_one_chunk_per_part() -> None:
    agent = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[TextPart("whole")])))
    async with agent.run_stream("go") as result:
        assert [delta async for delta in result.stream_text(delta=True)] == ["whole"]
