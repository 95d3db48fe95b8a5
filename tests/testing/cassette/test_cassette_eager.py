"""Whole-cassette load run by run: the same runs and the same errors as parsing the file as one document.

`Cassette.load` (not lazy) reads a YAML file in the writer's layout run by run, with the fast
reader of `_run_reader` where a run's text is in the writer's subset. Its oracle here is
`load_whole`, the one-document load it falls back to: every file must give equal runs (and the
same reprs), or the same error (message, line, field).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cassette_mutations import MUTATIONS, mutate, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Cassette, CassetteFormatError, cassette
from agentkit_testing._cassette import _eager
from agentkit_testing._cassette._eager import each_checked_run, load_whole
from agentkit_testing._cassette._io import FlowDict, FlowList, cassette_text, to_yaml_text
from agentkit_testing._cassette._parse._layout import RUNS_LINE, split_layout
from agentkit_testing._cassette._parse._run_reader import read_run
from agentkit_testing._cassette._parse._yaml_loader import load_yaml

REPOSITORY = Path(__file__).resolve().parents[3]
CORPUS = Path(__file__).parent / "cassette_corpus"
COMMITTED = sorted(
    path
    for path in [*(REPOSITORY / "cassettes").rglob("*.yaml"), *(REPOSITORY / "tests").rglob("*.yaml")]
    if "__snapshots__" not in path.parts
)
YAML_SEEDS = {name: data for name, data in seeds().items() if not name.endswith(".json")}


def outcome(load: Any) -> str:
    """What a load gives, comparable: the runs' repr, or the error with its line and field."""
    try:
        return repr(tuple(load()))
    except CassetteFormatError as error:
        return f"refused: {error} (line {error.line}, field {error.field})"


def assert_same_as_whole(path: Path) -> str:
    data = path.read_bytes()
    expected = outcome(lambda: load_whole(data, cassette_text(data, path), path, "yaml")[0])
    assert outcome(lambda: Cassette.load(path).runs) == expected
    return expected


def committed_layout_files() -> list[Path]:
    found = []
    for path in COMMITTED:
        try:
            text = cassette_text(path.read_bytes(), path)
        except CassetteFormatError:
            continue
        if split_layout(text) is not None:
            found.append(path)
    return found


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_committed_yaml_file_loads_as_when_parsed_whole(path: Path) -> None:
    assert_same_as_whole(path)


@pytest.mark.parametrize(
    "path",
    sorted((CORPUS / "refused").glob("*.yaml")) + sorted((CORPUS / "valid").glob("*.yaml")),
    ids=lambda path: path.name,
)
def test_corpus_file_loads_or_is_refused_as_when_parsed_whole(path: Path) -> None:
    assert_same_as_whole(path)


def test_every_run_of_the_committed_cassettes_is_read_by_the_fast_reader_as_the_safe_loader_reads_it() -> None:
    files = committed_layout_files()
    assert len(files) >= 10
    read = 0
    for path in files:
        layout = split_layout(path.read_text())
        assert layout is not None
        for run in layout.runs:
            try:
                expected = load_yaml(RUNS_LINE + run.text, path)["runs"][0]
            except CassetteFormatError:
                assert read_run(run.text) is None
                continue
            fast = read_run(run.text)
            assert fast is not None, f"{path}:{run.line}: the writer's subset, not read"
            assert repr(fast) == repr(expected)
            read += 1
    assert read >= 20


def test_a_writer_layout_file_is_loaded_run_by_run_not_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recorded(tmp_path, 3)

    def whole(*arguments: object) -> object:
        raise AssertionError("loaded as one document")

    monkeypatch.setattr(_eager, "load_whole", whole)
    monkeypatch.setattr("agentkit_testing._cassette._file.load_whole", whole)
    assert len(Cassette.load(path).runs) == 3


