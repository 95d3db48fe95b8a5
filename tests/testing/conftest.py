"""Fixtures for the cassette tests: a dice-game agent with two tools, and the repository's paths."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentkit import Agent, RunContext
from agentkit.models import Model, TestModel

REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass
class DiceGame:
    """An agent with two tools, and what its tools were asked to do."""

    agent: Agent[str, str]
    roll: str = "4"
    calls: Counter[str] = field(default_factory=Counter)


@pytest.fixture
def dice_game() -> Callable[..., DiceGame]:
    """Makes a dice-game agent: `roll_die` returns `game.roll` (`sided`: it takes a `sides` argument),
    `get_player_name` returns the deps."""

    def make(
        model: Model | str | None = None,
        *,
        name: str = "dice_game",
        roll: str = "4",
        system_prompt: str = "You're a dice game.\nUse the player's name in the response.",
        sided: bool = False,
    ) -> DiceGame:
        agent: Agent[str, str] = Agent(
            model if model is not None else TestModel(), deps_type=str, system_prompt=system_prompt, name=name
        )
        game = DiceGame(agent, roll)

        if sided:

            @agent.tool_plain
            async def roll_die(sides: int = 6) -> str:
                """Roll a die with this many sides and return the result."""
                game.calls["roll_die"] += 1
                return game.roll

        else:

            @agent.tool_plain
            async def roll_die() -> str:
                """Roll a six-sided die and return the result."""
                game.calls["roll_die"] += 1
                return game.roll

        @agent.tool
        async def get_player_name(ctx: RunContext[str]) -> str:
            """Get the player's name."""
            game.calls["get_player_name"] += 1
            return ctx.deps

        return game

    return make


@pytest.fixture
def repository() -> Path:
    return REPOSITORY
