"""A cassette block, `capture_runs` and the request guard hold for runs started in other threads."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest

from agentkit import Agent, ModelMessage, ModelRequestsBlocked, ModelResponse, RunResult, TextPart, UserError
from agentkit.models import AgentInfo, FunctionModel, OpenAIModel, override_allow_model_requests
from agentkit_testing._capture import capture_runs
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette

T = TypeVar("T")
CANARY_KEY = "sk-agentkit-canary-never-valid"


class Oracle:
    """A model function that answers with the prompt in capitals, counting the requests it gets."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        prompt = messages[-1].parts[-1].content  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart(str(prompt).upper())])


@pytest.fixture
def oracle() -> Oracle:
    return Oracle()


@pytest.fixture
def agent(oracle: Oracle) -> Agent[None, str]:
    return Agent(FunctionModel(oracle, model_name="oracle"), name="oracle_agent")


def in_thread(work: Callable[[], T]) -> T:
    """Run `work` in a plain `threading.Thread` (a fresh, empty context) and return its result."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(("value", work()))
        except BaseException as error:  # handed back to the test thread, which re-raises it
            outcome.append(("error", error))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def in_pool(work: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def via_anyio_to_thread(work: Callable[[], T]) -> T:
    return anyio.run(anyio.to_thread.run_sync, work)


def via_asyncio_to_thread(work: Callable[[], T]) -> T:
    return asyncio.run(asyncio.to_thread(work))


Way = Callable[[Agent[None, str], str], RunResult[Any]]
WAYS: dict[str, Way] = {
    "thread-run_sync": lambda agent, prompt: in_thread(lambda: agent.run_sync(prompt)),
    "thread-asyncio_run": lambda agent, prompt: in_thread(lambda: asyncio.run(agent.run(prompt))),
    "thread-trio": lambda agent, prompt: in_thread(lambda: anyio.run(agent.run, prompt, backend="trio")),
    "pool-run_sync": lambda agent, prompt: in_pool(lambda: agent.run_sync(prompt)),
    "anyio_to_thread-run_sync": lambda agent, prompt: via_anyio_to_thread(lambda: agent.run_sync(prompt)),
    "asyncio_to_thread-run_sync": lambda agent, prompt: via_asyncio_to_thread(lambda: agent.run_sync(prompt)),
}


@pytest.fixture(params=list(WAYS))
def way(request: pytest.FixtureRequest) -> Way:
    """One way of starting a run away from the test's own context."""
    return WAYS[request.param]


def test_a_run_started_in_another_thread_is_recorded(way: Way, agent: Agent[None, str], tmp_path: Path) -> None:
    path = tmp_path / "threads.yaml"
    with cassette(path, "once") as session:
        result = way(agent, "hello")
    assert result.data == "HELLO"
    assert len(session.recorded_runs) == 1
    assert [(run.agent, run.user_prompt) for run in Cassette.load(path).runs] == [("oracle_agent", "hello")]


