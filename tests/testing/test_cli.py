"""The `agentkit` command: `cassette show / diff / verify`, and `demo`."""

from __future__ import annotations

import dataclasses
import gc
import importlib.metadata
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentkit_testing import Cassette, CassetteFormatError, RecordedRun, _cli
from agentkit_testing._cassette._io import FileFormat
from agentkit_testing._cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def dice(repository: Path) -> Path:
    return repository / "cassettes" / "dice_game.yaml"


def test_console_script_is_declared() -> None:
    (script,) = [
        entry for entry in importlib.metadata.entry_points(group="console_scripts") if entry.name == "agentkit"
    ]
    assert script.value == "agentkit_testing._cli:main"


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "cassette" in result.output
    assert "demo" in result.output
    result = runner.invoke(main, ["cassette", "--help"])
    assert all(command in result.output for command in ("show", "diff", "verify"))


def test_show_prints_each_run_as_a_node_tree(runner: CliRunner, repository: Path) -> None:
    path = repository / "cassettes" / "seed_iter.yaml"
    result = runner.invoke(main, ["cassette", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{path}: agentkit cassette version 1, 1 run, 1 request, 0 tool calls\n"
        "\n"
        "run-1  agent 'agent'  model openai:gpt-4o  prompt 'What is the capital of France?'\n"
        "├─ 0 ModelRequestNode\n"
        "│     user prompt: 'What is the capital of France?'\n"
        "│     tools: (none)\n"
        "├─ 1 CallToolsNode  response from gpt-4o (56 tokens in, 1 out)\n"
        "│     text: 'Paris'\n"
        "└─ 2 End  data='Paris'\n"
    )


def test_show_includes_tool_calls_and_their_returns(runner: CliRunner, dice: Path) -> None:
    result = runner.invoke(main, ["cassette", "show", str(dice)])
    assert result.exit_code == 0, result.output
    assert "│     call roll_die({})\n" in result.output  # no id: the model gave none
    assert "│     → roll_die returned '4' (external: not called on replay)\n" in result.output
    assert "│     → get_player_name returned 'Anne'\n" in result.output
    assert '└─ 4 End  data="You rolled a 4, Anne. Your guess was right: you\'re a winner!"\n' in result.output


def test_diff_of_a_cassette_with_itself_is_empty(runner: CliRunner, dice: Path) -> None:
    result = runner.invoke(main, ["cassette", "diff", str(dice), str(dice)])
    assert (result.exit_code, result.output) == (0, f"no differences between {dice} and {dice}\n")


def test_diff_shows_what_changed_between_recordings(runner: CliRunner, dice: Path, tmp_path: Path) -> None:
    changed = tmp_path / "dice_game.yaml"
    changed.write_text(
        dice.read_text()
        .replace("Your guess was right: you''re a winner!", "You win!")
        .replace("2025-03-15T12:00:00Z", "2025-04-01T09:30:00Z")
    )
    result = runner.invoke(main, ["cassette", "diff", str(dice), str(changed)])
    assert result.exit_code == 1
    assert result.output.startswith(
        "run run-1 (agent 'dice_game', model openai:gpt-4o, prompt 'My guess is 4') changed:\n"
    )
    assert "-  data: 'You rolled a 4, Anne. Your guess was right: you''re a winner!'\n" in result.output
    assert "+  data: You rolled a 4, Anne. You win!\n" in result.output
    assert "+      content: You rolled a 4, Anne. You win!\n" in result.output
    assert "2025-04-01" not in result.output
    exact = runner.invoke(main, ["cassette", "diff", "--exact", str(dice), str(changed)])
    assert "+    timestamp: '2025-04-01T09:30:00Z'\n" in exact.output


def test_diff_reports_runs_found_in_only_one_file(runner: CliRunner, repository: Path) -> None:
    seed = repository / "cassettes" / "seed_iter.yaml"
    dice = repository / "cassettes" / "dice_game.yaml"
    result = runner.invoke(main, ["cassette", "diff", str(seed), str(dice)])
    assert result.exit_code == 1
    assert f"only in {seed}: run run-1 (agent 'agent'" in result.output
    assert f"only in {dice}: run run-1 (agent 'dice_game'" in result.output


def test_verify_accepts_good_cassettes(runner: CliRunner, repository: Path) -> None:
    files = sorted((repository / "cassettes").glob("*.yaml"))
    result = runner.invoke(main, ["cassette", "verify", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok   ") == len(files) >= 3
    assert f"ok   {repository / 'cassettes' / 'dice_game.yaml'}: agentkit cassette version 1, 1 run, 2 requests" in (
        result.output
    )


def test_verify_names_the_file_and_line_of_a_problem(runner: CliRunner, dice: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(dice.read_text().replace("version: 1", "version: 3"))
    result = runner.invoke(main, ["cassette", "verify", str(dice), str(broken)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"ok   {dice}")
    assert result.stderr.startswith(f"FAIL {broken}:7: invalid cassette field version: unsupported cassette version 3")


def test_show_of_a_corrupt_file_is_an_error_not_a_traceback(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: agentkit-cassette\nversion: 1\nruns: [\n")
    result = runner.invoke(main, ["cassette", "show", str(broken)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {broken}:4: cassette is not valid YAML")


def test_demo_runs_the_demo_agent(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "ModelRequestNode(" in result.output
    assert "End(data=FinalResult(" in result.output


def test_view_into_a_missing_folder_says_so_without_a_traceback(runner: CliRunner, dice: Path, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "page.html"
    result = runner.invoke(main, ["cassette", "view", str(dice), "-o", str(target)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"cannot write the page to {target}" in result.output
    assert "folder" in result.output


@pytest.mark.parametrize("command", ["fork", "check"])
def test_an_agent_option_naming_something_else_is_a_usage_error(runner: CliRunner, dice: Path, command: str) -> None:
    # `roll_die` is the example's tool function: it failed with a traceback (AttributeError: 'function'
    # object has no attribute 'name')
    arguments = ["--run", "run-1", "--at-node", "2"] if command == "fork" else []
    result = runner.invoke(
        main, ["cassette", command, str(dice), *arguments, "--agent", "examples.cassette_dice_game:roll_die"]
    )
    assert result.exit_code == 2
    assert "'examples.cassette_dice_game:roll_die' is a function, not an agentkit Agent" in result.output


def many_runs(dice: Path, tmp_path: Path, count: int) -> Path:
    path = tmp_path / "many.yaml"
    (run,) = Cassette.load(dice).runs
    Cassette(path, [dataclasses.replace(run, id=f"run-{index + 1}") for index in range(count)]).save()
    return path


@pytest.mark.parametrize("command", ["show", "verify"])
def test_show_and_verify_hold_one_decoded_run_at_a_time(
    runner: CliRunner, dice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    path = many_runs(dice, tmp_path, 6)
    given: list[weakref.ref[RecordedRun]] = []
    each_run = _cli.each_checked_run

    def watched(file: Path, file_format: FileFormat) -> Iterator[RecordedRun]:
        for run in each_run(file, file_format):
            gc.collect()
            assert [ref() for ref in given[:-1]] == [None] * len(given[:-1]), "earlier runs are still alive"
            given.append(weakref.ref(run))
            yield run

    monkeypatch.setattr(_cli, "each_checked_run", watched)
    result = runner.invoke(main, ["cassette", command, str(path)])
    assert result.exit_code == 0, result.output
    assert len(given) == 6
    assert "6 runs, 12 requests" in result.output
    if command == "show":
        assert result.output.count("\nrun-") == 6


def test_show_and_verify_refuse_a_bad_last_run_with_the_error_of_a_load(
    runner: CliRunner, dice: Path, tmp_path: Path
) -> None:
    path = many_runs(dice, tmp_path, 30)
    text = path.read_text()
    last = text.index("- id: run-30")
    path.write_text(text[:last] + text[last:].replace("usage: {", "usage: {requests: many, ", 1))
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert "runs[29]" in str(raised.value)
    verified = runner.invoke(main, ["cassette", "verify", str(path)])
    assert verified.exit_code == 1
    assert verified.stdout == ""
    assert verified.stderr == f"FAIL {raised.value}\n"
    shown = runner.invoke(main, ["cassette", "show", str(path)])
    assert shown.exit_code == 1
    assert shown.stdout == ""
    assert shown.stderr == f"Error: {raised.value}\n"
