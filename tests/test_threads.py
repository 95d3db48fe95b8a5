"""Sync tools, sync system prompts and sync FunctionModel functions run in worker threads.

They never run on the event loop thread, several in one response run at once, they see the run's
context variables, a cancelled run waits for the ones running, and the default thread limiter
bounds them, under asyncio (agentkit's own workers) and trio (anyio's).
"""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import threading
import time
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pytest
import sniffio

from agentkit import (
    Agent,
    ModelResponse,
    ModelRetry,
    RetryPromptPart,
    RunContext,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from agentkit._graph._threads import _WorkerPool, gather_in_order, run_in_worker_thread
from agentkit.messages import ModelMessage
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def two_calls_then_text(tool: str) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart(tool, {"tag": "a"}, "1"), ToolCallPart(tool, {"tag": "b"}, "2")])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(respond)


def tool_returns(messages: list[ModelMessage]) -> list[tuple[str | None, Any]]:
    return [
        (part.tool_call_id, part.content)
        for message in messages
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]


async def test_a_sync_tool_runs_off_the_event_loop_thread() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    agent = Agent(TestModel())

    @agent.tool_plain
    def where() -> str:
        seen.append(threading.get_ident())
        return "here"

    await agent.run("go")
    assert seen
    assert seen[0] != loop_thread


async def test_sync_tools_of_one_response_run_at_once_and_answer_in_call_order() -> None:
    both_inside = threading.Barrier(2, timeout=5)  # breaks (and the tool raises) unless both run at once
    agent = Agent(two_calls_then_text("meet"))

    @agent.tool_plain
    def meet(tag: str) -> str:
        both_inside.wait()
        if tag == "a":
            time.sleep(0.02)  # the first call finishes last
        return tag

    result = await agent.run("go")
    assert tool_returns(result.all_messages()) == [("1", "a"), ("2", "b")]


async def test_sync_tools_answer_in_call_order_when_one_call_has_invalid_arguments() -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(
                parts=[
                    ToolCallPart("echo", {"wrong": 1}, "1"),
                    ToolCallPart("echo", {"tag": "b"}, "2"),
                    ToolCallPart("echo", {"tag": "c"}, "3"),
                ]
            )
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(respond))

    @agent.tool_plain
    def echo(tag: str) -> str:
        return tag

    result = await agent.run("go")
    answers = result.all_messages()[2].parts
    assert [type(part).__name__ for part in answers] == ["RetryPromptPart", "ToolReturnPart", "ToolReturnPart"]
    assert [getattr(part, "content", None) for part in answers[1:]] == ["b", "c"]


async def test_model_retry_from_one_of_several_sync_tools_is_its_own_retry_prompt() -> None:
    agent = Agent(two_calls_then_text("picky"))

    @agent.tool_plain
    def picky(tag: str) -> str:
        if tag == "a":
            raise ModelRetry("not a")
        return tag

    result = await agent.run("go")
    first, second = result.all_messages()[2].parts
    assert isinstance(first, RetryPromptPart)
    assert (first.content, first.tool_call_id) == ("not a", "1")
    assert isinstance(second, ToolReturnPart)
    assert second.content == "b"


async def test_the_first_failing_sync_tool_in_call_order_is_raised_naming_the_others() -> None:
    agent = Agent(two_calls_then_text("broken"))

    @agent.tool_plain
    def broken(tag: str) -> str:
        if tag == "a":
            time.sleep(0.05)  # ends last, and is still the one raised
        raise LookupError(f"no {tag}")

    with pytest.raises(LookupError, match="no a") as info:
        await agent.run("go")
    notes = info.value.__notes__
    assert any("raised by tool 'broken' (tool_call_id='1'" in note for note in notes)
    assert any("1 other tool call(s) in this response also raised" in note for note in notes)


