"""Fidelity with pydantic-ai 0.0.39: FinalResultEvent, streamed results (debounce, structured), streamed usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from typing_extensions import TypedDict

from agentkit import (
    Agent,
    ModelMessage,
    ModelRequestNode,
    ModelResponse,
    ModelRetry,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
    UsageLimits,
)
from agentkit.messages import FinalResultEvent
from agentkit.models import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


class Person(TypedDict, total=False):
    name: str
    age: int


async def person_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
    name = info.result_tools[0].name
    for chunk in ['{"na', 'me": "Ann', 'a", "ag', 'e": 4', "2}"]:
        yield {0: DeltaToolCall(name=name if chunk.startswith('{"na') else None, json_args=chunk)}


async def words(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    for word in ["The ", "answer ", "is ", "42"]:
        yield word


async def test_a_final_result_event_follows_the_part_that_carries_the_result() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)
    events: list[Any] = []
    async with agent.iter("go") as run:
        async for node in run:
            if isinstance(node, ModelRequestNode):
                async with node.stream(run.ctx) as stream:
                    events.extend([event async for event in stream])
    assert isinstance(events[0], PartStartEvent)
    assert events[1] == FinalResultEvent(tool_name="final_result", tool_call_id=None)
    assert all(isinstance(event, PartDeltaEvent) for event in events[2:])
    assert len([event for event in events if isinstance(event, FinalResultEvent)]) == 1


async def test_a_text_answer_gets_a_final_result_event_without_tool() -> None:
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.iter("go") as run:
        node = await run.next(run.next_node)  # past the UserPromptNode a run driven by hand starts at
        assert isinstance(node, ModelRequestNode)
        async with node.stream(run.ctx) as stream:
            events = [event async for event in stream]
    assert events[1] == FinalResultEvent(None, None)
    assert events[1].event_kind == "final_result"


async def test_agent_stream_output_validates_the_growing_result() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)
    async with agent.iter("go") as run:
        node = await run.next(run.next_node)
        assert isinstance(node, ModelRequestNode)
        async with node.stream(run.ctx) as stream:
            outputs = [output async for output in stream.stream_output(debounce_by=None)]
    assert outputs[0] == {}
    assert outputs[-1] == {"name": "Anna", "age": 42}


async def test_stream_structured_gives_each_response_and_marks_the_last() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)
    async with agent.run_stream("go") as result:
        messages = [(message, last) async for message, last in result.stream_structured(debounce_by=None)]
        first = await result.validate_structured_result(messages[0][0], allow_partial=True)
        final = await result.validate_structured_result(messages[-1][0])
    seen = [(message.parts[0].args, last) for message, last in messages]  # type: ignore[union-attr]
    assert seen == [
        ('{"na', False),
        ('{"name": "Ann', False),
        ('{"name": "Anna", "ag', False),
        ('{"name": "Anna", "age": 4', False),
        ('{"name": "Anna", "age": 42}', False),
        ('{"name": "Anna", "age": 42}', True),
    ]
    assert (first, final) == ({}, {"name": "Anna", "age": 42})
    assert result.is_complete
    assert isinstance(result.timestamp(), datetime)


async def test_debounce_groups_chunks_that_arrive_together() -> None:
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.run_stream("go") as result:
        grouped = [text async for text in result.stream_text()]
    async with agent.run_stream("go") as result:
        each = [text async for text in result.stream_text(debounce_by=None)]
    assert grouped == ["The answer is 42"]
    assert each == ["The ", "The answer ", "The answer is ", "The answer is 42"]


async def test_stream_yields_partial_results_then_the_complete_one_twice() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)
    async with agent.run_stream("go") as result:
        people = [person async for person in result.stream()]
    assert people == [{}, {"name": "Anna", "age": 42}, {"name": "Anna", "age": 42}]


async def test_streamed_usage_counts_the_request_in_progress() -> None:
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.run_stream("go") as result:
        assert result.usage().requests == 1
        await result.get_data()
        assert result.usage().requests == 1


async def test_streamed_result_messages_cannot_replace_the_result_tool_return() -> None:
    agent = Agent(TestModel())
    async with agent.run_stream("go") as result:
        await result.get_data()
        with pytest.raises(NotImplementedError, match="not supported for this result type"):
            result.all_messages(result_tool_return_content="x")


async def test_token_limits_are_checked_when_a_stream_is_left_early() -> None:
    async def long_answer(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for _ in range(3):
            yield "word "

    agent = Agent(FunctionModel(stream_function=long_answer))
    with pytest.raises(UsageLimitExceeded, match="request_tokens_limit of 1"):
        async with agent.run_stream("a prompt of several words", usage_limits=UsageLimits(request_tokens_limit=1)):
            pass  # left before reading anything


async def test_stream_text_shows_the_whole_answer_before_a_token_limit_breach() -> None:
    agent = Agent(TestModel(custom_result_text="one two three four five six seven eight"))
    received: list[str] = []

    async def read() -> None:
        async with agent.run_stream("go", usage_limits=UsageLimits(response_tokens_limit=3)) as result:
            async for text in result.stream_text(delta=True):
                received.append(text)

    with pytest.raises(UsageLimitExceeded, match=r"^Exceeded the response_tokens_limit of 3 \(response_tokens=8\)$"):
        await read()
    assert received == ["one two three four five six seven eight"]


async def test_get_data_checks_token_limits_at_each_chunk() -> None:
    agent = Agent(TestModel(custom_result_text="one two three four five six seven eight"))
    with pytest.raises(UsageLimitExceeded, match=r"response_tokens_limit of 3 \(response_tokens=4\)"):
        async with agent.run_stream("go", usage_limits=UsageLimits(response_tokens_limit=3)) as result:
            await result.get_data()


async def test_stream_text_read_again_after_the_end_yields_the_whole_text_once() -> None:
    # The reference starts stream_text with the text already received, so a second read (or one
    # after get_data) yields the answer once instead of nothing.
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.run_stream("go") as result:
        assert await result.get_data() == "The answer is 42"
        assert [text async for text in result.stream_text(delta=True, debounce_by=None)] == ["The answer is 42"]
        assert [text async for text in result.stream_text(debounce_by=None)] == ["The answer is 42"]
        assert [text async for text in result.stream_text()] == ["The answer is 42"]
    assert len(result.all_messages()) == 2  # reading again adds no message (the reference appends one each time)


async def test_stream_text_after_a_partial_structured_read_starts_with_the_text_so_far() -> None:
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.run_stream("go") as result:
        structured = result.stream_structured(debounce_by=None)
        first, _ = await structured.__anext__()
        await structured.aclose()
        assert first.parts[0].content == "The "  # type: ignore[union-attr]
        deltas = [text async for text in result.stream_text(delta=True, debounce_by=None)]
    assert deltas == ["The ", "answer ", "is ", "42"]


async def test_a_validator_retry_on_a_streamed_text_is_an_error_saying_why() -> None:
    # Result validators run on each partial text of stream_text(); a ModelRetry there escaped as
    # agentkit's internal ToolRetry (the reference leaks its private ToolRetryError, with no message).
    agent = Agent(FunctionModel(stream_function=words))

    @agent.result_validator
    def long_enough(text: str) -> str:
        if len(text) < 10:
            raise ModelRetry("too short")
        return text

    with pytest.raises(UnexpectedModelBehavior, match=r"result validator asked for a retry \('too short'\)") as raised:
        async with agent.run_stream("go") as result:
            [text async for text in result.stream_text(debounce_by=None)]
    assert "partial" in str(raised.value)


async def test_a_validator_retry_from_validate_structured_result_is_an_error_saying_why() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)

    @agent.result_validator
    def named(person: Person) -> Person:
        if "age" not in person:
            raise ModelRetry("no age yet")
        return person

    async with agent.run_stream("go") as result:
        async for message, last in result.stream_structured(debounce_by=None):
            if not last:
                with pytest.raises(UnexpectedModelBehavior, match=r"\('no age yet'\)"):
                    await result.validate_structured_result(message, allow_partial=True)
                break


async def test_validating_a_response_without_the_result_tool_call_names_the_tools() -> None:
    agent: Agent[None, Person] = Agent(FunctionModel(stream_function=person_stream), result_type=Person)
    async with agent.run_stream("go") as result:
        await result.get_data()
        text_only = ModelResponse(parts=[TextPart("no call here")])
        with pytest.raises(UnexpectedModelBehavior, match=r"unable to find tool: \['final_result'\]"):
            await result.validate_structured_result(text_only)
