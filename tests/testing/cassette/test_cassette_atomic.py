"""Writes are atomic: an interrupted recording never leaves a half-written cassette nor loses the old one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._write import atomic_write

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
            first_request = await agent_run.next(agent_run.next_node)  # past the UserPromptNode
            await agent_run.next(first_request)
            session.cassette.save()
            assert Cassette.load(path).runs == ()
    assert len(Cassette.load(path).runs) == 1


# --- temp files: private while written, swept when their writer died -------------------------------


def backdate(path: Path, seconds: float = 600) -> None:
    """Make `path` look as old as a temp file left by a writer killed `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_temp_file_is_private_while_it_is_written(previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []
    real_fsync = os.fsync

    def inspect(descriptor: int) -> None:
        modes.extend((previous.parent / name).stat().st_mode & 0o777 for name in leftovers(previous.parent))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", inspect)
    atomic_write(previous, previous.read_bytes())
    assert modes == [0o600]


def test_new_file_gets_the_mode_the_umask_allows(tmp_path: Path) -> None:
    previous_umask = os.umask(0o077)
    try:
        atomic_write(tmp_path / "private.yaml", b"format: agentkit-cassette\n")
        os.umask(0o002)
        atomic_write(tmp_path / "shared.yaml", b"format: agentkit-cassette\n")
    finally:
        os.umask(previous_umask)
    assert (tmp_path / "private.yaml").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "shared.yaml").stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize("random_part", ["0123456789abcdef", "ab_cd123"], ids=["current", "mkstemp"])
def test_temp_file_left_by_a_killed_writer_is_removed_by_the_next_save(previous: Path, random_part: str) -> None:
    stale = previous.parent / f".{previous.name}.{random_part}.tmp"
    stale.write_bytes(b"format: agentkit-cassette\nversion: 1\nru")
    backdate(stale)
    Cassette.load(previous).save()
    assert leftovers(previous.parent) == []
    assert Cassette.load(previous).runs


def test_sweeping_leaves_other_files_alone(previous: Path) -> None:
    directory = previous.parent
    others = [
        ".other.yaml.0123456789abcdef.tmp",  # another cassette's temp file
        f".{previous.name}.backup.tmp",  # not a name atomic_write makes
        f"{previous.name}.0123456789abcdef.tmp",
        f".{previous.name}.0123456789abcdef.tmp.keep",
    ]
    for name in others:
        (directory / name).write_bytes(b"mine")
        backdate(directory / name)
    Cassette.load(previous).save()
    assert sorted(path.name for path in directory.iterdir() if path.name in others) == sorted(others)


def test_young_temp_file_is_left_for_its_writer(previous: Path) -> None:
    fresh = previous.parent / f".{previous.name}.0123456789abcdef.tmp"
    fresh.write_bytes(b"being written")
    Cassette.load(previous).save()
    assert fresh.exists()


def test_temp_file_locked_by_a_live_writer_is_kept(previous: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    busy = previous.parent / f".{previous.name}.0123456789abcdef.tmp"
    busy.write_bytes(b"being written")
    backdate(busy)
    with busy.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        Cassette.load(previous).save()
        assert busy.exists()
    Cassette.load(previous).save()
    assert not busy.exists()


WRITER = """
import os, sys, time
from pathlib import Path
from agentkit_testing._cassette._write import atomic_write

def stall(descriptor):
    print("writing", flush=True)
    time.sleep(600)

os.fsync = stall
atomic_write(Path(sys.argv[1]), b"format: agentkit-cassette\\nversion: 1\\nruns: []\\n")
"""


def test_writer_killed_mid_write_leaves_a_private_temp_file_that_the_next_save_removes(previous: Path) -> None:
    pytest.importorskip("fcntl")
    before = previous.read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(previous)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        (name,) = leftovers(previous.parent)
        temporary = previous.parent / name
        assert temporary.stat().st_mode & 0o777 == 0o600
        backdate(temporary)
        Cassette.load(previous).save()
        assert temporary.exists(), "the writer is alive and holds its temp file: it must be kept"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()
    assert previous.read_bytes() == before
    assert temporary.exists()
    Cassette.load(previous).save()
    assert leftovers(previous.parent) == []


@pytest.mark.anyio
async def test_a_symlinked_cassette_keeps_its_link_and_its_file_gets_the_new_runs(
    previous: Path, tmp_path: Path, dice_game: Callable[..., DiceGame]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "dice.yaml"
    previous.rename(target)
    link = tmp_path / "linked.yaml"
    link.symlink_to(target)
    with cassette(link, "all"):
        await dice_game(roll="6").agent.run("Roll again", deps="Anne")
    assert link.is_symlink()
    assert link.resolve() == target
    assert "Roll again" in target.read_text()
    assert leftovers(tmp_path) == []
    assert leftovers(shared) == []
