"""Streaming: `run_stream`, node event streams in `iter`, early exit, limits, equality with non-streamed runs."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import (
    Agent,
    CallToolsNode,
    End,
    FixedClock,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    ModelRequestNode,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    SequentialIds,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
    UsageLimitExceeded,
    UsageLimits,
    UserError,
    override_sources,
)
from agentkit.models import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


class City(pydantic.BaseModel):
    name: str
    population: int


def weather_agent(model: Any = None, **kwargs: Any) -> Agent[None, Any]:
    agent: Agent[None, Any] = Agent(model or TestModel(), **kwargs)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        return f"sunny in {city}"

    return agent


async def test_stream_text_grows_and_deltas_join_to_the_answer() -> None:
    agent = weather_agent(TestModel(custom_result_text="The weather is fine today"))
    async with agent.run_stream("weather?") as result:
        growing = [text async for text in result.stream_text(debounce_by=None)]
    assert growing[-1] == "The weather is fine today"
    assert all(b.startswith(a) for a, b in itertools.pairwise(growing))
    assert len(growing) == 5
    async with agent.run_stream("weather?") as result:
        deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
    assert "".join(deltas) == "The weather is fine today"
    assert result.is_complete
    assert result.usage().requests == 2


async def test_structured_stream_yields_validated_partials_then_the_result() -> None:
    agent = Agent(TestModel(custom_result_args={"name": "Oslo", "population": 709000}), result_type=City)
    async with agent.run_stream("city?") as result:
        partials = [partial async for partial in result.stream()]
    assert partials[-1] == City(name="Oslo", population=709000)
    assert all(isinstance(partial, City) for partial in partials)
    assert [p.population for p in partials] == sorted(p.population for p in partials)
    assert len(partials) >= 2  # the number grows digit by digit
    assert await _data(agent) == partials[-1]


async def _data(agent: Agent[None, Any]) -> Any:
    async with agent.run_stream("city?") as result:
        return await result.get_data()


async def test_stream_text_on_a_structured_result_is_a_user_error() -> None:
    agent = Agent(TestModel(), result_type=City)
    async with agent.run_stream("city?") as result:
        with pytest.raises(UserError, match=r"stream_text\(\) can only be used with text responses"):
            async for _ in result.stream_text():
                pass


async def test_leaving_early_ends_the_run_and_counts_what_was_received() -> None:
    agent = weather_agent(TestModel(custom_result_text="word " * 50))
    async with agent.run_stream("weather?") as result:
        async for text in result.stream_text(debounce_by=None):
            if len(text) >= 10:
                break
    assert not result.is_complete
    assert result.usage().requests == 2
    last = result.all_messages()[-1]
    assert isinstance(last, ModelResponse)
    assert last.parts[0].content.startswith("word word")  # type: ignore[union-attr]
    assert len(last.parts[0].content) < 250  # type: ignore[union-attr]


async def test_usage_limits_are_enforced_while_streaming() -> None:
    agent = Agent(TestModel(custom_result_text="one two three four five six seven"))
    received: list[str] = []

    async def consume() -> None:
        async with agent.run_stream("go", usage_limits=UsageLimits(response_tokens_limit=3)) as result:
            async for text in result.stream_text(debounce_by=None):
                received.append(text)

    with pytest.raises(UsageLimitExceeded, match="response_tokens_limit of 3"):
        await consume()
    assert 0 < len(received) < 9


async def stream_weather_calls(messages: list[Any], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
    if len(messages) == 1:
        yield {0: DeltaToolCall(name="get_weather", tool_call_id="w1")}
        yield {0: DeltaToolCall(json_args='{"ci')}
        yield {0: DeltaToolCall(json_args='ty": "Ro')}
        yield {0: DeltaToolCall(json_args='me"}')}
    else:
        for piece in ("It is ", "sunny ", "in Rome"):
            yield piece


async def test_function_model_streams_tool_call_arguments_split_across_chunks() -> None:
    agent = weather_agent(FunctionModel(stream_function=stream_weather_calls))
    async with agent.run_stream("weather in Rome?") as result:
        text = await result.get_data()
    assert text == "It is sunny in Rome"
    call = result.all_messages()[1].parts[0]  # type: ignore[union-attr]
    assert call == ToolCallPart("get_weather", '{"city": "Rome"}', "w1")
    tool_return = result.all_messages()[2].parts[0]  # type: ignore[union-attr]
    assert tool_return.content == "sunny in Rome"  # type: ignore[union-attr]


async def test_nodes_stream_part_events_and_tool_events_inside_iter() -> None:
    agent = weather_agent(FunctionModel(stream_function=stream_weather_calls))
    part_events: list[Any] = []
    tool_events: list[Any] = []
    kinds: list[str] = []
    async with agent.iter("weather in Rome?") as agent_run:
        node = agent_run.next_node
        while not isinstance(node, End):
            kinds.append(type(node).__name__)
            if isinstance(node, ModelRequestNode):
                async with node.stream(agent_run.ctx) as events:
                    part_events.extend([event async for event in events])
            elif isinstance(node, CallToolsNode):
                async with node.stream(agent_run.ctx) as events:
                    tool_events.extend([event async for event in events])
            node = await agent_run.next(node)
    assert kinds == ["UserPromptNode", "ModelRequestNode", "CallToolsNode", "ModelRequestNode", "CallToolsNode"]
    # the name came alone: the part starts once its arguments begin, as in the reference release
    assert part_events[0] == PartStartEvent(0, ToolCallPart("get_weather", '{"ci', "w1"))
    assert part_events[1] == PartDeltaEvent(0, ToolCallPartDelta(args_delta='ty": "Ro'))
    assert part_events[-1] == PartDeltaEvent(0, TextPartDelta("in Rome"))
    assert [type(event) for event in tool_events] == [FunctionToolCallEvent, FunctionToolResultEvent]
    assert tool_events[1].result.content == "sunny in Rome"
    assert agent_run.result is not None
    assert agent_run.result.data == "It is sunny in Rome"


async def test_a_node_left_early_is_still_completed() -> None:
    agent = weather_agent(TestModel(custom_result_text="a long answer " * 5))
    async with agent.iter("go") as agent_run:
        async for node in agent_run:
            if isinstance(node, ModelRequestNode):
                async with node.stream(agent_run.ctx) as events:
                    async for _ in events:
                        break
    assert agent_run.result is not None
    assert agent_run.result.data == "a long answer " * 5


# --- streamed and non-streamed runs end with identical messages -----------------------------

ANSWERS = {
    "text": [ModelResponse(parts=[TextPart("The capital of France is Paris.")])],
    "tool-then-text": [
        ModelResponse(parts=[ToolCallPart("get_weather", '{"city": "Paris"}', "t1")]),
        ModelResponse(parts=[TextPart("Sunny in Paris, enjoy.")]),
    ],
    "two-tools-then-structured": [
        ModelResponse(
            parts=[
                ToolCallPart("get_weather", '{"city": "Oslo"}', "t1"),
                ToolCallPart("get_weather", '{"city": "Rome"}', "t2"),
            ]
        ),
        ModelResponse(parts=[ToolCallPart("final_result", '{"name": "Rome", "population": 2800000}', "t3")]),
    ],
}


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points) if text[a:b]]


def scripted_models(script: list[ModelResponse], cuts: list[int]) -> tuple[FunctionModel, FunctionModel]:
    def respond(messages: list[Any], info: AgentInfo) -> ModelResponse:
        answer = script[sum(1 for m in messages if m.kind == "response")]
        return ModelResponse(parts=list(answer.parts), model_name="scripted")

    async def stream(messages: list[Any], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        answer = script[sum(1 for m in messages if m.kind == "response")]
        for index, part in enumerate(answer.parts):
            if isinstance(part, TextPart):
                for piece in split(part.content, cuts):
                    yield piece
            else:
                yield {index: DeltaToolCall(name=part.tool_name, tool_call_id=part.tool_call_id)}
                for piece in split(part.args_as_json_str(), cuts):
                    yield {index: DeltaToolCall(json_args=piece)}

    return FunctionModel(respond, model_name="scripted"), FunctionModel(stream_function=stream, model_name="scripted")


async def run_both(name: str, cuts: list[int]) -> tuple[list[Any], list[Any]]:
    plain_model, streamed_model = scripted_models(ANSWERS[name], cuts)
    result_type: Any = City if name.endswith("structured") else str
    agent = weather_agent(result_type=result_type)
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    with override_sources(clock=FixedClock(stamp), ids=SequentialIds()):
        plain = await agent.run("go", model=plain_model)
    with override_sources(clock=FixedClock(stamp), ids=SequentialIds()):
        async with agent.run_stream("go", model=streamed_model) as streamed:
            data = await streamed.get_data()
    assert data == plain.data
    return plain.all_messages(), streamed.all_messages()


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(ANSWERS)), cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=12))
def test_streamed_runs_end_with_the_same_messages_as_plain_runs(name: str, cuts: list[int]) -> None:
    plain, streamed = anyio.run(run_both, name, cuts)
    assert json.loads(json.dumps([repr(m) for m in streamed])) == [repr(m) for m in plain]
    assert streamed == plain


async def test_tool_events_left_unread_still_run_each_tool_once() -> None:
    calls: list[str] = []
    agent = Agent(TestModel())

    @agent.tool_plain
    def record(tag: str) -> str:
        calls.append(tag)
        return tag

    async with agent.iter("go") as agent_run:
        async for node in agent_run:
            if isinstance(node, CallToolsNode):
                async with node.stream(agent_run.ctx) as events:
                    async for _ in events:
                        break
    assert calls == ["a"]
    assert agent_run.result is not None


async def test_cancelling_a_stream_ends_the_run_cleanly() -> None:
    agent = weather_agent(TestModel(custom_result_text="word " * 40))
    received: list[str] = []
    with anyio.CancelScope() as scope:
        async with agent.run_stream("weather?") as result:
            async for delta in result.stream_text(delta=True, debounce_by=None):
                received.append(delta)
                if len(received) == 3:
                    scope.cancel()
                    await anyio.sleep(0)  # the cancellation lands here
    assert scope.cancelled_caught
    assert len(received) == 3
    assert not result.is_complete
    assert result.usage().requests == 2
    partial = result.all_messages()[-1]
    assert isinstance(partial, ModelResponse)
    assert partial.parts[0].content == "".join(received)  # type: ignore[union-attr]
