"""Cassettes are untrusted input: anything wrong fails with one clear error naming the file and the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import AgentkitError
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteError, CassetteFormatError


@pytest.fixture
def dice_text(repository: Path) -> str:
    return (repository / "cassettes" / "dice_game.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_committed_cassette_loads(repository: Path) -> None:
    (run,) = Cassette.load(repository / "cassettes" / "dice_game.yaml").runs
    assert run.agent == "dice_game"


def test_format_error_is_a_cassette_error_an_agentkit_error_and_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(write(tmp_path, "[1, 2]\n"))
    assert isinstance(raised.value, CassetteError)
    assert isinstance(raised.value, AgentkitError)
    assert isinstance(raised.value, ValueError)
    assert raised.value.path == tmp_path / "broken.yaml"
    assert f"{tmp_path / 'broken.yaml'}:1: a cassette must be a mapping" in str(raised.value)


def test_invalid_yaml_names_file_and_line(tmp_path: Path, dice_text: str) -> None:
    broken = dice_text.replace("    tools: [roll_die, get_player_name]\n", "    tools: [roll_die, get_player_name\n", 1)
    path = write(tmp_path, broken)
    with pytest.raises(CassetteFormatError, match="is not valid YAML") as raised:
        Cassette.load(path)
    assert raised.value.line is not None
    assert abs(raised.value.line - line_of(broken, "tools: [roll_die, get_player_name\n")) <= 2
    assert str(raised.value).startswith(f"{path}:{raised.value.line}: ")


def test_every_truncation_of_a_cassette_fails_clearly(tmp_path: Path, dice_text: str) -> None:
    data = dice_text.encode()
    for cut in range(0, len(data) - 1, 53):
        path = write(tmp_path, "", f"cut_{cut}.yaml")
        path.write_bytes(data[:cut])
        with pytest.raises(CassetteFormatError) as raised:
            Cassette.load(path)
        message = str(raised.value)
        assert message.startswith(str(path)), message
        assert raised.value.line is not None or "empty" in message, message


def test_truncation_between_runs_is_caught_by_the_end_marker(tmp_path: Path, dice_text: str) -> None:
    path = write(tmp_path, dice_text.replace("end_of_cassette: true\n", ""))
    with pytest.raises(CassetteFormatError, match="truncated") as raised:
        Cassette.load(path)
    assert raised.value.field == "end_of_cassette"
    assert raised.value.line == dice_text.count("\n") - 1


def test_newer_version_names_the_version_field(tmp_path: Path, dice_text: str) -> None:
    path = write(tmp_path, dice_text.replace("version: 1\n", "version: 2\n"))
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    line = line_of(dice_text, "version: 1")
    assert str(raised.value) == (
        f"{path}:{line}: invalid cassette field version: unsupported cassette version 2 (written by a newer "
        "agentkit: upgrade agentkit to read it); this agentkit reads version 1"
    )
    assert (raised.value.line, raised.value.field) == (line, "version")


def test_missing_version_and_foreign_format_are_refused(tmp_path: Path, dice_text: str) -> None:
    with pytest.raises(CassetteFormatError, match="'version' must be an integer, got None"):
        Cassette.load(write(tmp_path, dice_text.replace("version: 1\n", "")))
    with pytest.raises(CassetteFormatError, match="not an agentkit cassette: 'format' must be 'agentkit-cassette'"):
        Cassette.load(write(tmp_path, dice_text.replace("format: agentkit-cassette", "format: vcr")))


def test_field_of_the_wrong_type_names_its_path_and_line(tmp_path: Path, dice_text: str) -> None:
    broken = dice_text.replace("  - node: 2\n", "  - node: two\n", 1)
    path = write(tmp_path, broken)
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert raised.value.field == "runs[0].requests[1].node"
    assert raised.value.line == line_of(broken, "node: two")
    assert "got 'two'" in str(raised.value)


def test_field_inside_a_request_part_is_located(tmp_path: Path, dice_text: str) -> None:
    broken = dice_text.replace("      timestamp: '2025-03-15T12:00:00Z'\n", "      timestamp: last tuesday\n", 1)
    path = write(tmp_path, broken)
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert raised.value.field == "runs[0].requests[0].request[1].timestamp"
    assert raised.value.line == line_of(broken, "timestamp: last tuesday")


def test_missing_field_is_named(tmp_path: Path, dice_text: str) -> None:
    broken = dice_text.replace("  model: openai:gpt-4o\n", "", 1)
    path = write(tmp_path, broken)
    with pytest.raises(CassetteFormatError, match=r"invalid cassette field runs\[0\]\.model: missing field 'model'"):
        Cassette.load(path)


def test_unknown_tool_id_is_named(tmp_path: Path, dice_text: str) -> None:
    broken = dice_text.replace("tools: [roll_die, get_player_name]", "tools: [roll_die, ghost]", 1)
    path = write(tmp_path, broken)
    with pytest.raises(CassetteFormatError, match="unknown tool id 'ghost'") as raised:
        Cassette.load(path)
    assert raised.value.field == "runs[0].requests[0].tools[1]"
    assert raised.value.line == line_of(broken, "tools: [roll_die, ghost]")


def test_duplicate_run_ids_are_refused(tmp_path: Path, dice_text: str) -> None:
    runs = dice_text[dice_text.index("- id: run-1") : dice_text.index("end_of_cassette")]
    path = write(tmp_path, dice_text.replace("end_of_cassette", runs + "end_of_cassette"))
    with pytest.raises(CassetteFormatError, match=r"duplicate run id 'run-1' \(also runs\[0\]\)") as raised:
        Cassette.load(path)
    assert raised.value.field == "runs[1].id"


@pytest.mark.parametrize(
    "value",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        "!!python/object/new:os.system {{args: [touch {marker}]}}",
        "!!python/name:os.system ''",
    ],
)
def test_python_tags_are_never_executed(tmp_path: Path, dice_text: str, value: str) -> None:
    marker = tmp_path / "pwned"
    hostile = dice_text.replace("user_prompt: My guess is 4", "user_prompt: " + value.format(marker=marker), 1)
    path = write(tmp_path, hostile)
    tag = value.split()[0]
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    line = line_of(hostile, "user_prompt: !!python")
    assert str(raised.value) == (
        f"{path}:{line}: in runs[0].user_prompt: tag {tag!r} refused: cassettes are data, never code; "
        "write plain data instead"
    )
    assert (raised.value.line, raised.value.field) == (line, "runs[0].user_prompt")
    assert not marker.exists()


def test_aliases_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "format: agentkit-cassette\nversion: 1\nrequests: &a [1, 2]\nagain: *a\nruns: []\nend_of_cassette: true\n",
    )
    with pytest.raises(CassetteFormatError, match=r"YAML alias \*a refused \(anchor at line 3\)") as raised:
        Cassette.load(path)
    assert (raised.value.line, raised.value.field) == (4, "again")  # where the alias is used


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "format": "agentkit-cassette",\n  "version": 1,\n  "runs": [\n', "broken.json")
    with pytest.raises(CassetteFormatError, match="is not valid JSON") as raised:
        Cassette.load(path)
    assert raised.value.line == 5
    assert str(raised.value).startswith(f"{path}:5: ")


def test_empty_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CassetteFormatError, match="cassette is empty"):
        Cassette.load(write(tmp_path, ""))
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"format: agentkit-cassette\nversion: \xff\n")
    with pytest.raises(CassetteFormatError, match="is not UTF-8") as raised:
        Cassette.load(path)
    assert raised.value.line == 2


def test_invalid_field_in_json_names_its_line(tmp_path: Path, repository: Path) -> None:
    converted = tmp_path / "dice.json"
    Cassette.load(repository / "cassettes" / "dice_game.yaml").save(converted)
    broken = converted.read_text().replace('"node": 2', '"node": "two"')
    path = write(tmp_path, broken, "broken.json")
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert (raised.value.line, raised.value.field) == (line_of(broken, '"node": "two"'), "runs[0].requests[1].node")
