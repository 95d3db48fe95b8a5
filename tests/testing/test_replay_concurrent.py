"""Concurrent runs in one cassette block replay correctly whatever order they arrive in."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit import Agent, ModelResponse, TextPart
from agentkit.models import FunctionModel, TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette

pytestmark = pytest.mark.anyio


def make_agents(delays: dict[str, float]) -> dict[str, Agent[None, str]]:
    """Three agents whose tools sleep, so their runs interleave."""
    weather = Agent(TestModel(), name="weather", system_prompt="Forecasts.")
    translator = Agent(TestModel(custom_result_text="Bonjour"), name="translator")
    calculator = Agent(TestModel(), name="calculator")

    @weather.tool_plain
    async def forecast(city: str) -> str:
        """The forecast for a city."""
        await anyio.sleep(delays["weather"])
        return f"rain in {city}"

    @calculator.tool_plain
    async def add(a: int, b: int) -> int:
        """Add two numbers."""
        await anyio.sleep(delays["calculator"])
        return a + b

    return {"weather": weather, "translator": translator, "calculator": calculator}


PROMPTS = {"weather": "Weather in Paris?", "translator": "Translate 'hello'", "calculator": "What is 2 + 3?"}


async def run_all(agents: dict[str, Agent[None, str]], order: list[str], pauses: dict[str, float]) -> dict[str, Any]:
    results: dict[str, Any] = {}

    async def run(name: str) -> None:
        await anyio.sleep(pauses[name])
        async with agents[name].iter(PROMPTS[name]) as agent_run:
            nodes = [node async for node in agent_run]
        results[name] = (nodes, agent_run.result.data if agent_run.result else None)

    async with anyio.create_task_group() as group:
        for name in order:
            group.start_soon(run, name)
    return results


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_three_agents_in_a_task_group_replay_in_any_arrival_order(seed: int, tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    names = list(PROMPTS)
    with cassette(path, "once"):
        recorded = await run_all(make_agents({"weather": 0.002, "calculator": 0.001}), names, dict.fromkeys(names, 0.0))
    assert sorted(run.agent or "" for run in Cassette.load(path).runs) == sorted(names)

    shuffled = random.Random(seed)
    order = names[:]
    shuffled.shuffle(order)
    pauses = {name: shuffled.choice([0.0, 0.001, 0.003]) for name in names}
    delays = {"weather": shuffled.choice([0.0, 0.004]), "calculator": shuffled.choice([0.0, 0.004])}
    with cassette(path) as session:
        replayed = await run_all(make_agents(delays), list(reversed(order)), pauses)
    assert replayed == recorded
    assert session.unplayed_runs == []


async def test_equal_runs_started_together_each_get_one_recording(tmp_path: Path) -> None:
    answers = iter(["one", "two", "three"])
    agent = Agent(
        FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart(next(answers))]), model_name="counter"),
        name="counter",
    )
    path = tmp_path / "equal.yaml"
    with cassette(path, "once"):
        for _ in range(3):
            await agent.run("count")
    results: list[str] = []

    async def run() -> None:
        results.append((await agent.run("count")).data)

    with cassette(path):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(run)
    assert sorted(results) == ["one", "three", "two"]


async def test_one_agent_with_different_prompts_concurrently(dice_game: Callable[..., Any], tmp_path: Path) -> None:
    game = dice_game()
    path = tmp_path / "players.yaml"
    players = ["Anne", "Bob", "Chloe", "Dmitri"]

    async def play(results: dict[str, str], player: str) -> None:
        results[player] = (await game.agent.run(f"{player} guesses 4", deps=player)).data

    recorded: dict[str, str] = {}
    with cassette(path, "once"):
        async with anyio.create_task_group() as group:
            for player in players:
                group.start_soon(play, recorded, player)
    replayed: dict[str, str] = {}
    with cassette(path):
        async with anyio.create_task_group() as group:
            for player in reversed(players):
                group.start_soon(play, replayed, player)
    assert replayed == recorded
    assert all(player in recorded[player] for player in players)
