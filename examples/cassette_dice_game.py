"""A dice game agent with two tools, replayed from `cassettes/dice_game.yaml`.

`roll_die` is random, so it is declared external: on replay it is not called and the recorded
roll is used. `get_player_name` is plain code under test: it runs for real on replay and its
return is compared with the recording. Run from the repository root:
`python examples/cassette_dice_game.py`.
"""

from __future__ import annotations

import random

import agentkit_testing
from agentkit import Agent, RunContext

agent = Agent(
    "openai:gpt-4o",
    deps_type=str,
    system_prompt=(
        "You're a dice game, you should roll the die and see if the number you get back matches "
        "the user's guess. If so, tell them they're a winner.\nUse the player's name in the response."
    ),
    name="dice_game",
)


@agent.tool_plain
def roll_die() -> str:
    """Roll a six-sided die and return the result."""
    return str(random.randint(1, 6))


@agent.tool
def get_player_name(ctx: RunContext[str]) -> str:
    """Get the player's name."""
    return ctx.deps


def main() -> None:
    with agentkit_testing.cassette("cassettes/dice_game.yaml", external_tools=["roll_die"]):
        result = agent.run_sync("My guess is 4", deps="Anne")
    print(result.data)
    # > You rolled a 4, Anne. Your guess was right: you're a winner!


if __name__ == "__main__":
    main()
