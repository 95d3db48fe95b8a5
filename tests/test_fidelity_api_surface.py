"""Fidelity with pydantic-ai 0.0.39: smaller pieces of its documented API (RunContext, deltas, aliases, settings)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import agentkit
from agentkit import Agent, ImageUrl, RunContext, ToolCallPart, ToolCallPartDelta
from agentkit.models import ModelRequestParameters
from agentkit.models.anthropic import AnthropicModel, AnthropicModelSettings
from agentkit.models.test import TestModel
from agentkit.tools import SystemPromptFunc, ToolFuncContext, ToolFuncEither, ToolFuncPlain


def prompts_seen_by_a_tool(prompt: Any) -> list[Any]:
    agent = Agent(TestModel())
    seen: list[Any] = []

    @agent.tool
    def look(ctx: RunContext[None]) -> str:
        seen.append(ctx.prompt)
        return "ok"

    agent.run_sync(prompt)
    return seen


def test_run_context_prompt_is_the_prompt_as_given() -> None:
    assert prompts_seen_by_a_tool("plain text") == ["plain text"]


def test_run_context_prompt_keeps_a_multimodal_prompt_as_a_sequence() -> None:
    prompt = ["What is this?", ImageUrl("https://example.com/a.png")]
    assert prompts_seen_by_a_tool(prompt) == [prompt]


def context() -> RunContext[None]:
    return RunContext(deps=None, model=TestModel(), usage=agentkit.Usage(), prompt="p", tool_name="t", retry=1)


def test_replace_with_sets_retry_and_keeps_the_tool_name() -> None:
    changed = context().replace_with(retry=3)
    assert (changed.retry, changed.tool_name) == (3, "t")


def test_replace_with_tool_name_none_clears_it() -> None:
    changed = context().replace_with(tool_name=None)
    assert (changed.retry, changed.tool_name) == (1, None)


def test_replace_with_nothing_is_an_equal_copy() -> None:
    original = context()
    copy = original.replace_with()
    assert copy == original
    assert copy is not original


def test_run_context_fields_are_in_the_reference_order() -> None:
    names = [field.name for field in dataclasses.fields(RunContext)]
    assert names == ["deps", "model", "usage", "prompt", "messages", "tool_call_id", "tool_name", "retry", "run_step"]


def test_a_complete_tool_call_delta_is_a_part() -> None:
    delta = ToolCallPartDelta(tool_name_delta="look", args_delta='{"a": 1}', tool_call_id="c1")
    assert delta.as_part() == ToolCallPart("look", '{"a": 1}', "c1")


@pytest.mark.parametrize(
    "delta", [ToolCallPartDelta(tool_name_delta="look"), ToolCallPartDelta(args_delta='{"a": 1}')], ids=["name", "args"]
)
def test_a_partial_tool_call_delta_is_not_a_part(delta: ToolCallPartDelta) -> None:
    assert delta.as_part() is None


def test_the_reference_top_level_names_are_exported() -> None:
    reference = [
        "Agent", "EndStrategy", "CallToolsNode", "ModelRequestNode", "UserPromptNode", "capture_run_messages",
        "AgentRunError", "ModelRetry", "ModelHTTPError", "FallbackExceptionGroup", "UnexpectedModelBehavior",
        "UsageLimitExceeded", "UserError", "ImageUrl", "AudioUrl", "DocumentUrl", "BinaryContent", "Tool",
        "RunContext", "__version__",
    ]  # fmt: skip
    assert [name for name in reference if name not in agentkit.__all__] == []


def test_the_tool_function_aliases_describe_tool_functions() -> None:
    def with_context(ctx: RunContext[None], city: str) -> str:
        return city

    def plain(city: str) -> str:
        return city

    def prompt() -> str:
        return "Be brief."

    either: list[ToolFuncEither[None, ...]] = [with_context, plain]
    typed: tuple[ToolFuncContext[None, ...], ToolFuncPlain[...], SystemPromptFunc[None]] = (with_context, plain, prompt)
    agent = Agent(TestModel(), tools=either, system_prompt=typed[2]())
    assert agent.run_sync("go").data == '{"with_context":"a","plain":"a"}'


def test_anthropic_metadata_is_sent_as_the_metadata_field() -> None:
    settings: AnthropicModelSettings = {"anthropic_metadata": {"user_id": "user-123"}, "max_tokens": 10}
    model = AnthropicModel("claude-3-5-sonnet-latest", api_key="not-used")
    arguments = model._arguments([], settings, ModelRequestParameters())
    assert arguments["metadata"] == {"user_id": "user-123"}
    assert "anthropic_metadata" not in arguments


def test_a_finished_run_result_shows_as_the_reference_names_it() -> None:
    from agentkit import Agent
    from agentkit.agent import AgentRunResult
    from agentkit.models import TestModel

    result = Agent(TestModel(custom_result_text="hi")).run_sync("go")
    assert repr(result) == "AgentRunResult(data='hi')"
    assert type(result) is AgentRunResult


def test_graph_state_and_agent_run_show_as_in_the_reference() -> None:
    import anyio

    from agentkit import Agent
    from agentkit.models import TestModel

    agent = Agent(TestModel(custom_result_text="hi"))

    async def main() -> tuple[str, str, str]:
        async with agent.iter("go") as run:
            before = repr(run)
            async for _ in run:
                pass
            return before, repr(run), repr(run.ctx.state)

    before, after, state = anyio.run(main)
    assert before.startswith("<AgentRun result=<run not finished> usage=Usage(requests=0")
    assert after.startswith("<AgentRun result=FinalResult(data='hi', tool_name=None, tool_call_id=None) usage=")
    assert state.endswith("retries=0, run_step=1)")
