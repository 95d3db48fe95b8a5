"""Fidelity with pydantic-ai 0.0.39: Agent options, model checks, system prompts, node guards, captures, errors."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentRunError,
    ModelRequest,
    RunContext,
    SystemPromptPart,
    UnexpectedModelBehavior,
    Usage,
    UsageLimitExceeded,
    UserError,
    capture_run_messages,
)
from agentkit.agent import AgentRunResult, EndStrategy
from agentkit.models import TestModel

pytestmark = pytest.mark.anyio


def test_a_run_without_any_model_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"^`model` must be set either when creating the agent or when calling it\.$"):
        Agent().run_sync("hi")


def test_an_override_does_not_hide_a_missing_model() -> None:
    agent = Agent()
    with agent.override(model=TestModel()), pytest.raises(UserError, match=r"\(Even when `override\(model=\.\.\.\)`"):
        agent.run_sync("hi")


def test_an_override_replaces_a_model_given_to_the_run() -> None:
    agent = Agent()
    with agent.override(model=TestModel(custom_result_text="overridden")):
        assert agent.run_sync("hi", model=TestModel()).data == "overridden"


def test_end_strategy_must_be_early_or_exhaustive() -> None:
    strategy: Any = "lazy"
    with pytest.raises(UserError, match="end_strategy must be 'early' or 'exhaustive'"):
        Agent(TestModel(), end_strategy=strategy)
    exhaustive: EndStrategy = "exhaustive"
    assert Agent(TestModel(), end_strategy=exhaustive).end_strategy == "exhaustive"


def test_dynamic_system_prompts_are_evaluated_again_from_the_message_history() -> None:
    agent: Agent[str, str] = Agent(TestModel(), deps_type=str, system_prompt="static")

    @agent.system_prompt(dynamic=True)
    def who(ctx: RunContext[str]) -> str:
        return f"user is {ctx.deps}"

    @agent.system_prompt
    def fixed() -> str:
        return "fixed"

    first = agent.run_sync("hi", deps="ann")
    parts = first.all_messages()[0].parts
    assert parts[:3] == [
        SystemPromptPart("static"),
        SystemPromptPart("user is ann", dynamic_ref=who.__qualname__),
        SystemPromptPart("fixed"),
    ]
    second = agent.run_sync("again", deps="bob", message_history=first.all_messages())
    first_request = second.all_messages()[0]
    assert isinstance(first_request, ModelRequest)
    assert first_request.parts[1] == SystemPromptPart("user is bob", dynamic_ref=who.__qualname__)
    assert first_request.parts[2] == SystemPromptPart("fixed")


def test_dynamic_on_the_bare_decorator_form_is_a_user_error() -> None:
    agent = Agent(TestModel())

    def prompt() -> str:
        return "x"

    with pytest.raises(UserError, match="system_prompt\\(dynamic=True\\)"):
        agent.system_prompt(prompt, dynamic=True)  # type: ignore[call-overload]


def test_last_run_messages_is_gone_with_a_pointer_to_capture_run_messages() -> None:
    agent = Agent(TestModel())
    with pytest.raises(AttributeError, match="use `capture_run_messages` instead"):
        _ = agent.last_run_messages
    assert not hasattr(agent, "last_run_messages")


async def test_node_type_guards_name_each_node_of_a_run() -> None:
    agent = Agent(TestModel())
    seen: list[str] = []
    async with agent.iter("hi") as run:
        async for node in run:
            if Agent.is_model_request_node(node):
                seen.append("request")
            elif Agent.is_call_tools_node(node):
                assert Agent.is_handle_response_node(node)
                seen.append("call-tools")
            elif Agent.is_end_node(node):
                seen.append(f"end:{node.data.data}")
            assert not Agent.is_user_prompt_node(node)
    assert seen == ["request", "call-tools", "end:success (no tool calls)"]
    assert isinstance(run.result, AgentRunResult)


def test_nested_capture_blocks_share_the_first_run_messages() -> None:
    agent = Agent(TestModel())
    with capture_run_messages() as outer:
        with capture_run_messages() as inner:
            agent.run_sync("one")
        agent.run_sync("two")
    assert inner is outer
    assert [message.parts[-1].content for message in outer[:1]] == ["one"]  # type: ignore[union-attr]
    assert len(outer) == 2


async def test_a_tool_running_another_agent_with_ctx_usage_shares_the_usage() -> None:
    inner = Agent(TestModel())
    outer = Agent(TestModel())

    @outer.tool
    async def delegate(ctx: RunContext[None], topic: str) -> str:
        return (await inner.run(topic, usage=ctx.usage)).data

    result = await outer.run("go")
    assert result.usage().requests == 3  # two of the outer agent, one of the inner


async def test_the_agent_name_is_inferred_in_run_stream() -> None:
    streaming_agent = Agent(TestModel())
    async with streaming_agent.run_stream("hi") as result:
        await result.get_data()
    assert streaming_agent.name == "streaming_agent"


def test_run_errors_are_runtime_errors_and_usage_limits_are_run_errors() -> None:
    assert issubclass(AgentRunError, RuntimeError)
    assert issubclass(UsageLimitExceeded, AgentRunError)
    error = UnexpectedModelBehavior("bad", body="raw")
    assert (error.message, error.body, str(error)) == ("bad", "raw", "bad, body:\nraw")


def test_usage_addition_and_increment() -> None:
    usage = Usage(requests=1, request_tokens=10)
    usage.incr(Usage(requests=1, response_tokens=3), requests=1)
    assert usage == Usage(requests=3, request_tokens=10, response_tokens=3)
