"""A replaying `cassette()` block fails when recorded runs were never played: the code stopped calling the agent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteError, UnplayedRuns
from agentkit_testing._matching import Matching
from agentkit_testing._recorder import RecordingModel
from agentkit_testing._replay import ReplayModel

pytestmark = pytest.mark.anyio
DiceGame = Any  # tests/testing/conftest.py


@pytest.fixture
async def two_runs(dice_game: Callable[..., DiceGame], tmp_path: Path) -> Path:
    """A cassette of two dice-game runs: Anne guesses 4, then Bob guesses 6."""
    path = tmp_path / "dice.yaml"
    game = dice_game()
    with cassette(path, "once"):
        await game.agent.run("Anne guesses 4", deps="Anne")
        await game.agent.run("Bob guesses 6", deps="Bob")
    return path


async def test_block_that_plays_fewer_runs_than_recorded_fails_naming_the_unplayed_run(
    two_runs: Path, dice_game: Callable[..., DiceGame]
) -> None:
    with pytest.raises(UnplayedRuns) as raised, cassette(two_runs):
        await dice_game().agent.run("Anne guesses 4", deps="Anne")
    error = raised.value
    assert isinstance(error, CassetteError)
    assert error.path == two_runs
    assert error.run_ids == ("run-2",)
    message = str(error)
    assert str(two_runs) in message
    assert "1 of the 2 recorded runs was never played" in message
    assert "run 'run-2' (agent 'dice_game', model test:test, prompt 'Bob guesses 6')" in message
    assert "run-1" not in message
    assert "Matching(allow_unplayed_runs=True)" in message
    assert "record the cassette again (pass record_mode='rewrite' to cassette())" in message


async def test_block_that_plays_no_run_fails_naming_every_recorded_run(two_runs: Path) -> None:
    with pytest.raises(UnplayedRuns) as raised, cassette(two_runs):
        pass
    assert raised.value.run_ids == ("run-1", "run-2")


async def test_unplayed_runs_are_allowed_by_the_matching_option(
    two_runs: Path, dice_game: Callable[..., DiceGame]
) -> None:
    with cassette(two_runs, matching=Matching(allow_unplayed_runs=True)) as session:
        await dice_game().agent.run("Anne guesses 4", deps="Anne")
    assert [run.id for run in session.unplayed_runs] == ["run-2"]


async def test_a_block_exiting_with_an_error_keeps_its_error(two_runs: Path) -> None:
    with pytest.raises(KeyError, match="the real error"), cassette(two_runs):
        raise KeyError("the real error")


async def test_once_mode_on_an_existing_cassette_checks_unplayed_runs(two_runs: Path) -> None:
    with pytest.raises(UnplayedRuns), cassette(two_runs, "once"):
        pass


async def test_new_episodes_records_without_checking_and_the_next_replay_fails(
    two_runs: Path, dice_game: Callable[..., DiceGame]
) -> None:
    with cassette(two_runs, "new_episodes") as session:
        await dice_game().agent.run("Chloe guesses 2", deps="Chloe")
    assert [run.id for run in session.unplayed_runs] == ["run-1", "run-2"]
    assert [run.user_prompt for run in Cassette.load(two_runs).runs] == [
        "Anne guesses 4",
        "Bob guesses 6",
        "Chloe guesses 2",
    ]
    with pytest.raises(UnplayedRuns) as raised, cassette(two_runs):
        await dice_game().agent.run("Chloe guesses 2", deps="Chloe")
    assert raised.value.run_ids == ("run-1", "run-2")


async def test_a_labelled_block_answers_only_for_runs_with_its_label(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "shared.yaml"
    game = dice_game()
    with cassette(path, "new_episodes", label="test_anne"):
        await game.agent.run("Anne guesses 4", deps="Anne")
    with cassette(path, "new_episodes", label="test_bob"):
        await game.agent.run("Bob guesses 6", deps="Bob")
    with cassette(path, label="test_anne") as session:
        await game.agent.run("Anne guesses 4", deps="Anne")
    assert [run.id for run in session.unplayed_runs] == ["run-2"]
    with pytest.raises(UnplayedRuns) as raised, cassette(path, label="test_bob"):
        pass
    assert raised.value.run_ids == ("run-2",)


@pytest.mark.parametrize("mode", ["all", "rewrite"])
async def test_recording_only_modes_never_check_unplayed_runs(
    two_runs: Path, dice_game: Callable[..., DiceGame], mode: Any
) -> None:
    with cassette(two_runs, mode) as session:
        await dice_game().agent.run("Anne guesses 4", deps="Anne")
    assert session.unplayed_runs == []


async def test_every_run_played_passes(two_runs: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game()
    with cassette(two_runs) as session:
        await game.agent.run("Anne guesses 4", deps="Anne")
        await game.agent.run("Bob guesses 6", deps="Bob")
    assert session.unplayed_runs == []


async def test_unplayed_check_names_at_most_a_few_runs_and_counts_the_rest(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "many.yaml"
    game = dice_game()
    with cassette(path, "once"):
        for player in range(12):
            await game.agent.run(f"Player {player} guesses 4", deps=str(player))
    with pytest.raises(UnplayedRuns) as raised, cassette(path):
        pass
    message = str(raised.value)
    assert len(raised.value.run_ids) == 12
    assert "run 'run-10'" in message
    assert "run 'run-11'" not in message
    assert "... and 2 more" in message


async def test_a_replay_model_on_its_own_lists_the_runs_it_did_not_replay(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    recording = Cassette(tmp_path / "explicit.yaml")
    for player in ("Anne", "Bob"):
        await game.agent.run(f"{player} guesses 4", deps=player, model=RecordingModel(TestModel(), recording))
    replay = ReplayModel(recording)
    assert [run.user_prompt for run in replay.unplayed_runs] == ["Anne guesses 4", "Bob guesses 4"]
    await game.agent.run("Anne guesses 4", deps="Anne", model=replay)
    assert [run.user_prompt for run in replay.unplayed_runs] == ["Bob guesses 4"]
