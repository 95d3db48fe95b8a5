"""What the loader would refuse is never written: a run whose values pass the limits fails at save time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Cassette, CassetteError, cassette


def _record(path: Path, returned: Any) -> None:
    agent: Agent[None, str] = Agent(TestModel())

    @agent.tool_plain
    def measure() -> Any:
        return returned

    with cassette(path, record_mode="all"):
        agent.run_sync("measure it")


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (10**1200, "more than 1000 digits"),
        (_nested(150), "nests deeper than 100 levels"),
        ("\ud800 lone", "lone surrogate"),
        # pydantic's JSON mode writes these as null: the file said null, and replay of the same run
        # then diverged with an empty diff.
        (float("inf"), "is inf, which JSON and cassettes cannot hold"),
        ({"a": [float("nan")]}, "is nan, which JSON and cassettes cannot hold"),
    ],
)
def test_a_value_the_loader_would_refuse_fails_the_save_and_writes_nothing(
    tmp_path: Path, returned: Any, problem: str
) -> None:
    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteError, match=problem) as raised:
        _record(path, returned)
    assert "cannot save the cassette: runs[0]" in str(raised.value)
    assert not path.exists()


def test_an_existing_cassette_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    _record(path, 1.5)
    before = path.read_bytes()
    with pytest.raises(CassetteError):
        _record(path, 10**1200)
    assert path.read_bytes() == before
    assert len(Cassette.load(path).runs) == 1


def test_values_within_the_limits_save_and_load_back(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    _record(path, {"deep": _nested(80), "big": 10**900, "text": "caf\u00e9 \U0001f600"})
    (run,) = Cassette.load(path).runs
    assert run.requests


def test_a_run_whose_history_holds_a_non_finite_tool_return_fails_the_save(tmp_path: Path) -> None:
    agent: Agent[None, str] = Agent(TestModel())

    @agent.tool_plain
    def measure() -> float:
        return float("-inf")

    history = agent.run_sync("measure it").all_messages()  # a tool return of -inf, not recorded
    path = tmp_path / "c.json"
    refused = pytest.raises(CassetteError, match="is -inf, which JSON and cassettes cannot hold")
    with refused, cassette(path, record_mode="all"):
        agent.run_sync("again", message_history=history, model=TestModel(call_tools=[]))
    assert not path.exists()
