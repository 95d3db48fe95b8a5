"""End to end against a real LLM server: live run, cassette, offline replay.

These tests need llama.cpp's OpenAI-compatible server with SmolLM2-135M on loopback; `.ci/run`
starts it. Locally: `bash .ci/live-tests` (builds, starts, runs these, stops).
A 135M model is not always right, so the tests assert on structure (a tool was called with
well-formed arguments, a final answer exists), never on wording.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentNode,
    CallToolsNode,
    End,
    ModelRequest,
    ModelRequestNode,
    RunContext,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
)
from agentkit.models import OpenAIModel, override_allow_model_requests
from agentkit_testing import cassette

pytestmark = [pytest.mark.live, pytest.mark.anyio, pytest.mark.agentkit_allow_model_requests]

CANARY_KEY = "sk-canary-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SETTINGS: Any = {"temperature": 0.0, "seed": 7, "timeout": 180}


@pytest.fixture
def live_model(base_url: str, monkeypatch: pytest.MonkeyPatch) -> OpenAIModel:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
    name = os.environ.get("AGENTKIT_LIVE_MODEL", "smollm2-135m-instruct")
    return OpenAIModel(name, base_url=base_url)


def unreachable_model() -> OpenAIModel:
    """The same model name on a port where nothing listens: replay must never touch it."""
    return OpenAIModel(os.environ.get("AGENTKIT_LIVE_MODEL", "smollm2-135m-instruct"), base_url="http://127.0.0.1:9/v1")


async def hide_once_returned(ctx: RunContext[None], definition: ToolDefinition) -> ToolDefinition | None:
    """The 135M model never sees tool results (the server's template drops them) and would call the
    tool forever; offer the tool only until it has returned."""
    returned = any(
        isinstance(part, ToolReturnPart) and part.tool_name == definition.name
        for message in ctx.messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    return None if returned else definition


def text_agent(model: OpenAIModel) -> Agent[None, str]:
    return Agent(model, name="live_text", model_settings={**SETTINGS, "max_tokens": 24})


def weather_agent(model: OpenAIModel) -> Agent[None, str]:
    # The server only shows tools to the model when there is a system prompt.
    agent: Agent[None, str] = Agent(
        model,
        name="live_weather",
        system_prompt="You are a weather assistant. Use get_weather to look up the weather.",
        retries=3,
        model_settings={**SETTINGS, "max_tokens": 40},
    )

    @agent.tool_plain(prepare=hide_once_returned)
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"sunny, 21 C in {city}"

    return agent


async def run_nodes(agent: Agent[None, str], prompt: str) -> tuple[list[AgentNode], str]:
    async with agent.iter(prompt) as agent_run:
        nodes = [node async for node in agent_run]
    assert agent_run.result is not None
    return nodes, agent_run.result.data


def tool_calls(nodes: list[AgentNode]) -> list[ToolCallPart]:
    return [
        part
        for node in nodes
        if isinstance(node, CallToolsNode)
        for part in node.model_response.parts
        if isinstance(part, ToolCallPart)
    ]


async def test_text_answer(live_model: OpenAIModel) -> None:
    nodes, data = await run_nodes(text_agent(live_model), "What is the capital of France?")
    assert [type(node) for node in nodes] == [ModelRequestNode, CallToolsNode, End]
    assert isinstance(data, str)
    assert data.strip()


async def test_tool_call_then_final_answer(live_model: OpenAIModel) -> None:
    nodes, data = await run_nodes(weather_agent(live_model), "What is the weather in Paris?")
    calls = tool_calls(nodes)
    assert calls, "the model made no tool call"
    assert all(call.tool_name == "get_weather" for call in calls)
    assert all(isinstance(call.args_as_dict().get("city"), str) for call in calls)
    returns = [
        p for n in nodes if isinstance(n, ModelRequestNode) for p in n.request.parts if isinstance(p, ToolReturnPart)
    ]
    assert returns
    assert returns[0].content.startswith("sunny, 21 C in ")
    assert isinstance(nodes[-1], End)
    assert data.strip()


async def test_recorded_runs_replay_offline_with_identical_nodes(live_model: OpenAIModel, tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    with cassette(path, record_mode="once"):
        live_text = await run_nodes(text_agent(live_model), "What is the capital of France?")
        live_weather = await run_nodes(weather_agent(live_model), "What is the weather in Paris?")
    assert path.exists()

    with override_allow_model_requests(False), cassette(path, record_mode="none") as session:
        replay_text = await run_nodes(text_agent(unreachable_model()), "What is the capital of France?")
        replay_weather = await run_nodes(weather_agent(unreachable_model()), "What is the weather in Paris?")
    assert len(session.replayed_runs) == 2
    assert replay_text == live_text
    assert replay_weather == live_weather
    assert tool_calls(replay_weather[0])


async def test_streamed_run_records_and_replays_with_the_same_chunks(live_model: OpenAIModel, tmp_path: Path) -> None:
    path = tmp_path / "stream.yaml"

    async def stream(agent: Agent[None, str]) -> tuple[list[str], list[Any]]:
        async with agent.run_stream("What is the capital of France?") as result:
            # every chunk as it came: the default debounce (0.1 s) groups by time, which replay compresses
            deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
        return deltas, result.all_messages()

    with cassette(path, record_mode="once"):
        live_deltas, live_messages = await stream(text_agent(live_model))
    assert len(live_deltas) > 1, "the server streamed the answer in one piece"
    with override_allow_model_requests(False), cassette(path, record_mode="none"):
        replay_deltas, replay_messages = await stream(text_agent(unreachable_model()))
    assert replay_deltas == live_deltas
    assert replay_messages == live_messages
    final = replay_messages[-1].parts[0]
    assert isinstance(final, TextPart)
    assert final.content == "".join(live_deltas)


async def test_canary_key_never_reaches_a_cassette(live_model: OpenAIModel, tmp_path: Path) -> None:
    path = tmp_path / "canary.yaml"
    with cassette(path, record_mode="once"):
        await run_nodes(text_agent(live_model), f"Repeat this key exactly: {CANARY_KEY}")
    text = path.read_text()
    assert CANARY_KEY not in text
    assert CANARY_KEY[10:] not in text
    json_path = tmp_path / "canary.json"
    with cassette(json_path, record_mode="once"):
        await run_nodes(text_agent(live_model), f"Repeat this key exactly: {CANARY_KEY}")
    assert CANARY_KEY not in json_path.read_text()
    assert json.loads(json_path.read_text())
