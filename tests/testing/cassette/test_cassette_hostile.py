"""Hostile and broken cassettes: refused with one `CassetteFormatError` naming file, line and field, or loaded
in a form that saves again. Anchors, aliases and merge keys are refused before anything is built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._parse._limits import MAX_DEPTH, MAX_INTEGER_DIGITS
from agentkit_testing._cli import main
from agentkit_testing._exceptions import CassetteFormatError

DATA_LINE = "    data: 'You rolled a 4, Anne. Your guess was right: you''re a winner!'\n"


@pytest.fixture
def dice_text(repository: Path) -> str:
    return (repository / "cassettes" / "dice_game.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def with_data(dice_text: str, value: str) -> str:
    """The dice cassette with its run's result data replaced by `value` (YAML text)."""
    assert DATA_LINE in dice_text
    return dice_text.replace(DATA_LINE, f"    data: {value}\n", 1)


def refused(path: Path) -> CassetteFormatError:
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    error = raised.value
    assert str(error).startswith(f"{path}:{error.line}: "), str(error)
    return error


def round_trips(path: Path, tmp_path: Path) -> Cassette:
    loaded = Cassette.load(path)
    copy = tmp_path / f"copy{path.suffix}"
    loaded.save(copy)
    assert Cassette.load(copy).runs == loaded.runs
    return loaded


def merge_bomb(levels: int = 9) -> str:
    """A small file whose merge keys and list aliases expand to 10**levels leaves."""
    lines = ["<<: {}", "l0: &l0 [a, b, c, d, e, f, g, h, i, j]"]  # the merge key once let the aliases through
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(f"  {line}" for line in lines) + "\n"


def test_merge_key_bomb_is_refused_by_load_verify_and_show(tmp_path: Path, dice_text: str) -> None:
    text = with_data(dice_text, f"\n      <<: {{}}\n      bomb: *l{8}").replace(
        "tool_definitions:\n", "anchors:\n" + merge_bomb() + "tool_definitions:\n", 1
    )
    path = write(tmp_path, text)
    assert path.stat().st_size - len(dice_text) < 1000  # what the bomb adds to a real cassette
    error = refused(path)
    assert "YAML merge key '<<' refused" in str(error)
    assert (error.line, error.field) == (line_of(text, "<<: {}"), "anchors.<<")
    runner = CliRunner()
    verify = runner.invoke(main, ["cassette", "verify", str(path)])
    assert verify.exit_code == 1
    assert f"FAIL {path}:{error.line}: " in verify.output
    show = runner.invoke(main, ["cassette", "show", str(path)])
    assert show.exit_code == 1
    assert f"Error: {path}:{error.line}: " in show.output


def test_merge_key_is_refused_naming_its_line_and_mapping(tmp_path: Path, dice_text: str) -> None:
    text = with_data(dice_text, "\n      <<: {a: 1}\n      b: 2")
    error = refused(write(tmp_path, text))
    assert "YAML merge key '<<' refused" in str(error)
    assert (error.line, error.field) == (line_of(text, "<<: {a: 1}"), "runs[0].result.data.<<")


def test_quoted_merge_key_is_plain_text(tmp_path: Path, dice_text: str) -> None:
    loaded = round_trips(write(tmp_path, with_data(dice_text, "{'<<': 1, '=': 2}")), tmp_path)
    assert loaded.runs[0].result is not None
    assert loaded.runs[0].result.data == {"<<": 1, "=": 2}


@pytest.mark.parametrize(
    ("anchored", "alias"),
    [
        ("{a: 1}", "*x"),
        ("[1, 2]", "*x"),
        ("text", "*x"),
        ("text", "[*x, *x]"),
        ("[1]", "{key: [*x]}"),
    ],
    ids=["mapping", "list", "string", "string-in-list", "nested-list"],
)
def test_every_alias_is_refused_at_its_line(tmp_path: Path, dice_text: str, anchored: str, alias: str) -> None:
    text = with_data(dice_text, f"{{first: &x {anchored}}}\n  label: placeholder").replace(
        "  label: placeholder", f"  extra: {alias}"
    )
    error = refused(write(tmp_path, text))
    assert "YAML alias *x refused" in str(error)
    assert error.line == line_of(text, "extra: ")