async def test_a_sync_tool_sees_the_runs_context_variables() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def which_request() -> str:
        return request_id.get()

    token = request_id.set("r-42")
    try:
        result = await agent.run("go")
    finally:
        request_id.reset(token)
    assert tool_returns(result.all_messages())[0][1] == "r-42"


async def test_sniffio_finds_no_async_library_inside_a_sync_tool() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def library() -> str:
        try:
            return sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            return "none"

    result = await agent.run("go")
    assert tool_returns(result.all_messages())[0][1] == "none"


async def test_a_sync_system_prompt_and_a_sync_model_function_run_off_the_event_loop_thread() -> None:
    loop_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen["model"] = threading.get_ident()
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(respond))

    @agent.system_prompt
    def prompt() -> str:
        seen["prompt"] = threading.get_ident()
        return "Be brief."

    await agent.run("go")
    assert loop_thread not in seen.values()
    assert set(seen) == {"model", "prompt"}


async def test_a_cancelled_run_waits_for_its_running_sync_tool() -> None:
    started, finished = threading.Event(), threading.Event()
    agent = Agent(TestModel())

    @agent.tool_plain
    def slow() -> str:
        started.set()
        time.sleep(0.3)
        finished.set()
        return "late"

    with anyio.move_on_after(0.05):
        await agent.run("go")  # cancelled once the tool is done, or (trio: no checkpoint after it) not at all
    assert started.is_set()
    assert finished.is_set()


async def test_a_cancelled_run_waits_for_every_running_sync_tool() -> None:
    finished: list[str] = []
    agent = Agent(two_calls_then_text("slow"))

    @agent.tool_plain
    def slow(tag: str) -> str:
        time.sleep(0.2 if tag == "a" else 0.3)
        finished.append(tag)
        return tag

    with anyio.move_on_after(0.05):
        await agent.run("go")
    assert sorted(finished) == ["a", "b"]


async def test_a_sync_tool_error_wins_over_the_cancellation_that_waited_for_it() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def failing() -> str:
        time.sleep(0.2)
        raise LookupError("database down")

    with pytest.raises(LookupError, match="database down"), anyio.move_on_after(0.05):
        await agent.run("go")


async def test_the_default_thread_limiter_bounds_how_many_sync_tools_run_at_once() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    inside, most = 0, 0
    lock = threading.Lock()
    agent = Agent(two_calls_then_text("count"))

    @agent.tool_plain
    def count(tag: str) -> str:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        with lock:
            inside -= 1
        return tag

    tokens = limiter.total_tokens
    limiter.total_tokens = 1
    try:
        result = await agent.run("go")
    finally:
        limiter.total_tokens = tokens
    assert most == 1
    assert tool_returns(result.all_messages()) == [("1", "a"), ("2", "b")]


async def test_gather_in_order_keeps_the_order_of_the_operations_not_of_their_ends() -> None:
    async def after(delay: float, value: str) -> str:
        await anyio.sleep(delay)
        return value

    values = await gather_in_order([after(0.03, "first"), after(0.0, "second")])
    assert values == ["first", "second"]


async def test_run_in_worker_thread_passes_the_exception_of_the_function_on() -> None:
    def broken() -> str:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await run_in_worker_thread(broken)


def test_under_plain_asyncio_a_cancelled_run_waits_for_its_running_sync_tool() -> None:
    finished = threading.Event()
    agent = Agent(TestModel())

    @agent.tool_plain
    def slow() -> str:
        time.sleep(0.3)
        finished.set()
        return "late"

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(agent.run("go"), 0.05)
        assert finished.is_set()

    asyncio.run(main())


def test_under_plain_asyncio_a_cancelled_run_waits_for_all_its_running_sync_tools() -> None:
    finished: list[str] = []
    agent = Agent(two_calls_then_text("slow"))

    @agent.tool_plain
    def slow(tag: str) -> str:
        time.sleep(0.2 if tag == "a" else 0.3)
        finished.append(tag)
        return tag

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(agent.run("go"), 0.05)
        assert sorted(finished) == ["a", "b"]

    asyncio.run(main())


