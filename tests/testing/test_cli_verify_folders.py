"""`agentkit cassette verify FOLDER` checks every cassette under the folder, found as `check` finds them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentkit_testing import _cli
from agentkit_testing._cli import main

HTTP_CASSETTE = "interactions:\n- request: {method: POST, uri: 'http://127.0.0.1/v1/chat/completions'}\nversion: 1\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def folder(repository: Path, tmp_path: Path) -> Path:
    """Two agentkit cassettes, one in a subfolder, beside an HTTP cassette of vcrpy's and a text file."""
    root = tmp_path / "cassettes"
    (root / "nested").mkdir(parents=True)
    shutil.copy(repository / "cassettes" / "dice_game.yaml", root / "dice_game.yaml")
    shutil.copy(repository / "cassettes" / "seed_iter.yaml", root / "nested" / "seed_iter.yaml")
    (root / "nested" / "http.yaml").write_text(HTTP_CASSETTE)
    (root / "notes.txt").write_text("format: agentkit-cassette, but not a cassette file name\n")
    return root


def test_verify_checks_every_cassette_under_a_folder_and_says_what_it_skipped(runner: CliRunner, folder: Path) -> None:
    result = runner.invoke(main, ["cassette", "verify", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"skip {folder}: 1 file(s) that are not agentkit cassettes (such as {folder / 'nested' / 'http.yaml'}: no "
        "'agentkit-cassette' in its first 4096 bytes); name a file to verify it whatever it holds",
        f"ok   {folder / 'dice_game.yaml'}: agentkit cassette version 1, 1 run, 2 requests, 2 tool calls",
        f"ok   {folder / 'nested' / 'seed_iter.yaml'}: agentkit cassette version 1, 1 run, 1 request, 0 tool calls",
    ]


def test_verify_finds_the_files_check_finds(runner: CliRunner, repository: Path) -> None:
    cassettes = repository / "cassettes"
    expected = sorted(
        file
        for pattern in ("*.yaml", "*.yml", "*.json")
        for file in cassettes.rglob(pattern)
        if b"agentkit-cassette" in file.read_bytes()[:4096]
    )
    result = runner.invoke(main, ["cassette", "verify", str(cassettes)])
    assert result.exit_code == 0, result.output
    verified = [Path(line[len("ok   ") :].partition(": ")[0]) for line in result.stdout.splitlines()]
    assert verified == expected == _cli._cassette_files(cassettes)
    assert len(expected) >= 5


def test_a_broken_cassette_in_a_folder_fails_naming_its_file_and_line(runner: CliRunner, folder: Path) -> None:
    broken = folder / "nested" / "broken.yaml"
    broken.write_text((folder / "dice_game.yaml").read_text().replace("version: 1", "version: 3"))
    result = runner.invoke(main, ["cassette", "verify", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"FAIL {broken}:7: invalid cassette field version: unsupported cassette version 3")
    assert result.stdout.count("\nok   ") == 2


@pytest.mark.parametrize("content", [None, HTTP_CASSETTE], ids=["empty", "http-cassette-only"])
def test_a_folder_without_cassettes_fails_saying_so_and_how_to_check_a_file(
    runner: CliRunner, tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / "http.yaml").write_text(content)
    result = runner.invoke(main, ["cassette", "verify", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"FAIL {tmp_path}: no agentkit cassette under this folder (")
    if content is None:
        assert "(no .yaml, .yml or .json file)" in result.stderr
    else:
        assert "name a file to verify it whatever it holds" in result.stderr
        named = runner.invoke(main, ["cassette", "verify", str(tmp_path / "http.yaml")])
        assert named.exit_code == 1
        assert named.stderr.startswith(f"FAIL {tmp_path / 'http.yaml'}")


def test_a_cassette_named_and_found_in_its_folder_is_verified_once(runner: CliRunner, folder: Path) -> None:
    dice = folder / "dice_game.yaml"
    result = runner.invoke(main, ["cassette", "verify", str(dice), str(folder), str(dice)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(f"ok   {dice}:") == 1
    assert result.stdout.count("ok   ") == 2


def test_an_unreadable_cassette_in_a_folder_fails_by_path_and_a_folder_named_like_one_is_passed_over(
    runner: CliRunner, folder: Path
) -> None:
    (folder / "folder.yaml").mkdir()
    gone = folder / "gone.yaml"
    gone.symlink_to(folder / "moved-away.yaml")
    result = runner.invoke(main, ["cassette", "verify", str(folder)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"FAIL {gone}: cannot read the cassette (No such file or directory); check the path and its permissions\n"
    )
    assert result.stdout.count("ok   ") == 2
    assert "folder.yaml" not in result.output
