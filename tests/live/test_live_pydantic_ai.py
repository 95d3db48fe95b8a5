"""A pydantic-ai agent on its OpenAI chat model against the local llama.cpp server: recorded, then replayed offline.

Needs llama.cpp's OpenAI-compatible server with SmolLM2-135M on loopback (`bash .ci/live-tests`).
Each test records live runs with `agentkit_testing.pydantic_ai.cassette`, then replays them with the
agent's model pointed at a port where nothing listens, no API key, and pydantic-ai's own guard
against model requests on. The server's quirks are handled as its users would (see
llama_cpp_openai.py); a 135M model is not always right, so the tests check structure, not wording.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from llama_cpp_openai import EmptyContentTransport, llama_cpp_model, offer_until_returned
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models import override_allow_model_requests
from pydantic_ai.models.openai import OpenAIChatModel

from agentkit_testing.pydantic_ai import cassette

pytestmark = [pytest.mark.live, pytest.mark.anyio, pytest.mark.agentkit_allow_model_requests]

CANARY_KEY = "sk-canary-pai-4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"
UNREACHABLE = "http://127.0.0.1:9/v1"
SETTINGS: Any = {"temperature": 0.0, "seed": 7, "timeout": 180}

ModelFactory = Callable[[str], OpenAIChatModel]


@pytest.fixture
async def model_at() -> AsyncIterator[ModelFactory]:
    """Builds the live model at a base URL; the HTTP clients are closed when the test ends."""
    name = os.environ.get("AGENTKIT_LIVE_MODEL", "smollm2-135m-instruct")
    clients: list[httpx2.AsyncClient] = []

    def build(url: str) -> OpenAIChatModel:
        client = httpx2.AsyncClient(transport=EmptyContentTransport(), timeout=180)
        clients.append(client)
        return llama_cpp_model(name, url, client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def live_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recording: the canary stands in for a real key (the scrubber reads OPENAI_API_KEY)."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)


def text_agent(model: OpenAIChatModel) -> Agent[None, str]:
    return Agent(model, name="pai_live_text", model_settings={**SETTINGS, "max_tokens": 24})


def weather_agent(model: OpenAIChatModel) -> Agent[None, str]:
    # The server shows tools to the model only when the conversation has a system prompt.
    agent = Agent(
        model,
        name="pai_live_weather",
        system_prompt="You are a weather assistant. Use get_weather to look up the weather.",
        retries=3,
        model_settings={**SETTINGS, "max_tokens": 40},
    )

    @agent.tool_plain(prepare=offer_until_returned)
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"sunny, 21 C in {city}"

    return agent


def responses(messages: list[ModelMessage]) -> list[ModelResponse]:
    """The run's responses without the ids pydantic-ai makes anew for every run."""
    return [
        replace(message, run_id=None, conversation_id=None)
        for message in messages
        if isinstance(message, ModelResponse)
    ]


def as_json(messages: list[ModelMessage]) -> Any:
    """The run's responses as pydantic-ai stores messages: free-form `provider_details` come back as JSON
    (the server's datetime as its ISO text) from any JSON store, a cassette's included."""
    return ModelMessagesTypeAdapter.dump_python(list(responses(messages)), mode="json")


async def test_a_text_run_replays_with_the_server_unreachable(
    base_url: str, model_at: ModelFactory, live_key: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "text.yaml"
    with cassette(path, agents=[agent := text_agent(model_at(base_url))], record_mode="once"):
        live = await agent.run("What is the capital of France?")
    assert live.output.strip()
    monkeypatch.delenv("OPENAI_API_KEY")
    with (
        override_allow_model_requests(False),
        cassette(path, agents=[agent := text_agent(model_at(UNREACHABLE))]) as session,
    ):
        replayed = await agent.run("What is the capital of France?")
    assert [run.id for run in session.replayed_runs] == ["run-1"]
    assert replayed.output == live.output
    assert as_json(replayed.all_messages()) == as_json(live.all_messages())


async def test_a_tool_run_replays_its_tool_call_and_runs_the_tool(
    base_url: str, model_at: ModelFactory, live_key: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "weather.yaml"
    with cassette(path, agents=[agent := weather_agent(model_at(base_url))], record_mode="once") as session:
        live = await agent.run("What is the weather in Paris?")
    (recorded,) = session.recorded_runs
    calls = [part for message in responses(live.all_messages()) for part in message.parts]
    assert any(isinstance(part, ToolCallPart) and part.tool_name == "get_weather" for part in calls)
    assert [call.tool_name for call in recorded.runtime_tool_calls] == ["get_weather"]
    assert str(recorded.runtime_tool_calls[0].result).startswith("sunny, 21 C in ")
    monkeypatch.delenv("OPENAI_API_KEY")
    with (
        override_allow_model_requests(False),
        cassette(path, agents=[agent := weather_agent(model_at(UNREACHABLE))]) as session,
    ):
        replayed = await agent.run("What is the weather in Paris?")
    assert len(session.replayed_runs) == 1
    assert replayed.output == live.output
    assert as_json(replayed.all_messages()) == as_json(live.all_messages())


async def test_a_streamed_run_replays_its_chunks(
    base_url: str, model_at: ModelFactory, live_key: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stream.yaml"

    async def stream(agent: Agent[None, str]) -> tuple[list[str], list[ModelMessage]]:
        async with agent.run_stream("What is the capital of France?") as result:
            deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
        return deltas, result.all_messages()

    with cassette(path, agents=[agent := text_agent(model_at(base_url))], record_mode="once"):
        live_deltas, live_messages = await stream(agent)
    assert len(live_deltas) > 1, "the server streamed the answer in one piece"
    monkeypatch.delenv("OPENAI_API_KEY")
    with override_allow_model_requests(False), cassette(path, agents=[agent := text_agent(model_at(UNREACHABLE))]):
        replay_deltas, replay_messages = await stream(agent)
    assert replay_deltas == live_deltas
    assert as_json(replay_messages) == as_json(live_messages)
    final = responses(replay_messages)[-1].parts[0]
    assert isinstance(final, TextPart)
    assert final.content == "".join(live_deltas)


async def test_the_canary_key_never_reaches_the_cassette(
    base_url: str, model_at: ModelFactory, live_key: None, tmp_path: Path
) -> None:
    for path in (tmp_path / "canary.yaml", tmp_path / "canary.json"):
        with cassette(path, agents=[agent := text_agent(model_at(base_url))], record_mode="once"):
            await agent.run(f"Repeat this key exactly: {CANARY_KEY}")
        text = path.read_text()
        assert "Repeat this key exactly" in text
        assert CANARY_KEY not in text
        assert CANARY_KEY[10:] not in text
