"""Lazy loading: runs indexed by identity at load, decoded on first use, errors still naming file and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Cassette, CassetteFormatError, cassette
from agentkit_testing._cassette._lazy import LoadedRun


def recorded(tmp_path: Path, prompts: tuple[str, ...] = ("one", "two", "three")) -> Path:
    path = tmp_path / "lazy.yaml"
    agent = Agent(TestModel(), name="lazy")

    @agent.tool_plain
    def echo(text: str) -> str:
        """Echo."""
        return text

    with cassette(path, "once"):
        for prompt in prompts:
            agent.run_sync(prompt)
    return path


def test_lazy_load_decodes_a_run_only_when_its_details_are_read(tmp_path: Path) -> None:
    runs = Cassette.load(recorded(tmp_path), lazy=True).runs
    assert all(isinstance(run, LoadedRun) and not run.decoded for run in runs)
    assert runs[1].requests
    assert [run.decoded for run in runs] == [False, True, False]


def test_lazily_loaded_runs_equal_the_runs_loaded_whole(tmp_path: Path) -> None:
    path = recorded(tmp_path)
    assert Cassette.load(path, lazy=True).runs == Cassette.load(path).runs


def test_an_invalid_field_in_a_lazy_run_is_refused_when_read_naming_its_line_and_index(tmp_path: Path) -> None:
    path = recorded(tmp_path)
    text = path.read_text()
    third = text.index("- id: run-3")
    broken = text[:third] + text[third:].replace("usage: {", "usage: {requests: many, ", 1)
    path.write_text(broken)
    runs = Cassette.load(path, lazy=True).runs
    assert runs[0].requests
    with pytest.raises(CassetteFormatError) as raised:
        _ = runs[2].requests
    line = broken[: broken.index("requests: many")].count("\n") + 1
    assert raised.value.line == line
    assert f"{path}:{line}" in str(raised.value)
    assert "runs[2].requests[0].usage" in str(raised.value)


def test_a_file_that_does_not_follow_the_layout_is_loaded_whole_and_saved_whole(tmp_path: Path) -> None:
    path = recorded(tmp_path)
    text = path.read_text()
    edited = text.replace("- id: run-2", "# a note by hand\n- id: run-2", 1)
    path.write_text(edited)
    loaded = Cassette.load(path, lazy=True)
    assert not any(isinstance(run, LoadedRun) for run in loaded.runs)
    with cassette(path, "new_episodes"):
        Agent(TestModel(), name="lazy").run_sync("four")
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["one", "two", "three", "four"]


def test_a_kept_run_holding_a_secret_set_since_is_written_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = recorded(tmp_path, ("one", "my token is tok-1234567890abcdef"))
    monkeypatch.setenv("SERVICE_TOKEN", "tok-1234567890abcdef")
    with cassette(path, "new_episodes"):
        Agent(TestModel(), name="lazy").run_sync("three")
    text = path.read_text()
    assert "tok-1234567890abcdef" not in text
    assert "<redacted:env SERVICE_TOKEN>" in text


@pytest.mark.parametrize(
    "line",
    [
        "user_prompt: yes",
        "user_prompt: 'It''s: here'",
        'user_prompt: "double \\u00e9"',
        "user_prompt: hello\n    world",
        "user_prompt: a #comment",
        "user_prompt: Café au lait?",
        "user_prompt: key: value",
        "user_prompt: |-\n    two\n    lines",
        "user_prompt: 2024-01-01",
    ],
)
def test_identity_lines_read_fast_or_parsed_always_read_as_yaml_reads_them(tmp_path: Path, line: str) -> None:
    path = recorded(tmp_path, ("one", "two"))
    text = path.read_text()
    second = text.index("- id: run-2")
    edited = text[:second] + text[second:].replace("user_prompt: two", line, 1)
    path.write_text(edited)
    try:
        whole = Cassette.load(path).runs
    except CassetteFormatError:
        with pytest.raises(CassetteFormatError):
            _ = [run.requests for run in Cassette.load(path, lazy=True).runs]
        return
    lazy = Cassette.load(path, lazy=True).runs
    assert [run.user_prompt for run in lazy] == [run.user_prompt for run in whole]
    assert lazy == whole


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=st.text(min_size=1, max_size=30), agent=st.one_of(st.none(), st.text(max_size=12)))
def test_any_identity_written_reads_back_the_same_lazily(tmp_path: Path, prompt: str, agent: str | None) -> None:
    template = Cassette.load(recorded(tmp_path, ("one",))).runs[0]
    path = tmp_path / "any.yaml"
    Cassette(path, [dataclasses.replace(template, user_prompt=prompt, agent=agent)]).save()
    lazy = Cassette.load(path, lazy=True).runs[0]
    assert (lazy.user_prompt, lazy.agent) == (prompt, agent)


def test_rewrite_replaces_a_run_that_cannot_be_read(tmp_path: Path) -> None:
    path = recorded(tmp_path, ("one", "two"))
    text = path.read_text()
    second = text.index("- id: run-2")
    path.write_text(text[:second] + text[second:].replace("usage: {", "usage: {requests: many, ", 1))
    agent = Agent(TestModel(), name="lazy")

    @agent.tool_plain
    def echo(text: str) -> str:
        """Echo."""
        return text

    with cassette(path, "rewrite"):
        agent.run_sync("one")
        agent.run_sync("two")
    runs = Cassette.load(path).runs
    assert [run.user_prompt for run in runs] == ["one", "two"]
    assert "requests: many" not in path.read_text()
