"""Writes are atomic: an interrupted recording never leaves a half-written cassette nor loses the old one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit_testing._cassette import Cassette
from agentkit_testing._cassette_context import cassette
from agentkit_testing._cassette_io import atomic_write

DiceGame = Any  # tests/testing/conftest.py


@pytest.fixture
def previous(tmp_path: Path, repository: Path) -> Path:
    """A cassette file that is already there: the committed dice game."""
    path = tmp_path / "dice.yaml"
    path.write_bytes((repository / "cassettes" / "dice_game.yaml").read_bytes())
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(name.name for name in directory.iterdir() if name.name.endswith(".tmp"))


def test_interrupted_write_keeps_the_previous_file(previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = previous.read_bytes()

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(previous, b"format: agentkit-cassette\nversion: 1\nru")
    assert previous.read_bytes() == before
    assert leftovers(previous.parent) == []


def test_failed_rename_keeps_the_previous_file(previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = previous.read_bytes()

    def no_space(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space left"):
        Cassette.load(previous).save()
    assert previous.read_bytes() == before
    assert leftovers(previous.parent) == []


def test_file_mode_is_kept_and_new_files_are_readable(previous: Path, tmp_path: Path) -> None:
    previous.chmod(0o640)
    Cassette.load(previous).save()
    assert previous.stat().st_mode & 0o777 == 0o640
    Cassette.load(previous).save(tmp_path / "new" / "copy.yaml")
    assert (tmp_path / "new" / "copy.yaml").stat().st_mode & 0o777 == 0o644


@pytest.mark.anyio
async def test_block_interrupted_by_keyboard_interrupt_writes_nothing(
    previous: Path, dice_game: Callable[..., DiceGame]
) -> None:
    before = previous.read_bytes()
    game = dice_game()

    async def record_then_interrupt() -> None:
        with cassette(previous, "rewrite"):
            await game.agent.run("My guess is 4", deps="Anne")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await record_then_interrupt()
    assert previous.read_bytes() == before
    assert leftovers(previous.parent) == []


@pytest.mark.anyio
async def test_cancelled_block_writes_nothing(previous: Path, dice_game: Callable[..., DiceGame]) -> None:
    before = previous.read_bytes()
    game = dice_game()
    with anyio.CancelScope() as scope, cassette(previous, "rewrite"):
        await game.agent.run("My guess is 4", deps="Anne")
        scope.cancel()
        await anyio.sleep(1)
    assert scope.cancelled_caught
    assert previous.read_bytes() == before


@pytest.mark.anyio
async def test_block_failing_with_an_ordinary_error_still_saves_finished_runs(
    tmp_path: Path, dice_game: Callable[..., DiceGame]
) -> None:
    path = tmp_path / "failing_test.yaml"
    game = dice_game()

    async def record_then_fail() -> None:
        with cassette(path, "once"):
            await game.agent.run("My guess is 4", deps="Anne")
            raise AssertionError("the test failed after the run")

    with pytest.raises(AssertionError):
        await record_then_fail()
    (run,) = Cassette.load(path).runs
    assert run.user_prompt == "My guess is 4"


@pytest.mark.anyio
async def test_run_in_progress_when_saving_is_left_out(tmp_path: Path, dice_game: Callable[..., DiceGame]) -> None:
    path = tmp_path / "partial.yaml"
    game = dice_game()
    with cassette(path, "rewrite") as session:
        async with game.agent.iter("My guess is 4", deps="Anne") as agent_run:
            await agent_run.next(agent_run.next_node)
            session.cassette.save()
            assert Cassette.load(path).runs == ()
    assert len(Cassette.load(path).runs) == 1