def test_an_idle_worker_ends_and_a_later_job_starts_a_new_one() -> None:
    pool = _WorkerPool(idle_seconds=0.05)

    async def twice() -> list[threading.Thread]:
        loop = asyncio.get_running_loop()
        first = await pool.run(loop, threading.current_thread)
        deadline = time.monotonic() + 5
        while pool.workers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert pool.workers == 0
        second = await pool.run(loop, threading.current_thread)
        return [first, second]

    first, second = asyncio.run(twice())
    assert first is not second
    assert not first.is_alive()
    assert pool.workers == 1


def test_sync_tools_still_run_in_a_process_forked_after_the_workers_started() -> None:
    code = (
        "import os, sys\n"
        "from agentkit import Agent\n"
        "from agentkit.models import TestModel\n"
        "agent = Agent(TestModel())\n"
        "@agent.tool_plain\n"
        "def ping() -> str:\n"
        "    return 'pong'\n"
        "agent.run_sync('go')\n"  # the parent's pool now has an idle worker
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if 'pong' in str(agent.run_sync('go').all_messages()) else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], timeout=60, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


async def test_a_sync_tool_can_run_another_agent_to_the_end_with_run_sync() -> None:
    inner = Agent(TestModel(custom_result_text="inner answer"))
    outer = Agent(TestModel())

    @outer.tool_plain
    def ask_inner() -> str:
        return inner.run_sync("question").data

    result = await outer.run("go")
    assert tool_returns(result.all_messages())[0][1] == "inner answer"


async def test_a_sync_tool_gets_its_run_context() -> None:
    agent = Agent(TestModel(), deps_type=str)

    @agent.tool
    def greet(ctx: RunContext[str]) -> str:
        return f"hello {ctx.deps}"

    result = await agent.run("go", deps="ada")
    assert tool_returns(result.all_messages())[0][1] == "hello ada"


async def test_a_sync_tool_calls_back_into_the_loop_with_a_token() -> None:
    token = anyio.lowlevel.current_token()
    loop_thread = threading.get_ident()
    seen: list[int] = []

    async def on_the_loop(city: str) -> str:
        seen.append(threading.get_ident())
        await anyio.sleep(0)
        return f"sunny in {city}"

    agent = Agent(TestModel())

    @agent.tool_plain
    def forecast(city: str) -> str:
        return anyio.from_thread.run(on_the_loop, city, token=token)

    result = await agent.run("weather?")
    assert seen == [loop_thread]
    assert "sunny in" in result.data


SLOW_ASYNCIO_IMPORT = """
import importlib.abc, importlib.machinery, sys, threading, time

class SlowAsyncio(importlib.abc.MetaPathFinder):
    # asyncio takes 0.5 s to import, so other threads find it half-imported in sys.modules meanwhile.
    def find_spec(self, name, path=None, target=None):
        if name != "asyncio":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            time.sleep(0.5)
            run(module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, SlowAsyncio())
from agentkit import Agent
from agentkit.models import TestModel
assert "asyncio" not in sys.modules

agent = Agent(TestModel())
errors, answers = [], []

def ask():
    try:
        answers.append(agent.run_sync("hello").data)
    except Exception as error:
        errors.append(repr(error))

first = threading.Thread(target=ask)
first.start()
time.sleep(0.2)  # the first run is importing asyncio now
others = [threading.Thread(target=ask) for _ in range(3)]
for thread in others:
    thread.start()
for thread in [first, *others]:
    thread.join()
print(len(answers), errors)
"""


def test_run_sync_in_threads_while_another_thread_imports_asyncio() -> None:
    # A run started while another thread was importing asyncio found it half-imported in
    # sys.modules: AttributeError "partially initialized module 'asyncio' has no attribute
    # 'get_running_loop'" (about two runs in three failed when 8 threads started at once).
    done = subprocess.run([sys.executable, "-c", SLOW_ASYNCIO_IMPORT], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 []"
