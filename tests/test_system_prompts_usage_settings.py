"""System prompts, usage counting and limits, and settings merged model < agent < run."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import (
    Agent,
    ModelRequest,
    ModelResponse,
    RunContext,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    Usage,
    UsageLimitExceeded,
    UsageLimits,
)
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


async def test_static_and_dynamic_system_prompts_in_order() -> None:
    agent = Agent(TestModel(), system_prompt=["one", "two"], deps_type=str)

    @agent.system_prompt
    def plain() -> str:
        return "three"

    @agent.system_prompt
    async def with_context(ctx: RunContext[str]) -> str:
        return f"four:{ctx.deps}"

    result = await agent.run("hi", deps="d")
    first = result.all_messages()[0]
    assert isinstance(first, ModelRequest)
    assert [p.content for p in first.parts if isinstance(p, SystemPromptPart)] == ["one", "two", "three", "four:d"]
    assert first.parts[-1].part_kind == "user-prompt"


async def test_usage_counts_each_request_and_sums_tokens() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def noop() -> str:
        return "ok"

    result = await agent.run("one two three")
    usage = result.usage()
    assert usage.requests == 2
    assert usage.request_tokens is not None
    assert usage.response_tokens is not None
    assert usage.total_tokens == usage.request_tokens + usage.response_tokens


def test_usage_addition_keeps_none_when_both_none() -> None:
    assert Usage(requests=1) + Usage(requests=2) == Usage(requests=3)
    assert Usage(request_tokens=1, details={"a": 1}) + Usage(request_tokens=2, details={"a": 2, "b": 1}) == Usage(
        request_tokens=3, details={"a": 3, "b": 1}
    )


def looping_model() -> FunctionModel:
    def call_again(messages: list[Any], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("noop", {})])

    return FunctionModel(call_again)


async def test_request_limit_raises_before_the_request_that_would_break_it() -> None:
    requests: list[int] = []
    agent = Agent(looping_model())

    @agent.tool_plain
    def noop() -> str:
        requests.append(1)
        return "again"

    with pytest.raises(
        UsageLimitExceeded, match=r"^The next request would exceed the request_limit of 3\n3 requests made so far"
    ):
        await agent.run("go", usage_limits=UsageLimits(request_limit=3))
    assert len(requests) == 3


async def test_token_limit_raises_as_soon_as_a_response_breaks_it() -> None:
    agent = Agent(TestModel(custom_result_text="many words in this answer indeed"))
    with pytest.raises(UsageLimitExceeded, match=r"Exceeded the response_tokens_limit of 2 \(response_tokens=6\)"):
        await agent.run("go", usage_limits=UsageLimits(response_tokens_limit=2))


async def test_total_token_limit_is_checked_before_the_next_request() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def noop() -> str:
        return "ok"

    with pytest.raises(UsageLimitExceeded, match="total_tokens_limit of 10"):
        await agent.run("go", usage_limits=UsageLimits(total_tokens_limit=10), usage=Usage(total_tokens=11))


async def test_model_settings_merge_agent_under_run() -> None:
    seen: list[Any] = []

    def record(messages: list[Any], info: AgentInfo) -> ModelResponse:
        seen.append(info.model_settings)
        return ModelResponse(parts=[TextPart("x")])

    agent = Agent(FunctionModel(record), model_settings={"temperature": 0.5, "max_tokens": 10})
    await agent.run("go", model_settings={"temperature": 0.0, "seed": 3})
    await agent.run("go")
    assert seen == [{"temperature": 0.0, "max_tokens": 10, "seed": 3}, {"temperature": 0.5, "max_tokens": 10}]


async def test_a_token_limit_breach_keeps_the_response_that_broke_it() -> None:
    from agentkit import capture_run_messages

    agent = Agent(TestModel(custom_result_text="many words in this answer indeed"))
    with capture_run_messages() as messages, pytest.raises(UsageLimitExceeded):
        await agent.run("go", usage_limits=UsageLimits(response_tokens_limit=2))
    assert [m.kind for m in messages] == ["request", "response"]
