"""The syrupy extension: runs snapshot as node blocks; a changed run fails with a diff naming the node."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pydantic
import pytest
from syrupy.assertion import SnapshotAssertion

from agentkit import (
    Agent,
    AgentNode,
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UnexpectedModelBehavior,
    UserError,
)
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing._run_text import serialize_run
from agentkit_testing._snapshot import AgentRunSnapshotExtension, first_changed_node

pytest_plugins = ["pytester"]

INNER_TEST = """
from agentkit import Agent, ModelResponse, TextPart, ToolCallPart
from agentkit.models import FunctionModel
from agentkit_testing._snapshot import AgentRunSnapshotExtension

ROLL = {roll}
agent = Agent(system_prompt="You run a dice game.")


@agent.tool_plain
def roll_die() -> int:
    return ROLL


def model(messages, info):
    if len(messages) == 1:
        return ModelResponse([ToolCallPart("roll_die", {{}})])
    return ModelResponse([TextPart("You rolled a {{}}.".format(ROLL))])


def test_dice_run(snapshot):
    result = agent.run_sync("Roll for me", model=FunctionModel(model))
    assert result == snapshot{use}
"""
CALL = "(extension_class=AgentRunSnapshotExtension)"
USE = ".use_extension(AgentRunSnapshotExtension)"


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner sessions are plain ones, even when this suite runs under pytest-xdist (syrupy reports differ)."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def _write(pytester: pytest.Pytester, roll: int, use: str = CALL) -> None:
    pytester.makepyfile(test_dice=INNER_TEST.format(roll=roll, use=use))


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_a_snapshot_is_created_then_matched(pytester: pytest.Pytester) -> None:
    _write(pytester, roll=4)
    _run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    stored = pytester.path / "__snapshots__" / "test_dice" / "test_dice_run.run.txt"
    assert stored.read_text().splitlines()[:4] == [
        "[0] ModelRequestNode",
        ' 0 | system-prompt: "You run a dice game."',
        ' 0 | user-prompt: "Roll for me"',
        "[1] CallToolsNode  model=function:model:",
    ]
    second = _run(pytester)  # new random tool-call ids and timestamps: still the same snapshot
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["*1 snapshot passed*"])


def test_a_changed_run_fails_with_a_diff_that_names_the_node(pytester: pytest.Pytester) -> None:
    _write(pytester, roll=4)
    _run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    _write(pytester, roll=6)
    failed = _run(pytester, "-vv")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*-  2 |     4", "*+  2 |     6", '*-  3 | text: "You rolled a 4."'])


def test_snapshot_update_accepts_the_changed_run(pytester: pytest.Pytester) -> None:
    _write(pytester, roll=4)
    _run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    _write(pytester, roll=6)
    updated = _run(pytester, "--snapshot-update")
    updated.assert_outcomes(passed=1)
    updated.stdout.fnmatch_lines(["*1 snapshot updated*"])
    _run(pytester).assert_outcomes(passed=1)
    stored = (pytester.path / "__snapshots__" / "test_dice" / "test_dice_run.run.txt").read_text()
    assert " 2 |     6\n" in stored


def test_with_use_extension_the_report_names_the_first_changed_node(pytester: pytest.Pytester) -> None:
    _write(pytester, roll=4, use=USE)
    _run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    _write(pytester, roll=5, use=USE)
    failed = _run(pytester, "-vv")
    failed.assert_outcomes(failed=1)
    assert "first difference at node [2] ModelRequestNode" in failed.stdout.str()


# --- the text of a run ---------------------------------------------------------------------------


class Forecast(pydantic.BaseModel):
    city: str
    sky: str


def weather_agent() -> Agent[None, Any]:
    agent: Agent[None, Any] = Agent(system_prompt="Answer with the forecast.", result_type=Forecast | str)

    @agent.tool_plain
    def get_sky(city: str) -> dict[str, str]:
        """The sky over a city."""
        return {"city": city, "sky": "clear"}

    return agent


def weather_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = len(messages)
    if step == 1:
        return ModelResponse([ToolCallPart("get_sky", {"town": "Paris"}), ToolCallPart("get_sky", '{"city": "Oslo"}')])
    if step == 3:
        return ModelResponse([TextPart("Thinking...\nalmost"), ToolCallPart("get_sky", {"city": "Paris"})])
    return ModelResponse([ToolCallPart("final_result", {"city": "Paris", "sky": "clear"}), ToolCallPart("get_sky", {})])


async def _weather_run() -> tuple[Any, list[AgentNode]]:
    agent = weather_agent()
    async with agent.iter("Weather in Paris?", model=FunctionModel(weather_model)) as agent_run:
        nodes = [node async for node in agent_run]
    return agent_run, nodes


@pytest.fixture
def run_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(AgentRunSnapshotExtension)


def test_a_run_with_retries_and_a_structured_result(run_snapshot: SnapshotAssertion) -> None:
    agent_run, _ = anyio.run(_weather_run)
    assert agent_run == run_snapshot


def test_an_agent_run_and_its_result_give_the_same_text() -> None:
    agent_run, _ = anyio.run(_weather_run)
    assert serialize_run(agent_run) == serialize_run(agent_run.result)


def test_a_list_of_nodes_shows_what_the_nodes_hold(run_snapshot: SnapshotAssertion) -> None:
    _, nodes = anyio.run(_weather_run)
    assert nodes == run_snapshot


def test_ids_and_timestamps_are_normalized() -> None:
    first, second = anyio.run(_weather_run)[0], anyio.run(_weather_run)[0]
    assert first.all_messages() != second.all_messages()  # later timestamps
    assert serialize_run(first) == serialize_run(second)
    assert "id=-" in serialize_run(first)  # the model gave no tool-call ids (as FunctionModel's parts default)


def test_a_list_of_messages_is_numbered_like_nodes() -> None:
    agent_run, _ = anyio.run(_weather_run)
    text = serialize_run(agent_run.all_messages())
    assert text.startswith('[0] ModelRequestNode\n 0 | system-prompt: "Answer with the forecast."\n')
    assert "End" not in text


def test_an_unfinished_run_says_where_it_stopped(run_snapshot: SnapshotAssertion) -> None:
    agent = Agent(retries=0)
    runs: list[Any] = []

    async def main() -> None:
        async with agent.iter("Hi", model=FunctionModel(lambda messages, info: ModelResponse([]))) as agent_run:
            runs.append(agent_run)
            async for _ in agent_run:
                pass

    with pytest.raises(UnexpectedModelBehavior):
        anyio.run(main)
    assert runs[0] == run_snapshot


def test_serializing_something_else_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="expected an AgentRun, a RunResult, or a list of nodes or messages, got int"):
        serialize_run(3)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="item 0 is a str, expected a node"):
        serialize_run(["x"])


@pytest.mark.parametrize(
    ("snapshot_text", "received", "expected"),
    [
        ("[0] A\n 0 | x\n[1] B\n 1 | y\n", "[0] A\n 0 | x\n[1] B\n 1 | z\n", "first difference at node [1] B"),
        (
            "[0] A\n[1] B\n",
            "[0] A\n[1] C\n",
            "first difference at block 1: the snapshot has node [1] B, this run has node [1] C",
        ),
        ("[0] A\n", "[0] A\n[1] B\n", "first difference at node [1] B: only in this run"),
        ("[0] A\nusage: requests=1\n", "[0] A\nusage: requests=2\n", "first difference at the usage line"),
        ("[0] A\n", "[0] A\n", None),
    ],
)
def test_first_changed_node(snapshot_text: str, received: str, expected: str | None) -> None:
    assert first_changed_node(snapshot_text, received) == expected


def test_the_snapshot_example_runs() -> None:
    example = Path(__file__).parents[2] / "examples" / "testing_snapshot.py"
    completed = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, check=True)
    assert '- 2 |     "sunny"\n+ 2 |     "rainy"' in completed.stdout