def test_aliases_are_refused_before_anything_is_built(
    tmp_path: Path, dice_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit_testing._cassette._parse import _yaml_loader as _cassette_yaml_loader

    construct = _cassette_yaml_loader._CassetteLoader.construct_document

    def never(self: _cassette_yaml_loader._CassetteLoader, node: object) -> object:
        # Other documents (the header, read on its own by the run-by-run load) may be built.
        if "*x" in self.text:
            raise AssertionError("construction started before the node graph was checked")
        return construct(self, node)

    monkeypatch.setattr(_cassette_yaml_loader._CassetteLoader, "construct_document", never)
    text = with_data(dice_text, "&x [1]\n  extra: *x")
    assert "YAML alias *x refused" in str(refused(write(tmp_path, text)))


def test_string_alias_cannot_multiply_the_file(tmp_path: Path, dice_text: str) -> None:
    text = with_data(dice_text, "&s " + "x" * 1000 + "\n  extra: [" + ", ".join(["*s"] * 1000) + "]")
    assert "YAML alias *s refused" in str(refused(write(tmp_path, text)))


def test_duplicate_key_is_refused_naming_key_and_line(tmp_path: Path, dice_text: str) -> None:
    text = dice_text.replace("  agent: dice_game\n", "  agent: dice_game\n  agent: other\n", 1)
    error = refused(write(tmp_path, text))
    first = line_of(text, "agent: dice_game")
    assert f"duplicate key 'agent' (first at line {first})" in str(error)
    assert (error.line, error.field) == (first + 1, "runs[0].agent")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9" * 5000, "an integer of 5000 digits"),
        ("0x" + "f" * 900, f"an integer of more than {MAX_INTEGER_DIGITS} digits"),
        ("!!float garbage", "'garbage' is not a number"),
        ("1.0e+999", "is not a finite number"),
        (".nan", "is not a finite number"),
        ("!!int x", "'x' is not an integer"),
        ("!!int ''", "'' is not an integer"),
        ("!!int '+'", "'+' is not an integer"),
        ("!!int _", "'_' is not an integer"),
        ("!!int 0o7", "'0o7' is not an integer"),
        ("!!float ''", "'' is not a number"),
        ("!!float _", "'_' is not a number"),
        ("!!bool maybe", "'maybe' is not a valid !!bool value"),
        ("!!null x", "'x' is not a valid !!null value"),
        ("!!binary '###'", "!!binary value is not valid base64"),
        ("!!binary aGVsbG8", "!!binary value is not valid base64"),
        ("!!set {a: null}", "tag '!!set' refused"),
        ("!!timestamp 2024-01-01", "tag '!!timestamp' refused"),
        ("!local x", "tag '!local' refused"),
        ("{? [a]: b}", "a mapping key must be a string, number, boolean or null, not list"),
    ],
)
def test_malformed_scalar_is_refused_naming_its_line_and_field(
    tmp_path: Path, dice_text: str, value: str, expected: str
) -> None:
    text = with_data(dice_text, value)
    error = refused(write(tmp_path, text))
    assert expected in str(error)
    assert error.line == line_of(text, "    data: ")
    assert error.field is not None
    assert error.field.startswith("runs[0].result.data")


def test_unquoted_dates_are_text_and_round_trip(tmp_path: Path, dice_text: str) -> None:
    text = with_data(dice_text, "[2024-13-45, 2024-01-01, 2024-01-01T10:00:00Z]").replace(
        "args_json: {}", "args_json: {when: 2024-01-01}", 1
    )
    loaded = round_trips(write(tmp_path, text), tmp_path)
    run = loaded.runs[0]
    assert run.result is not None
    assert run.result.data == ["2024-13-45", "2024-01-01", "2024-01-01T10:00:00Z"]
    assert run.requests[0].response.parts[0].args == '{"when":"2024-01-01"}'  # type: ignore[union-attr]


def test_unhashable_args_json_style_is_refused(tmp_path: Path, dice_text: str) -> None:
    text = dice_text.replace("args_json: {}", "args_json: {}\n        args_json_style: [a]", 1)
    error = refused(write(tmp_path, text))
    assert "unknown args_json_style ['a']" in str(error)
    assert error.field == "runs[0].requests[0].response.parts[0].args_json_style"


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "{kind: text, data: !!binary aGVsbG8=}", "[!!binary aGVsbG8=]"])
def test_binary_outside_a_binary_prompt_item_is_refused(tmp_path: Path, dice_text: str, value: str) -> None:
    text = with_data(dice_text, value)
    error = refused(write(tmp_path, text))
    assert "!!binary data is only read as the 'data' of a prompt item of kind 'binary'" in str(error)
    assert error.line == line_of(text, "    data: ")


