"""Behaviour kept by the shortcuts on the hot paths (streamed usage, unread events)."""

from __future__ import annotations

import pytest

import agentkit._graph._tool_calls
from agentkit import Agent, FunctionToolCallEvent, Usage
from agentkit.messages import ToolCallPart
from agentkit.models import TestModel

pytestmark = pytest.mark.anyio


async def test_test_model_stream_usage_grows_with_every_chunk() -> None:
    agent = Agent(TestModel(custom_result_text="one two three"))
    seen: list[Usage] = []
    async with agent.run_stream("go") as result:
        async for _ in result.stream_text(delta=True, debounce_by=None):
            seen.append(result.usage())
    base = seen[0].request_tokens
    assert [(usage.response_tokens, usage.total_tokens) for usage in seen] == [
        (1, base + 1),  # 'one '
        (2, base + 2),  # 'two '
        (3, base + 3),  # 'three'
    ]
    assert result.usage() == Usage(requests=1, request_tokens=base, response_tokens=3, total_tokens=base + 3)


async def test_a_run_makes_no_tool_call_events_nobody_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_events(*args: object) -> str:
        raise AssertionError("an event id was made for a run that reads no events")

    monkeypatch.setattr(agentkit._graph._tool_calls, "_event_id", no_events)
    agent = Agent(TestModel())

    @agent.tool_plain
    def double(x: int) -> int:
        return 2 * x

    assert (await agent.run("go")).data == '{"double":0}'


async def test_a_streamed_tools_node_still_yields_its_events() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def double(x: int) -> int:
        return 2 * x

    events: list[object] = []
    async with agent.iter("go") as run:
        async for node in run:
            if Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    events.extend([event async for event in stream])
    call = events[0]
    assert isinstance(call, FunctionToolCallEvent)
    assert call.part == ToolCallPart("double", {"x": 0})
    assert len(events) == 2
