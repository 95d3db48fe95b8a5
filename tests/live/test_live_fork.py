"""Fork against a real LLM server: record a run live, fork it at its second request, replay the fork offline.

Needs llama.cpp's OpenAI-compatible server (see test_live_e2e.py and `bash .ci/live-tests`). The
server answers any model name and echoes it back, which shows which requests of the fork were live.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from agentkit import Agent, ModelRequest, RunContext, ToolDefinition, ToolReturnPart
from agentkit.models import OpenAIModel, override_allow_model_requests
from agentkit_testing import Cassette, cassette, fork

pytestmark = [pytest.mark.live, pytest.mark.anyio, pytest.mark.agentkit_allow_model_requests]

SETTINGS: Any = {"temperature": 0.0, "seed": 7, "timeout": 180, "max_tokens": 40}
SERVED_MODEL = os.environ.get("AGENTKIT_LIVE_MODEL", "smollm2-135m-instruct")
FORK_MODEL = "fork-model"
"""Another name for the same server model: its responses carry this name, so they are told apart."""


@pytest.fixture(autouse=True)
def _placeholder_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-for-the-local-server")


async def hide_once_returned(ctx: RunContext[None], definition: ToolDefinition) -> ToolDefinition | None:
    """The 135M model never sees tool results and would call the tool forever: offer it until it returned."""
    returned = any(
        isinstance(part, ToolReturnPart) and part.tool_name == definition.name
        for message in ctx.messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    return None if returned else definition


def weather_agent(model: OpenAIModel) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(
        model,
        name="live_weather",
        system_prompt="You are a weather assistant. Use get_weather to look up the weather.",
        retries=3,
        model_settings=SETTINGS,
    )

    @agent.tool_plain(prepare=hide_once_returned)
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"sunny, 21 C in {city}"

    return agent


async def run_nodes(agent: Agent[None, str], prompt: str) -> tuple[list[str], str]:
    async with agent.iter(prompt) as agent_run:
        nodes = [type(node).__name__ async for node in agent_run]
    assert agent_run.result is not None
    return nodes, agent_run.result.data


def unreachable(name: str) -> OpenAIModel:
    return OpenAIModel(name, base_url="http://127.0.0.1:9/v1")


async def test_fork_at_the_second_request_continues_live_and_replays_offline(base_url: str, tmp_path: Any) -> None:
    path = tmp_path / "fork.yaml"
    prompt = "What is the weather in Paris?"
    with cassette(path, record_mode="all"):
        await run_nodes(weather_agent(OpenAIModel(SERVED_MODEL, base_url=base_url)), prompt)
    (parent,) = Cassette.load(path).runs
    assert len(parent.requests) >= 2, "the model answered without calling get_weather: nothing to fork"
    second = parent.requests[1].node
    assert second == 2

    result = await fork(
        path,
        agent=weather_agent(OpenAIModel(SERVED_MODEL, base_url=base_url)),
        run=parent.id,
        at_node=second,
        model=OpenAIModel(FORK_MODEL, base_url=base_url),
    )
    forked = result.run
    assert forked.forked_from is not None
    assert (forked.forked_from.run, forked.forked_from.node) == (parent.id, 2)
    assert forked.requests[0] == parent.requests[0]  # replayed: the parent's response, not asked again
    assert [request.response.model_name for request in forked.requests] == [
        parent.requests[0].response.model_name,
        *[FORK_MODEL] * (len(forked.requests) - 1),
    ]
    assert isinstance(result.data, str)
    assert result.data.strip()
    assert [run.id for run in Cassette.load(path).runs] == [parent.id, forked.id]

    replayed: list[tuple[list[str], str]] = []
    with override_allow_model_requests(False), cassette(path, "none") as session:
        replayed.append(await run_nodes(weather_agent(unreachable(SERVED_MODEL)), prompt))
        replayed.append(await run_nodes(weather_agent(unreachable(FORK_MODEL)), prompt))
    assert [run.id for run in session.replayed_runs] == [parent.id, forked.id]
    assert replayed[1] == (list(forked.nodes), result.data)
