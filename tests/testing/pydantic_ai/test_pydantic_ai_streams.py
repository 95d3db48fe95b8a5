"""pydantic-ai cassettes: streamed responses keep their events and chunk boundaries, scrubbed as whole texts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    TextPart,
    ToolCallPartDelta,
)
from pydantic_ai.models import CompletedStreamedResponse
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

from agentkit_testing.pydantic_ai import cassette
from agentkit_testing.pydantic_ai._messages import dump_events

CHUNKS = ["The ", "capital ", "of France ", "is Paris."]


def chunked_agent(chunks: list[str]) -> Agent[None, str]:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for chunk in chunks:
            yield chunk

    return Agent(FunctionModel(stream_function=stream, model_name="fn"), name="streamer")


async def stream_deltas(agent: Agent[None, str], prompt: str = "capital?") -> list[str]:
    async with agent.run_stream(prompt) as result:
        return [delta async for delta in result.stream_text(delta=True, debounce_by=None)]


def test_a_streamed_run_replays_its_chunks_with_their_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := chunked_agent(CHUNKS)], record_mode="once"):
        assert asyncio.run(stream_deltas(agent)) == CHUNKS
    with cassette(path, agents=[agent := chunked_agent(["something else"])]):
        assert asyncio.run(stream_deltas(agent)) == CHUNKS


def test_the_file_keeps_each_streamed_request_s_events(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := chunked_agent(CHUNKS)], record_mode="once"):
        asyncio.run(stream_deltas(agent))
    (request,) = yaml.safe_load(path.read_text())["runs"][0]["requests"]
    kinds = [event["event_kind"] for event in request["stream"]]
    assert kinds == ["part_start", "final_result", "part_delta", "part_delta", "part_delta", "part_end"]
    assert request["stream"][0]["part"] == {"part_kind": "text", "content": "The "}
    assert [event["delta"]["content_delta"] for event in request["stream"] if "delta" in event] == CHUNKS[1:]


def tool_call_agent() -> Agent[None, str]:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        if len(messages) == 1:
            for piece in ('{"ci', 'ty": "Pa', 'ris"}'):
                yield {0: DeltaToolCall(name="weather", json_args=piece, tool_call_id="call-1")}
        else:
            yield "Sunny"
            yield " in Paris."

    agent = Agent(FunctionModel(stream_function=stream, model_name="fn"), name="weather_streamer")

    @agent.tool_plain
    def weather(city: str) -> str:
        return f"sunny in {city}"

    return agent


async def node_events(agent: Agent[None, str]) -> list[ModelResponseStreamEvent]:
    events: list[ModelResponseStreamEvent] = []
    async with agent.iter("weather in Paris?") as run:
        async for node in run:
            if Agent.is_model_request_node(node):
                async with node.stream(run.ctx) as stream:
                    events.extend([event async for event in stream])
    return events


def test_tool_call_arguments_split_across_chunks_replay_as_the_same_events(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := tool_call_agent()], record_mode="once"):
        recorded = asyncio.run(node_events(agent))
    with cassette(path, agents=[agent := tool_call_agent()]):
        replayed = asyncio.run(node_events(agent))
    assert dump_events(replayed, where="test") == dump_events(recorded, where="test")
    args = [
        event.delta.args_delta
        for event in replayed
        if isinstance(event, PartDeltaEvent) and isinstance(event.delta, ToolCallPartDelta)
    ]
    assert args == ['ty": "Pa', 'ris"}']


def test_a_key_split_across_chunks_never_reaches_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "tok-s3cret-split-0123456789abcdef"
    monkeypatch.setenv("MY_SERVICE_TOKEN", secret)
    path = tmp_path / "c.yaml"
    with cassette(
        path,
        agents=[agent := chunked_agent(["key: tok-s3cret-", "split-0123456789abcdef", " end"])],
        record_mode="once",
    ):
        asyncio.run(stream_deltas(agent))
    text = path.read_text()
    assert "s3cret" not in text
    assert "0123456789abcdef" not in text
    with cassette(path, agents=[agent := chunked_agent(["unused"])]):
        replayed = asyncio.run(stream_deltas(agent))
    assert "".join(replayed) == "key: <redacted:env MY_SERVICE_TOKEN> end"


def test_a_streamed_recording_without_events_replays_one_event_per_part(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := chunked_agent(CHUNKS)], record_mode="once"):
        asyncio.run(stream_deltas(agent))
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    del document["runs"][0]["requests"][0]["stream"]  # as files written before events were kept
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with cassette(path, agents=[agent := chunked_agent(["unused"])]):
        assert asyncio.run(stream_deltas(agent)) == ["".join(CHUNKS)]


def test_replayed_streams_use_pydantic_ai_s_public_completed_stream() -> None:
    # The adapter hands recorded events to the run through this public class, as pydantic-ai's durable
    # execution does; if its signature changes, replayed streams break.
    import inspect

    parameters = inspect.signature(CompletedStreamedResponse).parameters
    assert {"model_request_parameters", "replay_events"} <= set(parameters)


def test_a_run_in_a_plain_thread_started_in_a_copy_of_the_block_s_context_is_recorded_and_replayed(
    tmp_path: Path,
) -> None:
    # Agent.override is context-local: a plain thread sees it when it runs in a copy of the block's context.
    import contextvars
    import threading

    def in_thread(agent: Agent[None, str]) -> list[str]:
        outputs: list[str] = []
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(lambda: outputs.append(run_in_loop(agent)),))
        worker.start()
        worker.join()
        return outputs

    def run_in_loop(agent: Agent[None, str]) -> str:
        return asyncio.run(agent.run("capital?")).output

    def answering(text: str) -> Agent[None, str]:
        def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            return ModelResponse(parts=[TextPart(text)])

        return Agent(FunctionModel(answer, model_name="fn"), name="threaded")

    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := answering("recorded")], record_mode="once") as session:
        assert in_thread(agent) == ["recorded"]
    assert len(session.recorded_runs) == 1
    with cassette(path, agents=[agent := answering("live")]) as session:
        assert in_thread(agent) == ["recorded"]
    assert len(session.replayed_runs) == 1