def test_explicit_plain_tags_are_read(tmp_path: Path, dice_text: str) -> None:
    loaded = round_trips(
        write(tmp_path, with_data(dice_text, "[!!str 12, !!int '7', !!int 0x1F, !!float '1.5', !!float 2, ! text]")),
        tmp_path,
    )
    assert loaded.runs[0].result is not None
    assert loaded.runs[0].result.data == ["12", 7, 31, 1.5, 2.0, "text"]


def test_binary_inside_args_json_is_refused(tmp_path: Path, dice_text: str) -> None:
    # shaped like a binary prompt item, so that the loader lets it through to the args check
    text = dice_text.replace("args_json: {}", "args_json: {kind: binary, data: !!binary aGVsbG8=}", 1)
    error = refused(write(tmp_path, text))
    assert "'args_json' must hold JSON data only" in str(error)


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_nesting_past_the_limit_is_refused(tmp_path: Path, dice_text: str) -> None:
    # result.data sits at depth 4 (document, runs, run, result): the list adds the rest
    text = with_data(dice_text, nested(MAX_DEPTH - 3))
    error = refused(write(tmp_path, text))
    assert f"nest more than {MAX_DEPTH} levels deep" in str(error)
    assert error.line == line_of(text, "    data: ")
    assert error.field == f"runs[0].result.data[0][0][0][0].<{MAX_DEPTH - 12} levels>[0][0][0][0]"


def test_nesting_at_the_limit_loads_and_saves(tmp_path: Path, dice_text: str) -> None:
    round_trips(write(tmp_path, with_data(dice_text, nested(MAX_DEPTH - 4))), tmp_path)


def test_largest_integer_loads_and_saves(tmp_path: Path, dice_text: str) -> None:
    loaded = round_trips(write(tmp_path, with_data(dice_text, "-" + "9" * MAX_INTEGER_DIGITS)), tmp_path)
    assert loaded.runs[0].result is not None
    assert loaded.runs[0].result.data == -(10**MAX_INTEGER_DIGITS - 1)


