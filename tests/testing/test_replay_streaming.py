"""A streamed run replays with the same chunk boundaries: node streaming in `iter`, and `run_stream`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, ModelMessage, ModelRequestNode, PartDeltaEvent, PartStartEvent
from agentkit.models import AgentInfo, FunctionModel, TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._matching import Matching

pytestmark = pytest.mark.anyio
DiceGame = Any  # tests/testing/conftest.py


async def stream_nodes(agent: Agent[Any, Any], prompt: str, **options: Any) -> tuple[list[Any], list[Any]]:
    """Run `agent` with `iter`, streaming every model request; the nodes and every event seen."""
    nodes: list[Any] = []
    events: list[Any] = []
    async with agent.iter(prompt, **options) as agent_run:
        node = agent_run.next_node
        while True:
            nodes.append(node)
            if isinstance(node, ModelRequestNode):
                async with node.stream(agent_run.ctx) as stream:
                    events.extend([event async for event in stream])
            if agent_run.result is not None:
                break
            node = await agent_run.next(node)
    return nodes, events


async def test_node_streaming_in_iter_replays_the_same_chunks(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game(TestModel(stream_chunk_size=3))
    path = tmp_path / "streamed.yaml"
    with cassette(path, "once"):
        recorded_nodes, recorded_events = await stream_nodes(game.agent, "My guess is 4", deps="Anne")
    (run,) = Cassette.load(path).runs
    assert [len(request.stream or ()) for request in run.requests] == [2, 14]
    assert any(isinstance(event, PartDeltaEvent) for event in recorded_events)
    with cassette(path):
        replayed_nodes, replayed_events = await stream_nodes(game.agent, "My guess is 4", deps="Anne")
    assert replayed_events == recorded_events
    assert replayed_nodes == recorded_nodes


async def test_run_stream_replays_the_same_text_deltas(tmp_path: Path) -> None:
    agent = Agent(TestModel(custom_result_text="The quick brown fox jumps", stream_chunk_size=5), name="fox")
    path = tmp_path / "fox.yaml"

    async def deltas() -> tuple[list[str], Any]:
        async with agent.run_stream("Tell me about the fox") as result:
            pieces = [piece async for piece in result.stream_text(delta=True, debounce_by=None)]
        return pieces, result

    with cassette(path, "once"):
        recorded, recorded_result = await deltas()
    assert recorded == ["The q", "uick ", "brown", " fox ", "jumps"]
    assert Cassette.load(path).runs[0].streamed is True
    with cassette(path):
        replayed, replayed_result = await deltas()
    assert replayed == recorded
    assert replayed_result.all_messages() == recorded_result.all_messages()


async def test_committed_streamed_cassette_keeps_its_chunks(repository: Path) -> None:
    agent = Agent("openai:gpt-4o", system_prompt="Answer with a haiku.", name="poet")
    path = repository / "cassettes" / "streamed_haiku.yaml"
    (run,) = Cassette.load(path).runs
    assert run.requests[0].stream is not None
    expected = [
        event.part.content if isinstance(event, PartStartEvent) else event.delta.content_delta  # type: ignore[union-attr]
        for event in run.requests[0].stream
    ]
    with cassette(path):
        async with agent.run_stream("Write a haiku about replaying tests.") as result:
            chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]
    assert chunks == expected
    assert len(chunks) == 7


async def test_a_request_recorded_without_streaming_can_be_streamed(tmp_path: Path) -> None:
    agent = Agent(TestModel(custom_result_text="whole answer"), name="plain")
    path = tmp_path / "plain.yaml"
    with cassette(path, "once"):
        await agent.run("hi")
    with cassette(path, matching=Matching(ignore={"streamed"})):
        async with agent.run_stream("hi") as result:
            chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]
    assert chunks == ["whole answer"]


async def test_streamed_tool_call_arguments_replay_chunk_by_chunk(tmp_path: Path) -> None:
    async def stream_call(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        from agentkit.models import DeltaToolCall

        if len(messages) > 1:
            yield "It is "
            yield "sunny."
            return
        yield {0: DeltaToolCall(name="weather", json_args='{"ci', tool_call_id="call_w")}
        yield {0: DeltaToolCall(json_args='ty": "Pa')}
        yield {0: DeltaToolCall(json_args='ris"}')}

    agent = Agent(FunctionModel(stream_function=stream_call, model_name="streamer"), name="weather")

    @agent.tool_plain
    def weather(city: str) -> str:
        return f"sunny in {city}"

    path = tmp_path / "tool_stream.yaml"
    with cassette(path, "once"):
        recorded_nodes, recorded_events = await stream_nodes(agent, "Weather?")
    text = path.read_text()
    assert """delta: {part_delta_kind: tool_call, args_delta: 'ty": "Pa'}""" in text
    with cassette(path):
        replayed_nodes, replayed_events = await stream_nodes(agent, "Weather?")
    assert replayed_events == recorded_events
    assert replayed_nodes == recorded_nodes
    assert [type(event).__name__ for event in replayed_events[:3]] == [
        "PartStartEvent",
        "PartDeltaEvent",
        "PartDeltaEvent",
    ]


async def test_leaving_run_stream_early_records_and_replays_what_was_read(tmp_path: Path) -> None:
    agent = Agent(TestModel(custom_result_text="one two three four", stream_chunk_size=4), name="early")
    path = tmp_path / "early.yaml"

    async def first_piece() -> str:
        async with agent.run_stream("count") as result:
            async for piece in result.stream_text(delta=True, debounce_by=None):
                return piece
        return ""

    with cassette(path, "once"):
        recorded = await first_piece()
    with cassette(path):
        assert await first_piece() == recorded == "one "
