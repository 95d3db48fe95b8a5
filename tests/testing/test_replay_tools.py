"""Tools run for real on replay and their returns are checked; external tools are served from the recording."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, ModelRetry, RetryPromptPart
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteDivergence, UnrecordedRequest
from agentkit_testing._matching import Matching

pytestmark = pytest.mark.anyio
DiceGame = Any  # tests/testing/conftest.py


async def record(game: DiceGame, path: Path, **options: Any) -> str:
    with cassette(path, "rewrite", **options):
        return str((await game.agent.run("My guess is 4", deps="Anne")).data)


async def test_tools_run_for_real_on_replay(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    recorded = await record(game, path)
    with cassette(path):
        assert (await game.agent.run("My guess is 4", deps="Anne")).data == recorded
    assert game.calls == {"roll_die": 2, "get_player_name": 2}


async def test_a_changed_tool_return_is_a_divergence_at_its_node(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    await record(game, path)
    game.roll = "6"
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await game.agent.run("My guess is 4", deps="Anne")
    error = raised.value
    assert (error.run_id, error.node_index, error.field) == ("run-1", 1, "tool_return")
    message = str(error)
    assert message.startswith(
        f"Replay of {path} diverged in run 'run-1' (agent 'dice_game', model test:test, prompt 'My guess is 4') "
        "at node 1 (CallToolsNode, tool 'roll_die', tool_call_id="
    )
    assert "the tool return of 'roll_die' differs from the recording." in message
    assert "-content: '4'\n" in error.diff
    assert "+content: '6'\n" in error.diff
    assert "expected (recorded):\n    part_kind: tool-return\n    tool_name: roll_die\n    content: '4'\n" in message


async def test_external_tools_are_not_called_and_their_recorded_return_is_used(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    recorded = await record(game, path, external_tools=["roll_die"])
    assert game.calls["roll_die"] == 1
    game.roll = "6"
    for options in ({}, {"external_tools": ["roll_die"]}):
        with cassette(path, **options):  # type: ignore[arg-type]
            assert (await game.agent.run("My guess is 4", deps="Anne")).data == recorded
    assert game.calls == {"roll_die": 1, "get_player_name": 3}


async def test_a_tool_can_be_made_external_at_replay_time(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    recorded = await record(game, path)
    game.roll = "6"
    with cassette(path, external_tools=["roll_die"]):
        assert (await game.agent.run("My guess is 4", deps="Anne")).data == recorded
    assert game.calls["roll_die"] == 1


async def test_an_external_tool_without_a_recorded_return_is_never_called(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    await record(game, path)
    (run,) = Cassette.load(path).runs
    without_calls = Cassette(None, [dataclasses.replace(run, tool_calls=())])
    with pytest.raises(UnrecordedRequest) as raised, cassette(without_calls, external_tools=["roll_die"]):
        await game.agent.run("My guess is 4", deps="Anne")
    assert "has no recorded return for the call of external tool 'roll_die'" in str(raised.value)
    assert "at node 1" in str(raised.value)
    assert game.calls["roll_die"] == 1


async def test_tool_returns_can_be_left_out_of_matching(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    recorded = await record(game, path)
    game.roll = "6"
    with cassette(path, matching=Matching(ignore={"tool_return"})):
        assert (await game.agent.run("My guess is 4", deps="Anne")).data == recorded
    assert game.calls["roll_die"] == 2


async def test_a_tool_asking_for_a_retry_replays(tmp_path: Path) -> None:
    attempts: list[int] = []
    agent = Agent(TestModel(), name="picky", retries=2)

    @agent.tool_plain
    def pick(number: int) -> str:
        """Pick a number."""
        attempts.append(number)
        if len(attempts) % 2:
            raise ModelRetry("try another number")
        return f"picked {number}"

    path = tmp_path / "retry.yaml"
    with cassette(path, "once"):
        recorded = await agent.run("Pick one")
    (run,) = Cassette.load(path).runs
    assert isinstance(run.tool_calls[0].result, RetryPromptPart)
    assert run.tool_calls[0].result.content == "try another number"
    with cassette(path):
        replayed = await agent.run("Pick one")
    assert replayed.all_messages() == recorded.all_messages()
    assert len(attempts) == 4
