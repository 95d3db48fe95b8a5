"""Replay compares values in their JSON form, types included: `1`, `True` and `1.0` are three different values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteDivergence
from agentkit_testing._matching import Comparator, Matching

pytestmark = pytest.mark.anyio

CHANGES = [
    pytest.param(1, True, id="int-to-bool"),
    pytest.param(1, 1.0, id="int-to-float"),
    pytest.param({"a": 1}, {"a": True}, id="nested-int-to-bool"),
    pytest.param([0, 1], [False, True], id="list-of-int-to-bool"),
]


def lookup_agent(answer: Any) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(TestModel(), name="lookup")

    @agent.tool_plain
    def lookup() -> Any:
        """Look the value up."""
        return answer

    return agent


@pytest.mark.parametrize(("recorded", "live"), CHANGES)
async def test_a_tool_return_that_changed_type_is_a_divergence(recorded: Any, live: Any, tmp_path: Path) -> None:
    path = tmp_path / "lookup.yaml"
    with cassette(path, "once"):
        await lookup_agent(recorded).run("Look it up")
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await lookup_agent(live).run("Look it up")
    assert raised.value.field == "tool_return"
    assert raised.value.diff


def answering_agent(answer: Any) -> Agent[None, dict[str, Any]]:
    """Its result validator puts `answer` in the result, whatever the model said."""
    agent: Agent[None, dict[str, Any]] = Agent(
        TestModel(custom_result_args={"value": "model"}), result_type=dict[str, Any], name="answering"
    )

    @agent.result_validator
    def set_value(data: dict[str, Any]) -> dict[str, Any]:
        return {"value": answer}

    return agent


@pytest.mark.parametrize(("recorded", "live"), CHANGES)
async def test_a_result_that_changed_type_is_a_divergence(recorded: Any, live: Any, tmp_path: Path) -> None:
    path = tmp_path / "result.yaml"
    with cassette(path, "once"):
        await answering_agent(recorded).run("Go")
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await answering_agent(live).run("Go")
    assert raised.value.field == "result"


async def test_model_settings_that_changed_type_are_a_divergence(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    agent: Agent[None, str] = Agent(TestModel(), name="tuned")
    with cassette(path, "once"):
        await agent.run("Go", model_settings={"temperature": 1})
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await agent.run("Go", model_settings={"temperature": 1.0})
    assert raised.value.field == "settings"


async def test_an_unchanged_tool_return_of_every_json_type_replays(tmp_path: Path) -> None:
    value = {"int": 1, "float": 1.0, "bool": True, "none": None, "list": [1, 2.5, False], "text": "1"}
    path = tmp_path / "same.yaml"
    with cassette(path, "once"):
        await lookup_agent(value).run("Look it up")
    with cassette(path) as session:
        await lookup_agent(dict(value)).run("Look it up")
    assert len(session.replayed_runs) == 1


async def test_a_tool_return_read_from_the_file_equals_the_live_object_it_encodes(tmp_path: Path) -> None:
    value = {"when": datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "pair": (1, 2)}
    path = tmp_path / "objects.yaml"
    with cassette(path, "once"):
        await lookup_agent(value).run("Look it up")
    with cassette(path) as session:
        await lookup_agent(dict(value)).run("Look it up")
    assert len(session.replayed_runs) == 1


async def test_a_tool_return_kept_in_memory_replays(tmp_path: Path) -> None:
    store = Cassette()
    with cassette(store, "once"):
        await lookup_agent((1, 2)).run("Look it up")
    with cassette(store) as session:
        await lookup_agent((1, 2)).run("Look it up")
    assert len(session.replayed_runs) == 1


def test_comparator_equal_tells_json_types_apart() -> None:
    comparator = Comparator(Matching())
    assert comparator.equal(1, 1)
    assert comparator.equal((1, 2), [1, 2])
    assert not comparator.equal(1, True)
    assert not comparator.equal(1, 1.0)
    assert not comparator.equal(0, False)
    assert not comparator.equal({"a": 1}, {"a": True})
    assert not comparator.equal([1.0], [1])
