"""Fidelity with pydantic-ai 0.0.39: how the tool calls of one response are answered (end_strategy, result tools)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from agentkit import (
    Agent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UnexpectedModelBehavior,
    capture_run_messages,
)
from agentkit.models import AgentInfo, FunctionModel

pytestmark = pytest.mark.anyio


class Out(pydantic.BaseModel):
    value: int


def respond_with(*parts: Any) -> FunctionModel:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=list(parts))

    return FunctionModel(answer)


def agent_with_side_effect(model: FunctionModel, calls: list[int], **options: Any) -> Agent[None, Out]:
    agent: Agent[None, Out] = Agent(model, result_type=Out, **options)

    @agent.tool_plain
    def side_effect(x: int) -> str:
        calls.append(x)
        return "done"

    return agent


def answers(messages: list[ModelMessage]) -> list[tuple[str, Any, Any]]:
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    return [(type(part).__name__, getattr(part, "tool_name", None), part.content) for part in last.parts]


MIXED = (
    ToolCallPart("final_result", {"value": 1}),
    ToolCallPart("final_result", {"value": 2}),
    ToolCallPart("side_effect", {"x": 1}),
    ToolCallPart("missing_tool", {}),
)


async def test_early_strategy_is_the_default_and_does_not_run_function_tools() -> None:
    calls: list[int] = []
    agent = agent_with_side_effect(respond_with(*MIXED), calls)
    assert agent.end_strategy == "early"
    result = await agent.run("go")
    assert result.data == Out(value=1)
    assert calls == []
    assert answers(result.all_messages()) == [
        ("ToolReturnPart", "final_result", "Final result processed."),
        ("ToolReturnPart", "final_result", "Result tool not used - a final result was already processed."),
        ("ToolReturnPart", "side_effect", "Tool not executed - a final result was already processed."),
        ("RetryPromptPart", None, "Unknown tool name: 'missing_tool'. Available tools: side_effect, final_result"),
    ]


async def test_exhaustive_strategy_runs_function_tools_and_puts_their_returns_last() -> None:
    calls: list[int] = []
    agent = agent_with_side_effect(respond_with(*MIXED), calls, end_strategy="exhaustive")
    result = await agent.run("go")
    assert result.data == Out(value=1)
    assert calls == [1]
    assert answers(result.all_messages()) == [
        ("ToolReturnPart", "final_result", "Final result processed."),
        ("ToolReturnPart", "final_result", "Result tool not used - a final result was already processed."),
        ("RetryPromptPart", None, "Unknown tool name: 'missing_tool'. Available tools: side_effect, final_result"),
        ("ToolReturnPart", "side_effect", "done"),
    ]


async def test_result_tool_calls_are_tried_in_order_until_one_validates() -> None:
    model = respond_with(
        ToolCallPart("final_result", {"wrong": 1}, "first"), ToolCallPart("final_result", {"value": 2}, "second")
    )
    agent: Agent[None, Out] = Agent(model, result_type=Out)
    result = await agent.run("go")
    assert result.data == Out(value=2)
    last = result.all_messages()[-1]
    assert last.parts == [  # type: ignore[union-attr]
        ToolReturnPart(
            "final_result", "Result tool not used - result failed validation.", "first", timestamp=_ts(last, 0)
        ),
        ToolReturnPart("final_result", "Final result processed.", "second", timestamp=_ts(last, 1)),
    ]


def _ts(message: Any, index: int) -> Any:
    return message.parts[index].timestamp


async def test_a_final_result_ends_the_run_with_a_request_holding_the_tool_answers() -> None:
    agent: Agent[None, Out] = Agent(respond_with(ToolCallPart("final_result", {"value": 3})), result_type=Out)
    result = await agent.run("go")
    assert [message.kind for message in result.all_messages()] == ["request", "response", "request"]
    assert result.all_messages()[-1].parts[0].content == "Final result processed."  # type: ignore[union-attr]


async def test_an_unknown_tool_alone_counts_as_a_result_retry() -> None:
    agent: Agent[None, str] = Agent(respond_with(ToolCallPart("nope", {})))
    with capture_run_messages() as messages, pytest.raises(UnexpectedModelBehavior) as info:
        await agent.run("go")
    assert str(info.value) == "Exceeded maximum retries (1) for result validation"
    retry = messages[2].parts[0]  # type: ignore[union-attr]
    assert isinstance(retry, RetryPromptPart)
    assert retry.content == "Unknown tool name: 'nope'. No tools available."
    assert retry.tool_name is None


async def test_result_retries_exhausted_chains_the_validation_error() -> None:
    agent: Agent[None, Out] = Agent(respond_with(ToolCallPart("final_result", {"value": "x"})), result_type=Out)
    with pytest.raises(
        UnexpectedModelBehavior, match=r"^Exceeded maximum retries \(1\) for result validation$"
    ) as info:
        await agent.run("go")
    assert isinstance(info.value.__cause__, pydantic.ValidationError)


async def test_text_parts_are_joined_with_a_blank_line_and_empty_ones_ignored() -> None:
    agent: Agent[None, str] = Agent(respond_with(TextPart("one"), TextPart(""), TextPart("two")))
    assert (await agent.run("go")).data == "one\n\ntwo"


async def test_result_tool_name_conflict_with_a_function_tool_is_a_user_error() -> None:
    agent: Agent[None, Out] = Agent(respond_with(TextPart("x")), result_type=Out)
    with pytest.raises(Exception, match=r"^Tool name conflicts with result schema name: 'final_result'$"):

        @agent.tool_plain
        def final_result() -> str:
            return "x"