def test_file_over_the_size_limit_is_refused(tmp_path: Path, dice_text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkit_testing._cassette import _io as _cassette_io

    monkeypatch.setattr(_cassette_io, "MAX_CASSETTE_BYTES", 1000)
    path = write(tmp_path, dice_text)
    with pytest.raises(CassetteFormatError, match=r"over the 1,000-byte limit; split its runs") as raised:
        Cassette.load(path)
    assert str(raised.value).startswith(f"{path}: cassette is {path.stat().st_size:,} bytes")


def test_control_character_is_refused_at_its_line(tmp_path: Path, dice_text: str) -> None:
    text = dice_text.replace("user_prompt: My guess is 4", "user_prompt: My gu\x01ess", 1)
    error = refused(write(tmp_path, text))
    assert "unacceptable character #x0001" in str(error)
    assert error.line == line_of(text, "user_prompt: My gu")


@pytest.fixture
def dice_json(dice_text: str) -> str:
    import yaml

    return json.dumps(yaml.safe_load(dice_text), indent=2)


JSON_DATA = '"data": "You rolled a 4, Anne. Your guess was right: you\'re a winner!"'


def with_json_data(dice_json: str, value: str) -> str:
    assert JSON_DATA in dice_json
    return dice_json.replace(JSON_DATA, f'"data": {value}', 1)


def test_json_duplicate_key_is_refused_naming_key_and_line(tmp_path: Path, dice_json: str) -> None:
    text = dice_json.replace('"agent": "dice_game",', '"agent": "dice_game",\n      "agent": "other",', 1)
    error = refused(write(tmp_path, text, "hostile.json"))
    assert "duplicate key 'agent'" in str(error)
    assert (error.line, error.field) == (line_of(text, '"agent": "other"'), "runs[0].agent")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NaN", "NaN is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ("[1, Infinity]", "Infinity is not a JSON number"),
        ("1e999", "'1e999' is not a finite number"),
        ("9" * 5000, "an integer of 5000 digits"),
        ("-" + "9" * (MAX_INTEGER_DIGITS + 1), f"an integer of {MAX_INTEGER_DIGITS + 1} digits"),
        ('"\\ud800"', "lone surrogate"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[" * 2000 + "]" * 2000, f"nest more than {MAX_DEPTH} levels deep"),
        ("[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3), f"nest more than {MAX_DEPTH} levels deep"),
    ],
    ids=[
        "nan",
        "minus-infinity",
        "infinity-in-list",
        "overflow",
        "5000-digits",
        "1001-digits",
        "surrogate",
        "duplicate",
        "2000-deep",
        "101-deep",
    ],
)
def test_json_value_is_refused_naming_its_line_and_field(
    tmp_path: Path, dice_json: str, value: str, expected: str
) -> None:
    text = with_json_data(dice_json, value)
    error = refused(write(tmp_path, text, "hostile.json"))
    assert expected in str(error)
    assert error.line == line_of(text, '"data": ')
    assert error.field is not None
    assert error.field.startswith("runs[0].result.data")


@pytest.mark.parametrize(
    "value",
    ["9" * MAX_INTEGER_DIGITS, "1e308", '"\\ud83d\\ude00 \\u00e9"', "[" * (MAX_DEPTH - 4) + "]" * (MAX_DEPTH - 4)],
    ids=["1000-digits", "largest-float", "surrogate-pair", "100-deep"],
)
def test_json_value_at_the_limits_loads_and_saves(tmp_path: Path, dice_json: str, value: str) -> None:
    loaded = round_trips(write(tmp_path, with_json_data(dice_json, value), "limits.json"), tmp_path)
    assert loaded.runs[0].result is not None
    assert loaded.runs[0].result.data == json.loads(value)


def test_unreadable_file_is_reported_by_verify_and_show(
    tmp_path: Path, dice_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, locked = write(tmp_path, dice_text, "good.yaml"), write(tmp_path, dice_text, "locked.yaml")
    read_bytes = Path.read_bytes

    def refuse_locked(self: Path) -> bytes:
        if self.name == "locked.yaml":
            raise PermissionError(13, "Permission denied")
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse_locked)
    runner = CliRunner()
    verify = runner.invoke(main, ["cassette", "verify", str(locked), str(good)])
    assert verify.exit_code == 1
    assert f"FAIL {locked}: cannot read the cassette (Permission denied)" in verify.output
    assert f"ok   {good}" in verify.output
    show = runner.invoke(main, ["cassette", "show", str(locked)])
    assert show.exit_code == 1
    assert f"Error: {locked}: cannot read the cassette (Permission denied)" in show.output


def test_pure_python_loader_gives_the_same_refusals(tmp_path: Path, dice_text: str, repository: Path) -> None:
    """Without libyaml, `yaml.SafeLoader` composes the graph and the same checks apply."""
    import subprocess
    import sys

    files = {
        "bomb.yaml": (repository / "tests/testing/cassette/cassette_corpus/refused/merge_key_bomb.yaml").read_text(),
        "code.yaml": dice_text.replace("user_prompt: My guess is 4", "user_prompt: !!python/name:os.system ''"),
        "deep.yaml": with_data(dice_text, nested(3000)),
        "control.yaml": dice_text.replace("user_prompt: My guess is 4", "user_prompt: a\x01b"),
    }
    for name, text in files.items():
        write(tmp_path, text, name)
    script = (
        "import sys; sys.modules['yaml._yaml'] = None\n"
        "from pathlib import Path\n"
        "from agentkit_testing import Cassette, CassetteFormatError\n"
        f"for name in {sorted(files)!r}:\n"
        "    try:\n"
        f"        Cassette.load(Path({str(tmp_path)!r}) / name)\n"
        "    except CassetteFormatError as error:\n"
        "        print(error.line, str(error).split(': ', 1)[1])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    bomb, code, control, deep = result.stdout.splitlines()
    assert bomb.startswith(f"{line_of(files['bomb.yaml'], '<<: {}')} in anchors.<<: YAML merge key '<<' refused")
    assert code.startswith(f"{line_of(files['code.yaml'], 'user_prompt')} in runs[0].user_prompt: tag ")
    assert "refused: cassettes are data, never code" in code
    assert control.startswith(f"{line_of(files['control.yaml'], 'user_prompt')} cassette is not valid YAML")
    assert deep.startswith("None lists and mappings nest too deeply")
