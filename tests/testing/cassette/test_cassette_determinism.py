"""Replays are repeatable: the same nodes on every replay, and the same nodes and file under asyncio and trio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit import Agent, FixedClock, RunContext, override_sources
from agentkit.models import TestModel
from agentkit_testing import cassette, serialize_run

REPLAYS = 1000


def weather_agent() -> Agent[str, str]:
    agent: Agent[str, str] = Agent(TestModel(), deps_type=str, name="weather")

    @agent.tool
    async def forecast(ctx: RunContext[str], city: str, days: int) -> str:
        """The forecast for a city."""
        return f"{days} sunny days in {city} for {ctx.deps}"

    @agent.tool_plain
    def units() -> str:
        """The units in use."""
        return "metric"

    return agent


async def nodes_of(agent: Agent[str, str], prompt: str) -> list[Any]:
    async with agent.iter(prompt, deps="Anne") as run:
        return [node async for node in run]


def test_a_thousand_replays_give_byte_identical_node_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "weather.yaml"
    agent = weather_agent()
    with cassette(path, "once"):
        recorded = anyio.run(nodes_of, agent, "Weather in Oslo?")

    async def replay_many() -> set[tuple[str, str]]:
        snapshots: set[tuple[str, str]] = set()
        for _ in range(REPLAYS):
            nodes = await nodes_of(agent, "Weather in Oslo?")
            snapshots.add((repr(nodes), serialize_run(nodes)))
        return snapshots

    with cassette(path, allow_playback_repeats=True):
        snapshots = anyio.run(replay_many)
    assert snapshots == {(repr(recorded), serialize_run(recorded))}


@pytest.mark.parametrize("prompt", ["Weather in Oslo?", "Weather in Lima?"])
def test_asyncio_and_trio_record_the_same_nodes_and_the_same_file(tmp_path: Path, prompt: str) -> None:
    recordings: dict[str, tuple[str, bytes]] = {}
    for backend in ("asyncio", "trio"):
        path = tmp_path / f"{backend}.yaml"
        agent = weather_agent()
        with override_sources(clock=FixedClock()), cassette(path, "once"):
            nodes = anyio.run(nodes_of, agent, prompt, backend=backend)
        recordings[backend] = (repr(nodes), path.read_bytes())
    assert recordings["asyncio"] == recordings["trio"]


def test_asyncio_and_trio_replay_the_same_nodes(tmp_path: Path) -> None:
    path = tmp_path / "weather.yaml"
    with cassette(path, "once"):
        anyio.run(nodes_of, weather_agent(), "Weather in Oslo?")
    replays = []
    for backend in ("asyncio", "trio"):
        with cassette(path):
            replays.append(repr(anyio.run(nodes_of, weather_agent(), "Weather in Oslo?", backend=backend)))
    assert replays[0] == replays[1]
