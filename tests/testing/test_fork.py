"""Fork at node N: the recorded nodes before N replay, the rest runs live and is recorded as a new run."""

from __future__ import annotations

import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agentkit import (
    Agent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from agentkit.models import FunctionModel, TestModel
from agentkit.models.function import AgentInfo
from agentkit_testing import (
    Cassette,
    CassetteDivergence,
    ForkError,
    Matching,
    RecordedRun,
    RuntimeMismatch,
    cassette,
    fork,
    fork_sync,
)
from agentkit_testing._cassette._show import render_run
from agentkit_testing._viewer._page import render_cassette_page


class Script:
    """A FunctionModel's answers in order: a tool call of `roll`, then a text; counts its requests."""

    def __init__(self, *answers: str | ToolCallPart) -> None:
        self.answers = list(answers)
        self.requests = 0

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        answer = self.answers[self.requests]
        self.requests += 1
        return ModelResponse([TextPart(answer) if isinstance(answer, str) else answer])


def roll_then(text: str) -> Script:
    return Script(ToolCallPart("roll", {}, "call-1"), text)


def make_agent(
    model: Any = None, *, system_prompt: str = "Be brief.", name: str = "dice", rolled: str = "4"
) -> tuple[Agent[None, str], list[str]]:
    agent: Agent[None, str] = Agent(model, name=name, system_prompt=system_prompt)
    calls: list[str] = []

    @agent.tool_plain
    def roll() -> str:
        """Roll a die."""
        calls.append("roll")
        return rolled

    return agent, calls


def record(path: Path, script: Script | None = None, **options: Any) -> Path:
    agent, _ = make_agent(FunctionModel(script or roll_then("You rolled 4."), model_name="recorded"), **options)
    with cassette(path, "all"):
        agent.run_sync("Roll for me")
    return path


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    return record(tmp_path / "c.yaml")


def never(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise AssertionError("replay must not ask the model")


def test_fork_answers_nodes_before_n_from_the_recording_and_the_rest_live(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    live = Script("Live answer.")
    agent, _ = make_agent()
    result = fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(live, model_name="live"))
    assert live.requests == 1
    assert result.data == "Live answer."
    assert [request.response.model_name for request in result.run.requests] == ["recorded", "live"]


def test_fork_runs_the_tools_of_the_replayed_nodes(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, calls = make_agent()
    fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert calls == ["roll"]


def test_forked_run_names_its_parent_and_fork_point_in_the_file(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent()
    fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    text = path.read_text()
    assert "forked_from:\n    run: run-1\n    node: 2\n" in text
    parent, forked = Cassette.load(path).runs
    assert parent.forked_from is None
    assert forked.forked_from is not None
    assert (forked.id, forked.forked_from.run, forked.forked_from.node) == ("run-2", "run-1", 2)
    assert forked.label == "fork of run-1 at node 2"


def test_forked_run_replays_offline(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent()
    fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live."), model_name="other"))
    replaying, calls = make_agent(FunctionModel(never, model_name="recorded"))
    with cassette(path, "none") as session:
        original = replaying.run_sync("Roll for me")
        forked = replaying.run_sync("Roll for me", model=FunctionModel(never, model_name="other"))
    assert (original.data, forked.data) == ("You rolled 4.", "Live.")
    assert [run.id for run in session.replayed_runs] == ["run-1", "run-2"]
    assert calls == ["roll", "roll"]


def test_fork_continues_on_the_agents_own_model_by_default(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    own = Script("Own model.")
    agent, _ = make_agent(FunctionModel(own, model_name="own"))
    result = fork_sync(path, agent=agent, run="run-1", at_node=2)
    assert (own.requests, result.data, result.run.model) == (1, "Own model.", "function:own")


def test_fork_at_node_zero_runs_everything_live(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    live = roll_then("All live.")
    agent, _ = make_agent()
    result = fork_sync(path, agent=agent, run="run-1", at_node=0, model=FunctionModel(live))
    assert live.requests == 2
    assert result.data == "All live."


def test_fork_keeps_the_recorded_timestamps_of_replayed_nodes(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent()
    result = fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert result.run.requests[0] == result.parent.requests[0]
    tool_return = result.run.requests[1].messages[0]
    assert tool_return == result.parent.requests[1].messages[0]


def test_fork_with_save_false_leaves_the_file_alone(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    before = path.read_bytes()
    agent, _ = make_agent()
    result = fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")), save=False)
    assert path.read_bytes() == before
    assert [run.id for run in result.cassette.runs] == ["run-1", "run-2"]


def test_fork_of_an_in_memory_cassette_adds_the_run_to_it(tmp_path: Path) -> None:
    store = Cassette.load(record(tmp_path / "c.yaml"))
    in_memory = Cassette(runs=store.runs)
    agent, _ = make_agent()
    fork_sync(in_memory, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert [run.id for run in in_memory.runs] == ["run-1", "run-2"]


@pytest.mark.anyio
async def test_fork_runs_under_asyncio_and_trio(recorded: Path) -> None:
    agent, _ = make_agent()
    result = await fork(recorded, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert result.data == "Live."


def test_fork_inside_a_cassette_block_is_recorded_by_the_fork_only(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent()
    with cassette(tmp_path / "outer.yaml", "all") as outer:
        fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert outer.recorded_runs == []
    assert not (tmp_path / "outer.yaml").exists()


def test_external_tools_of_replayed_nodes_get_their_recorded_return(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, calls = make_agent(rolled="6")
    result = fork_sync(
        path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")), external_tools=["roll"]
    )
    assert calls == []
    (tool_return,) = result.run.requests[1].messages[0].parts  # type: ignore[union-attr]
    assert isinstance(tool_return, ToolReturnPart)
    assert tool_return.content == "4"


def test_external_tools_after_the_fork_point_are_called(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, calls = make_agent()
    fork_sync(
        path, agent=agent, run="run-1", at_node=0, model=FunctionModel(roll_then("Live.")), external_tools=["roll"]
    )
    assert calls == ["roll"]


# --- the replayed part must match its recording ----------------------------------------------


def test_changed_system_prompt_diverges_at_node_zero_with_a_hint(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent(system_prompt="Be thorough.")
    with pytest.raises(CassetteDivergence) as raised:
        fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert (raised.value.node_index, raised.value.field) == (0, "system_prompt")
    assert any("Matching(ignore=" in note for note in raised.value.__notes__)
    assert len(Cassette.load(path).runs) == 1


def test_changed_system_prompt_forks_when_left_out_of_matching(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent(system_prompt="Be thorough.")
    result = fork_sync(
        path,
        agent=agent,
        run="run-1",
        at_node=2,
        model=FunctionModel(Script("Live.")),
        matching=Matching(ignore={"system_prompt"}),
    )
    first = result.run.requests[0].messages[0]
    assert isinstance(first, ModelRequest)
    assert first.parts[0].content == "Be thorough."  # what the forked agent sent is what is recorded


def test_changed_tool_return_in_the_last_replayed_node_diverges(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    agent, _ = make_agent(rolled="6")
    with pytest.raises(CassetteDivergence) as raised:
        fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    assert (raised.value.node_index, raised.value.field) == (1, "tool_return")


def test_failing_live_part_writes_nothing(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    before = path.read_bytes()
    agent, _ = make_agent()

    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise RuntimeError("model down")

    with pytest.raises(RuntimeError, match="model down"):
        fork_sync(path, agent=agent, run="run-1", at_node=2, model=FunctionModel(broken))
    assert path.read_bytes() == before


def test_run_ending_before_the_fork_point_is_an_error(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml")
    (run,) = Cassette.load(path).runs
    first = dataclasses.replace(run.requests[0], response=ModelResponse([TextPart("Done early.")], "recorded"))
    early = dataclasses.replace(run, requests=(first, run.requests[1]), result=None)
    agent, _ = make_agent()
    with pytest.raises(ForkError, match="ended at node 2 while replaying") as raised:
        fork_sync(
            Cassette(runs=[early]),
            agent=agent,
            run="run-1",
            at_node=2,
            model=FunctionModel(Script("Live.")),
            matching=Matching(ignore={"nodes"}),
        )
    assert (raised.value.run_id, raised.value.node_index) == ("run-1", 2)


# --- what cannot be forked -----------------------------------------------------------------------


def fork_error(path: Path | Cassette, run: str = "run-1", at_node: int = 2, **options: Any) -> ForkError:
    agent, _ = options.pop("agent", None) or make_agent()
    with pytest.raises(ForkError) as raised:
        fork_sync(path, agent=agent, run=run, at_node=at_node, model=FunctionModel(never), **options)
    return raised.value


def test_unknown_run_names_the_cassette_the_run_and_the_runs_it_holds(recorded: Path) -> None:
    error = fork_error(recorded, run="run-9")
    assert str(recorded) in str(error)
    assert "no run 'run-9' to fork at node 2" in str(error)
    assert "holds 1 run(s): run-1" in str(error)
    assert (error.run_id, error.node_index, error.path) == ("run-9", 2, recorded)


def test_node_beyond_the_run_names_its_length_and_the_fork_points(recorded: Path) -> None:
    error = fork_error(recorded, at_node=7)
    assert str(recorded) in str(error)
    assert "run 'run-1' cannot be forked at node 7: node 7 is beyond its end (it has 5 nodes, 0 to 4)" in str(error)
    assert "here node 0, 2" in str(error)
    assert isinstance(error, ValueError)


def test_negative_node_is_beyond_the_run(recorded: Path) -> None:
    assert "node -1 is beyond its end" in str(fork_error(recorded, at_node=-1))


@pytest.mark.parametrize(("node", "kind"), [(1, "CallToolsNode"), (3, "CallToolsNode"), (4, "End")])
def test_node_that_is_not_a_request_node_is_refused(recorded: Path, node: int, kind: str) -> None:
    assert f"node {node} is a {kind}, not a ModelRequestNode" in str(fork_error(recorded, at_node=node))


def test_run_of_another_runtime_is_refused() -> None:
    foreign = RecordedRun(
        id="run-1", agent="dice", model="openai:gpt-4o", user_prompt="Hi", runtime="pydantic-ai 2.68.0"
    )
    agent, _ = make_agent()
    with pytest.raises(RuntimeMismatch, match=r"run 'run-1' was recorded under pydantic-ai 2\.68\.0") as raised:
        fork_sync(Cassette(runs=[foreign]), agent=agent, run="run-1", at_node=2, model=FunctionModel(never))
    assert "node 2" in str(raised.value)
    assert raised.value.run_id == "run-1"


def test_streamed_run_is_refused(recorded: Path) -> None:
    (run,) = Cassette.load(recorded).runs
    error = fork_error(Cassette(runs=[dataclasses.replace(run, streamed=True)]))
    assert "started with run_stream()" in str(error)


def test_run_of_another_agent_is_refused(recorded: Path) -> None:
    error = fork_error(recorded, agent=make_agent(name="poker"))
    assert "recorded by agent 'dice', not 'poker'" in str(error)


# --- how a forked run is shown -------------------------------------------------------------------


def test_cassette_show_names_the_parent_and_the_fork_point(recorded: Path) -> None:
    agent, _ = make_agent()
    result = fork_sync(recorded, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    lines = render_run(result.run)
    assert lines[1] == "  (forked from run-1 at node 2: nodes 0-1 replayed from it, node 2 on live)"


def test_cassette_page_links_the_parent_and_marks_the_replayed_nodes(recorded: Path) -> None:
    agent, _ = make_agent()
    fork_sync(recorded, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live.")))
    page = render_cassette_page(Cassette.load(recorded))
    assert 'forked from <a href="#run-1">run-1</a> at node 2' in page
    forked = page[page.index('id="run-2"') :]
    assert re.findall(r'class="node (\w+)[^"]*\breplayed\b[^"]*" data-node="(\d)"', forked) == [
        ("ModelRequestNode", "0"),
        ("CallToolsNode", "1"),
    ]


def test_fork_on_the_same_model_is_replayed_by_the_second_such_run(recorded: Path) -> None:
    agent, _ = make_agent()
    fork_sync(
        recorded, agent=agent, run="run-1", at_node=2, model=FunctionModel(Script("Live."), model_name="recorded")
    )
    replaying, _ = make_agent(FunctionModel(never, model_name="recorded"))
    with cassette(recorded, "none") as session:
        answers = [replaying.run_sync("Roll for me").data for _ in range(2)]
    assert answers == ["You rolled 4.", "Live."]
    assert [run.id for run in session.replayed_runs] == ["run-1", "run-2"]


def test_parallel_forks_each_return_the_run_as_saved(recorded: Path) -> None:
    def fork_one(number: int) -> RecordedRun:
        agent, _ = make_agent()
        model = FunctionModel(Script(f"Live {number}."), model_name="same")
        return fork_sync(recorded, agent=agent, run="run-1", at_node=2, model=model).run

    with ThreadPoolExecutor(max_workers=4) as pool:
        forked = list(pool.map(fork_one, range(4)))
    on_disk = {run.id: run for run in Cassette.load(recorded).runs}
    assert sorted(on_disk) == ["run-1", "run-2", "run-3", "run-4", "run-5"]
    assert sorted(run.id for run in forked) == ["run-2", "run-3", "run-4", "run-5"]
    for run in forked:
        assert on_disk[run.id] == run


def test_fork_continues_on_test_model(recorded: Path) -> None:
    agent, calls = make_agent()
    result = fork_sync(recorded, agent=agent, run="run-1", at_node=2, model=TestModel())
    assert [request.response.model_name for request in result.run.requests] == ["recorded", "test"]
    assert result.data == '{"roll":"4"}'  # TestModel's text: the returns of the tools it saw called
    assert calls == ["roll"]