def test_a_run_started_in_another_thread_is_replayed_in_mode_none(
    way: Way, agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "threads.yaml"
    with cassette(path, "once"):
        agent.run_sync("hello")
    assert oracle.requests == 1
    with cassette(path, "none") as session:
        result = way(agent, "hello")
    assert (result.data, oracle.requests) == ("HELLO", 1)
    assert [run.id for run in session.replayed_runs] == ["run-1"]


def test_an_unrecorded_run_in_another_thread_fails_in_mode_none(
    way: Way, agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    from agentkit_testing._exceptions import UnrecordedRequest

    with pytest.raises(UnrecordedRequest, match="does not exist"), cassette(tmp_path / "missing.yaml", "none"):
        way(agent, "hello")
    assert oracle.requests == 0


@pytest.fixture
def unused_local_url() -> str:
    """An OpenAI-style base URL on 127.0.0.1 at a port nothing listens on: no request can leave the machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.agentkit_allow_model_requests  # the plugin lifts its block; the test's own block must hold
def test_the_request_guard_blocks_a_provider_model_in_another_thread(way: Way, unused_local_url: str) -> None:
    agent: Agent[None, str] = Agent(OpenAIModel("gpt-4o", base_url=unused_local_url, api_key=CANARY_KEY))
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked, match="OpenAIModel 'gpt-4o'"):
        way(agent, "hello")


def test_capture_runs_sees_a_run_started_in_another_thread(way: Way, agent: Agent[None, str]) -> None:
    with capture_runs() as runs:
        way(agent, "hello")
    assert [(run.agent_name, run.user_prompt) for run in runs] == [("oracle_agent", "hello")]


@pytest.fixture
def parked_thread() -> Iterator[Callable[[Callable[[], Any]], tuple[threading.Event, Callable[[], Any]]]]:
    """Starts a thread that waits for an event before doing its work; gives the event and a join."""
    threads: list[threading.Thread] = []

    def park(work: Callable[[], Any]) -> tuple[threading.Event, Callable[[], Any]]:
        go = threading.Event()
        outcome: list[Any] = []

        def target() -> None:
            go.wait(timeout=10)
            try:
                outcome.append(work())
            except BaseException as error:  # handed back by join()
                outcome.append(error)

        thread = threading.Thread(target=target)
        thread.start()
        threads.append(thread)

        def join() -> Any:
            thread.join()
            if isinstance(outcome[0], BaseException):
                raise outcome[0]
            return outcome[0]

        return go, join

    yield park
    for thread in threads:
        thread.join(timeout=10)


def test_a_thread_started_before_the_block_is_recorded_when_it_runs_inside_it(
    parked_thread: Any, agent: Agent[None, str], tmp_path: Path
) -> None:
    go, join = parked_thread(lambda: agent.run_sync("early thread"))
    path = tmp_path / "early.yaml"
    with cassette(path, "once"):
        go.set()
        join()
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["early thread"]


def test_after_the_block_ends_a_threads_run_is_no_longer_intercepted(
    parked_thread: Any, agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "ended.yaml"
    with cassette(path, "once"):
        agent.run_sync("inside")
        go, join = parked_thread(lambda: agent.run_sync("after the block"))
    go.set()
    assert join().data == "AFTER THE BLOCK"
    assert oracle.requests == 2
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["inside"]


def test_a_thread_run_goes_to_the_innermost_of_nested_blocks(agent: Agent[None, str], tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer.yaml", tmp_path / "inner.yaml"
    with cassette(outer, "once"):
        with cassette(inner, "once"):
            in_thread(lambda: agent.run_sync("nested"))
        in_thread(lambda: agent.run_sync("outer only"))
    assert [run.user_prompt for run in Cassette.load(inner).runs] == ["nested"]
    assert [run.user_prompt for run in Cassette.load(outer).runs] == ["outer only"]


def test_a_thread_run_is_refused_while_unrelated_blocks_are_open_in_two_threads(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    opened = threading.Barrier(3, timeout=10)
    done = threading.Event()

    def hold_block(name: str) -> None:
        with cassette(tmp_path / f"{name}.yaml", "once"):
            opened.wait()
            done.wait(timeout=10)

    holders = [threading.Thread(target=hold_block, args=(name,)) for name in ("first", "second")]
    for holder in holders:
        holder.start()
    opened.wait()
    try:
        with pytest.raises(UserError, match=r"(?s)first\.yaml.*second\.yaml|second\.yaml.*first\.yaml"):
            in_thread(lambda: agent.run_sync("whose run?"))
    finally:
        done.set()
        for holder in holders:
            holder.join(timeout=10)
    assert oracle.requests == 0


@pytest.mark.anyio
async def test_concurrent_tasks_with_different_cassettes_each_get_their_own(
    agent: Agent[None, str], tmp_path: Path
) -> None:
    both_open = anyio.Event()
    opened: list[str] = []

    async def record(name: str) -> None:
        with cassette(tmp_path / f"{name}.yaml", "once"):
            opened.append(name)
            if len(opened) == 2:
                both_open.set()
            await both_open.wait()
            await agent.run(f"task {name}")

    async with anyio.create_task_group() as group:
        group.start_soon(record, "a")
        group.start_soon(record, "b")
    for name in ("a", "b"):
        assert [run.user_prompt for run in Cassette.load(tmp_path / f"{name}.yaml").runs] == [f"task {name}"]


def test_a_thread_pool_sharing_one_cassette_records_and_replays_every_run(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "pool.yaml"
    prompts = [f"question {index % 4}" for index in range(12)]
    with cassette(path, "once"), ThreadPoolExecutor(max_workers=4) as pool:
        recorded = [result.data for result in pool.map(agent.run_sync, prompts)]
    assert (len(Cassette.load(path).runs), oracle.requests) == (12, 12)
    with cassette(path, "none") as session, ThreadPoolExecutor(max_workers=4) as pool:
        replayed = [result.data for result in pool.map(agent.run_sync, prompts)]
    assert replayed == recorded
    assert (len(session.replayed_runs), session.unplayed_runs, oracle.requests) == (12, [], 12)


def test_a_context_copied_inside_the_block_is_not_intercepted_after_it_ends(
    agent: Agent[None, str], oracle: Oracle, tmp_path: Path
) -> None:
    path = tmp_path / "copied.yaml"
    with cassette(path, "once") as session:
        agent.run_sync("inside")
        copied = contextvars.copy_context()
    result = in_pool(lambda: copied.run(agent.run_sync, "after the block"))
    assert (result.data, oracle.requests) == ("AFTER THE BLOCK", 2)
    assert [run.user_prompt for run in session.recorded_runs] == ["inside"]