def recorded(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "runs.yaml"
    agent = Agent(TestModel(), name="eager")

    @agent.tool_plain
    def echo(text: str) -> str:
        """Echo."""
        return text

    with cassette(path, "once"):
        for index in range(count):
            agent.run_sync(f"question {index}")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("usage: {", "usage: {requests: many, ", "runs[39].requests[0].usage"),
        ("      timestamp: ", "      stamped: ", "timestamp"),
        ("  agent: eager\n", "  agent: eager\n  agent: other\n", "duplicate key 'agent'"),
        ("tool_name: echo", "tool_name: !!python/name:os.system echo", "cassettes are data"),
    ],
    ids=["invalid-field", "missing-timestamp", "duplicate-key", "code-tag"],
)
def test_a_bad_last_run_of_a_big_file_is_refused_at_load_naming_its_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = recorded(tmp_path, 40)
    text = path.read_text()
    last = text.index("- id: run-40")
    broken = text[:last] + text[last:].replace(old, new, 1)
    assert broken != text
    path.write_text(broken)
    with pytest.raises(CassetteFormatError) as raised:
        Cassette.load(path)
    assert expected in str(raised.value)
    assert raised.value.line is not None
    assert raised.value.line > broken[:last].count("\n")
    assert_same_as_whole(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(YAML_SEEDS)),
    names=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3),
    rnd=st.randoms(use_true_random=False),
)
def test_a_mutated_cassette_loads_or_is_refused_as_when_parsed_whole(
    seed: str, names: list[str], rnd: random.Random
) -> None:
    data = mutate(YAML_SEEDS[seed], False, names, rnd)
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "mutated.yaml"
        path.write_bytes(data)
        try:
            cassette_text(data, path)
        except CassetteFormatError:
            return  # not text: refused before any YAML is read
        assert_same_as_whole(path)


_SIGNIFICANT = [*":- #'\"[]{},|&*!?>%@`\\\n\t", "  ", ": ", "- ", "\n  ", "\n    ", "a", "0", ".", "é"]


def run_texts() -> list[str]:
    texts = []
    for path in committed_layout_files():
        layout = split_layout(path.read_text())
        assert layout is not None
        texts.extend(run.text for run in layout.runs)
    return texts


RUN_TEXTS = run_texts()


def read_by_the_safe_loader(text: str) -> object:
    try:
        document = load_yaml(RUNS_LINE + text, Path("run.yaml"))
    except CassetteFormatError as error:
        return error
    runs = document.get("runs") if isinstance(document, dict) else None
    return runs[0] if isinstance(runs, list) and len(runs) == 1 else ("not one run", document)


@settings(max_examples=400, deadline=None)
@given(
    text=st.sampled_from(RUN_TEXTS),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.sampled_from(["insert", "delete", "replace"]),
            st.sampled_from(_SIGNIFICANT),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_the_fast_reader_reads_an_edited_run_as_the_safe_loader_does_or_not_at_all(
    text: str, edits: list[tuple[float, str, str]]
) -> None:
    for where, how, what in edits:
        at = int(where * len(text))
        text = {
            "insert": text[:at] + what + text[at:],
            "delete": text[:at] + text[at + 1 :],
            "replace": text[:at] + what + text[at + 1 :],
        }[how]
    fast = read_run(text)
    if fast is not None:
        assert repr(fast) == repr(read_by_the_safe_loader(text))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["yes", "no", "null", "~", "1e3", "1.5e+3", "0x1F", "017", "1_000", "2024-01-01", "=", "<<", "a: b"]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 9)), inner, max_size=4),
        st.lists(_SCALARS, max_size=4).map(FlowList),
        st.dictionaries(st.text(min_size=1, max_size=8), _SCALARS, max_size=3).map(FlowDict),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.text(min_size=1, max_size=10), _VALUES, max_size=5))
def test_the_fast_reader_reads_what_the_writer_writes_as_the_safe_loader_does(fields: dict[str, Any]) -> None:
    text = to_yaml_text([{"id": "run-1", **fields}])
    fast = read_run(text)
    if fast is not None:
        assert repr(fast) == repr(read_by_the_safe_loader(text))


def test_the_fast_reader_reads_the_common_shapes_of_the_writer() -> None:
    run = {
        "id": "run-1",
        "user_prompt": "It's: here\nand there",
        "nodes": FlowList(["ModelRequestNode", "End"]),
        "usage": FlowDict({"request_tokens": 5, "total_tokens": 7}),
        "result": {"data": {"score": 1.5, "ok": True, "none": None, "list": [1, "two", [3]]}},
        "requests": [{"node": 0, "request": [{"part_kind": "user-prompt", "content": "tab\there"}]}],
        "text": "trailing newlines\n\n",
    }
    text = to_yaml_text([run])
    assert read_run(text) == run


@pytest.mark.parametrize(
    "path",
    [*COMMITTED, *sorted((CORPUS / "refused").glob("*.yaml")), *sorted((CORPUS / "valid").glob("*.yaml"))],
    ids=lambda path: str(path.relative_to(REPOSITORY)),
)
def test_runs_taken_one_at_a_time_are_those_of_a_load_or_its_error(path: Path) -> None:
    expected = assert_same_as_whole(path)
    assert outcome(lambda: each_checked_run(path, "yaml")) == expected
