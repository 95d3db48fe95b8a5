"""A secret split across stream chunks is scrubbed in the `stream:` events too, and replay gives the scrubbed text."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import Agent, ModelMessage, PartDeltaEvent, PartStartEvent, TextPart, TextPartDelta
from agentkit.models import AgentInfo, DeltaToolCall, FunctionModel, TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._secrets import Scrubber

pytestmark = pytest.mark.anyio

OPENAI_CANARY = "sk-proj-CANARYstream0123456789abcdef"
SECRET_FRAGMENTS = ("CANARY", "stream0123", "456789", "abcdef")
"""Pieces of the canary, each longer than a chunk boundary can hide."""


def text_piece(event: Any) -> str:
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return ""


async def test_a_key_split_across_text_chunks_is_not_in_the_stream_events(tmp_path: Path) -> None:
    answer = f"Your key is {OPENAI_CANARY}, keep it safe."
    agent = Agent(TestModel(custom_result_text=answer, stream_chunk_size=4), name="keys")
    path = tmp_path / "keys.yaml"
    with cassette(path, "rewrite"):
        async with agent.run_stream("What is my key?") as result:
            await result.get_data()
    text = path.read_text()
    for fragment in SECRET_FRAGMENTS:
        assert fragment not in text
    (run,) = Cassette.load(path).runs
    (request,) = run.requests
    assert request.stream is not None
    joined = "".join(text_piece(event) for event in request.stream)
    assert joined == "Your key is <redacted:openai-key>, keep it safe."


async def test_replay_of_a_scrubbed_stream_gives_the_scrubbed_text(tmp_path: Path) -> None:
    answer = f"Your key is {OPENAI_CANARY}, keep it safe."
    agent = Agent(TestModel(custom_result_text=answer, stream_chunk_size=4), name="keys")
    path = tmp_path / "keys.yaml"
    with cassette(path, "rewrite"):
        async with agent.run_stream("What is my key?") as result:
            await result.get_data()
    with cassette(path):
        async with agent.run_stream("What is my key?") as result:
            pieces = [piece async for piece in result.stream_text(delta=True, debounce_by=None)]
    assert "".join(pieces) == "Your key is <redacted:openai-key>, keep it safe."


async def test_a_secret_field_split_across_tool_argument_chunks_is_scrubbed(tmp_path: Path) -> None:
    async def stream_call(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        if len(messages) > 1:
            yield "Logged in."
            return
        yield {0: DeltaToolCall(name="login", json_args='{"user": "ann", "pass', tool_call_id="call_1")}
        yield {0: DeltaToolCall(json_args='word": "hunter2-CAN')}
        yield {0: DeltaToolCall(json_args='ARY-42"}')}

    agent = Agent(FunctionModel(stream_function=stream_call, model_name="streamer"), name="login")

    @agent.tool_plain
    def login(user: str, password: str) -> str:
        return f"welcome {user}"

    path = tmp_path / "login.yaml"
    with cassette(path, "rewrite"):
        async with agent.run_stream("Log me in") as result:
            await result.get_data()
    text = path.read_text()
    assert "hunter2" not in text
    assert "ARY-42" not in text
    with cassette(path):
        async with agent.run_stream("Log me in") as result:
            assert await result.get_data() == "Logged in."


def test_scrub_chunks_gives_the_marker_to_the_chunk_where_the_secret_begins() -> None:
    scrubber = Scrubber(environ={})
    text = f"key {OPENAI_CANARY} end"
    chunks = [text[:6], text[6:20], text[20:30], text[30:]]
    assert scrubber.scrub_chunks(chunks) == ["key <redacted:openai-key>", "", "", " end"]


@given(cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8))
def test_scrubbed_chunks_join_to_the_scrubbed_text(cuts: list[int]) -> None:
    scrubber = Scrubber(environ={"ACME_API_KEY": "canary-env-value-123"})
    text = f"a {OPENAI_CANARY} b canary-env-value-123 c Bearer tok3n-abcdefgh d"
    bounds = sorted({0, len(text), *(cut for cut in cuts if cut < len(text))})
    chunks = [text[start:end] for start, end in itertools.pairwise(bounds)]
    scrubbed = scrubber.scrub_chunks(chunks)
    assert len(scrubbed) == len(chunks)
    assert "".join(scrubbed) == scrubber.scrub_text(text)
