"""Re-recording an unchanged suite changes no byte: kept run texts, volatile values, the spliced file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from agentkit import Agent, ModelResponse, RunContext, TextPart
from agentkit.models import AgentInfo, FunctionModel, TestModel
from agentkit_testing import Cassette, RecordMode, cassette
from agentkit_testing._cassette._codec import encode_document
from agentkit_testing._cassette._io import dump_document
from agentkit_testing._cassette._splice import without_volatile_values

REPOSITORY = Path(__file__).resolve().parents[3]


def travel_agent(model: TestModel | FunctionModel | None = None) -> Agent[str, str]:
    agent: Agent[str, str] = Agent(model or TestModel(), deps_type=str, name="travel")

    @agent.tool
    async def weather(ctx: RunContext[str], city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city} for {ctx.deps}"

    @agent.tool_plain
    def local_time(utc_offset: int = 0) -> str:
        """Local time."""
        return f"{12 + utc_offset}:00"

    return agent


def record_suite(path: Path, mode: RecordMode, prompts: tuple[str, ...] = ("Paris?", "Rome?", "Oslo?")) -> None:
    """Runs of a small suite, one of them streamed, recorded into `path` in `mode`."""
    agent = travel_agent()

    async def streamed() -> None:
        async with agent.run_stream("Stream it", deps="Anne") as result:
            await result.get_data()

    with cassette(path, mode):
        for prompt in prompts:
            agent.run_sync(prompt, deps="Anne")
        anyio.run(streamed)


def git(repository: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    """A git repository holding a freshly recorded cassette, committed."""
    if shutil.which("git") is None:  # pragma: no cover - git is installed where the suite runs
        pytest.fail("these tests need git on PATH")
    git(tmp_path, "init", "-q")
    path = tmp_path / "cassettes" / "suite.yaml"
    record_suite(path, "once")
    git(tmp_path, "add", "-A")
    assert git(tmp_path, "commit", "-q", "-m", "record").returncode == 0
    return path


@pytest.mark.parametrize("mode", ["all", "rewrite"])
def test_rerecording_an_unchanged_suite_leaves_no_git_diff(committed: Path, mode: RecordMode) -> None:
    record_suite(committed, mode)
    diff = git(committed.parents[1], "diff", "--exit-code")
    assert diff.returncode == 0, diff.stdout


def test_new_episodes_adding_a_run_only_adds_lines(committed: Path) -> None:
    record_suite(committed, "new_episodes", ("Paris?", "Rome?", "Oslo?", "Lima?"))
    numstat = git(committed.parents[1], "diff", "--numstat").stdout.split()
    added, deleted = int(numstat[0]), int(numstat[1])
    assert added > 0
    assert deleted == 0


def test_rewrite_rewrites_only_the_run_that_changed(committed: Path) -> None:
    before = committed.read_text()
    record_suite(committed, "rewrite", ("Paris?", "Madrid?", "Oslo?"))
    after = committed.read_text()
    runs = Cassette.load(committed).runs
    assert [run.user_prompt for run in runs] == ["Paris?", "Madrid?", "Oslo?", "Stream it"]
    old_runs, new_runs = before.split("\n- "), after.split("\n- ")
    assert [new_runs[index] == old_runs[index] for index in range(5)] == [True, True, False, True, True]


def test_run_changed_only_in_timestamps_and_tool_call_ids_keeps_its_recorded_text(tmp_path: Path) -> None:
    calls = iter(range(100))

    def answer(messages: list[object], info: AgentInfo) -> ModelResponse:
        from agentkit import ToolCallPart

        if len(messages) == 1:
            return ModelResponse([ToolCallPart("local_time", {"utc_offset": 1}, f"call_{next(calls)}")])
        return ModelResponse([TextPart("13:00")])

    path = tmp_path / "ids.yaml"
    agent = travel_agent(FunctionModel(answer))
    with cassette(path, "once"):
        agent.run_sync("time?", deps="x")
    before = path.read_bytes()
    with cassette(path, "rewrite"):
        agent.run_sync("time?", deps="x")
    assert path.read_bytes() == before
    assert b"call_0" in before


def test_volatile_values_are_timestamps_response_ids_and_tool_call_ids_renamed_in_order() -> None:
    first = {
        "id": "run-1",
        "a": [{"tool_call_id": "x", "timestamp": "t1"}, {"tool_call_id": "y"}, {"tool_call_id": "x"}],
    }
    second = {
        "id": "run-9",
        "a": [{"tool_call_id": "p", "timestamp": "t2"}, {"tool_call_id": "q"}, {"tool_call_id": "p"}],
    }
    swapped = {"id": "run-1", "a": [{"tool_call_id": "x"}, {"tool_call_id": "y"}, {"tool_call_id": "y"}]}
    assert without_volatile_values(first) == without_volatile_values(second)
    assert without_volatile_values(first) != without_volatile_values(swapped)


def test_spliced_file_equals_a_whole_dump_of_the_same_runs(tmp_path: Path) -> None:
    path = tmp_path / "splice.yaml"
    record_suite(path, "once")
    runs = Cassette.load(path).runs
    whole = dump_document(encode_document(runs), "yaml", Cassette(path).scrubber.scrub_text(_comment()))
    assert path.read_bytes() == whole


def _comment() -> str:
    from agentkit_testing._cassette._file import DEFAULT_COMMENT

    return DEFAULT_COMMENT


RECORD_SCRIPT = textwrap.dedent(
    """
    import sys
    from agentkit import Agent, RunContext, override_sources, FixedClock
    from agentkit.models import TestModel
    from agentkit_testing import cassette

    agent = Agent(TestModel(), deps_type=str, name="travel")

    @agent.tool
    async def weather(ctx: RunContext[str], city: str) -> str:
        \"\"\"The weather in a city.\"\"\"
        return f"sunny in {city}"

    pinned = sys.argv[3] == "pinned"
    with cassette(sys.argv[1], sys.argv[2]):
        for prompt in ("Paris?", "Rome?"):
            if pinned:
                with override_sources(clock=FixedClock()):
                    agent.run_sync(prompt, deps="Anne")
            else:
                agent.run_sync(prompt, deps="Anne")
    """
)


def record_in_fresh_process(path: Path, mode: str, clock: str) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "PYTHONHASHSEED": "random"}
    subprocess.run(
        [sys.executable, "-c", RECORD_SCRIPT, str(path), mode, clock], check=True, env=environment, timeout=120
    )


def test_a_run_recorded_in_two_fresh_processes_with_a_pinned_clock_gives_identical_files(tmp_path: Path) -> None:
    record_in_fresh_process(tmp_path / "first.yaml", "once", "pinned")
    record_in_fresh_process(tmp_path / "second.yaml", "once", "pinned")
    assert (tmp_path / "first.yaml").read_bytes() == (tmp_path / "second.yaml").read_bytes()


def test_rerecording_in_a_fresh_process_with_the_system_clock_gives_the_same_bytes(tmp_path: Path) -> None:
    record_in_fresh_process(tmp_path / "first.yaml", "once", "system")
    recorded = (tmp_path / "first.yaml").read_bytes()
    for mode in ("rewrite", "all"):
        record_in_fresh_process(tmp_path / "first.yaml", mode, "system")
        assert (tmp_path / "first.yaml").read_bytes() == recorded, mode


@pytest.mark.parametrize("mode", ["all", "rewrite"])
def test_rerecording_an_unchanged_json_cassette_gives_the_same_bytes(tmp_path: Path, mode: RecordMode) -> None:
    path = tmp_path / "suite.json"
    record_suite(path, "once")
    before = path.read_bytes()
    record_suite(path, mode)
    assert path.read_bytes() == before
