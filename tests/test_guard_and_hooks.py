"""The request guard and the run-interception hook the recorder is built on, in tasks and in threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentNode,
    ModelRequestsBlocked,
    ModelResponse,
    RetryPromptPart,
    RunInfo,
    RunObserver,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    intercept_runs,
)
from agentkit.models import (
    Model,
    ModelRequestParameters,
    TestModel,
    check_allow_model_requests,
    override_allow_model_requests,
)

# These tests drive the guard themselves, so the plugin's default block is lifted for them.
pytestmark = [pytest.mark.anyio, pytest.mark.agentkit_allow_model_requests]


class NetworkModel(Model):
    """Stands in for a provider: it would talk to a real service."""

    def __init__(self) -> None:
        self.requests = 0

    @property
    def model_name(self) -> str:
        return "network"

    @property
    def system(self) -> str:
        return "example"

    async def request(
        self, messages: list[Any], model_settings: Any, model_request_parameters: ModelRequestParameters
    ) -> tuple[ModelResponse, Any]:
        from agentkit import Usage

        self.requests += 1
        return ModelResponse(parts=[TextPart("from the network")]), Usage()


async def test_guard_blocks_real_models_but_not_test_doubles() -> None:
    network = NetworkModel()
    agent = Agent(network)
    with override_allow_model_requests(False):
        with pytest.raises(ModelRequestsBlocked, match="NetworkModel 'network' was about to send one"):
            await agent.run("hi")
        assert (await agent.run("hi", model=TestModel())).data == "success (no tool calls)"
    assert network.requests == 0
    assert (await agent.run("hi")).data == "from the network"


async def test_guard_blocks_provider_models_before_any_key_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent("openai:gpt-4o")
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked):
        await agent.run("hi")


class Recorder:
    """An interceptor that wraps the model, sees tool calls and nodes, and can answer tools itself."""

    def __init__(self, canned_tool_return: Any = None) -> None:
        self.infos: list[RunInfo] = []
        self.nodes: list[tuple[int, str]] = []
        self.tool_calls: list[str] = []
        self.ended: list[tuple[Any, BaseException | None]] = []
        self.canned = canned_tool_return

    def start_run(self, info: RunInfo) -> RunObserver:
        self.infos.append(info)
        recorder = self

        class Observer(RunObserver):
            def wrap_model(self, model: Model) -> Model:
                return TestModel(custom_result_text=f"wrapped {model.model_name}")

            async def call_tool(self, call: ToolCallPart, execute: Any) -> ToolReturnPart | RetryPromptPart:
                recorder.tool_calls.append(call.tool_name)
                if recorder.canned is not None:
                    return ToolReturnPart(call.tool_name, recorder.canned, call.tool_call_id)
                result: ToolReturnPart | RetryPromptPart = await execute()
                return result

            def on_node(self, index: int, node: AgentNode) -> None:
                recorder.nodes.append((index, type(node).__name__))

            def on_end(self, result: Any, error: BaseException | None) -> None:
                recorder.ended.append((result, error))

        return Observer()


async def test_interceptor_sees_and_wraps_every_run_in_context() -> None:
    agent = Agent("openai:gpt-4o", name="module_level")
    executed: list[str] = []

    @agent.tool_plain
    def lookup(key: str) -> str:
        executed.append(key)
        return "real"

    recorder = Recorder()
    with intercept_runs(recorder):
        result = await agent.run("hi")
    assert result.data == "wrapped gpt-4o"
    (info,) = recorder.infos
    assert (info.agent_name, info.model.model_name, info.user_prompt, info.streamed) == (
        "module_level",
        "gpt-4o",
        "hi",
        False,
    )
    assert recorder.tool_calls == ["lookup"]
    assert executed == ["a"]
    assert recorder.nodes == [
        (0, "ModelRequestNode"),
        (1, "CallToolsNode"),
        (2, "ModelRequestNode"),
        (3, "CallToolsNode"),
        (4, "End"),
    ]
    assert recorder.ended == [(result, None)]
    assert (await Agent(TestModel()).run("outside")).data == "success (no tool calls)"
    assert len(recorder.infos) == 1


async def test_interceptor_can_answer_a_tool_without_running_it() -> None:
    agent = Agent(TestModel())
    executed: list[str] = []

    @agent.tool_plain
    def send_email(to: str) -> str:
        executed.append(to)
        return "sent"

    with intercept_runs(Recorder(canned_tool_return="recorded")):
        result = await agent.run("hi")
    assert executed == []
    returns = [p.content for m in result.all_messages() for p in m.parts if isinstance(p, ToolReturnPart)]
    assert returns == ["recorded"]


async def test_interceptor_is_told_when_a_run_fails() -> None:
    def broken(x: int) -> int:
        raise KeyError("boom")

    recorder = Recorder()
    agent = Agent(TestModel(), tools=[broken])
    with intercept_runs(recorder), pytest.raises(KeyError):
        await agent.run("hi")
    ((result, error),) = recorder.ended
    assert result is None
    assert isinstance(error, KeyError)


def run_in_plain_thread(work: Callable[[], Any]) -> Any:
    """Run `work` in a `threading.Thread` (it starts with an empty context) and hand back its result or error."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed back to the test thread
            outcome.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_interceptor_sees_a_run_started_in_a_plain_thread() -> None:
    recorder = Recorder()
    agent = Agent(TestModel(), name="threaded")
    with intercept_runs(recorder):
        result = run_in_plain_thread(lambda: agent.run_sync("from a thread"))
    assert result.data == "wrapped test"
    assert [info.user_prompt for info in recorder.infos] == ["from a thread"]


def test_interceptor_block_stops_applying_to_threads_when_it_raises() -> None:
    recorder = Recorder()
    agent = Agent(TestModel())
    with pytest.raises(KeyError), intercept_runs(recorder):
        raise KeyError("boom")
    assert run_in_plain_thread(lambda: agent.run_sync("after")).data == "success (no tool calls)"
    assert recorder.infos == []


def test_run_info_lists_the_interceptors_in_force_outermost_first() -> None:
    outer, inner = Recorder(), Recorder()
    with intercept_runs(outer), intercept_runs(inner):
        run_in_plain_thread(lambda: Agent(TestModel()).run_sync("hi"))
    assert outer.infos[0].interceptors == (outer, inner)


def test_guard_block_holds_for_a_run_started_in_a_plain_thread() -> None:
    network = NetworkModel()
    agent = Agent(network)
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked, match="with no request-guard"):
        run_in_plain_thread(lambda: agent.run_sync("hi"))
    assert network.requests == 0


def test_guard_block_stops_applying_to_threads_when_it_raises() -> None:
    network = NetworkModel()
    agent = Agent(network)
    with pytest.raises(KeyError), override_allow_model_requests(False):
        raise KeyError("boom")
    assert run_in_plain_thread(lambda: agent.run_sync("hi")).data == "from the network"


def test_guard_blocks_a_thread_when_unrelated_blocks_disagree() -> None:
    network = NetworkModel()
    agent = Agent(network)
    opened = threading.Barrier(3, timeout=10)
    done = threading.Event()

    def hold(allow: bool) -> None:
        with override_allow_model_requests(allow):
            opened.wait()
            done.wait(timeout=10)

    holders = [threading.Thread(target=hold, args=(allow,)) for allow in (True, False)]
    for holder in holders:
        holder.start()
    opened.wait()
    try:
        with pytest.raises(ModelRequestsBlocked, match="do not nest and disagree"):
            run_in_plain_thread(lambda: agent.run_sync("hi"))
    finally:
        done.set()
        for holder in holders:
            holder.join(timeout=10)
    assert network.requests == 0


def test_override_takes_pydantic_ais_keyword() -> None:
    with override_allow_model_requests(allow_model_requests=False), pytest.raises(ModelRequestsBlocked):
        check_allow_model_requests()


def test_blocked_requests_raise_a_runtime_error_as_pydantic_ai_does() -> None:
    with override_allow_model_requests(False), pytest.raises(RuntimeError):
        check_allow_model_requests()


def run_without_the_plugin(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter: the module switch only decides where no guard block is active,
    and the pytest plugin opens one around every test of this session."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)


PROVIDER_AGENT = """
    import socket, threading, agentkit.models
    from agentkit import Agent
    from agentkit.models import OpenAIModel, TestModel, FunctionModel, override_allow_model_requests
    from agentkit.messages import ModelResponse, TextPart

    with socket.socket() as probe:  # a port nothing listens on: no request can leave the machine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = Agent(OpenAIModel("gpt-4o", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-canary"))

    def outcome(run):
        try:
            return repr(run().data)
        except Exception as error:
            return f"{type(error).__name__}: isinstance RuntimeError={isinstance(error, RuntimeError)}: {error}"
"""


def test_module_switch_blocks_provider_models_with_pydantic_ais_error() -> None:
    done = run_without_the_plugin(
        PROVIDER_AGENT
        + """
    agentkit.models.ALLOW_MODEL_REQUESTS = False
    print(outcome(lambda: provider.run_sync("hi")))
    """
    )
    assert done.stdout.startswith(
        "ModelRequestsBlocked: isinstance RuntimeError=True: Model requests are not allowed, since "
        "ALLOW_MODEL_REQUESTS is False: OpenAIModel 'gpt-4o' was about to send one."
    ), done.stdout + done.stderr


def test_module_switch_never_blocks_test_model_or_function_model() -> None:
    done = run_without_the_plugin(
        PROVIDER_AGENT
        + """
    agentkit.models.ALLOW_MODEL_REQUESTS = False
    answer = FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart("local")]))
    print(outcome(lambda: provider.run_sync("hi", model=TestModel())))
    print(outcome(lambda: provider.run_sync("hi", model=answer)))
    """
    )
    assert done.stdout.splitlines() == ["'success (no tool calls)'", "'local'"], done.stdout + done.stderr


def test_module_switch_holds_in_plain_threads() -> None:
    done = run_without_the_plugin(
        PROVIDER_AGENT
        + """
    agentkit.models.ALLOW_MODEL_REQUESTS = False
    seen = []
    thread = threading.Thread(target=lambda: seen.append(outcome(lambda: provider.run_sync("hi"))))
    thread.start()
    thread.join()
    print(seen[0])
    """
    )
    assert done.stdout.startswith("ModelRequestsBlocked:"), done.stdout + done.stderr


def test_override_block_takes_precedence_over_the_module_switch() -> None:
    done = run_without_the_plugin(
        PROVIDER_AGENT
        + """
    agentkit.models.ALLOW_MODEL_REQUESTS = False
    with override_allow_model_requests(True):
        print(agentkit.models.model_requests_allowed())
    print(agentkit.models.model_requests_allowed())
    agentkit.models.ALLOW_MODEL_REQUESTS = True
    with override_allow_model_requests(False):
        print(agentkit.models.model_requests_allowed())
    """
    )
    assert done.stdout.splitlines() == ["True", "False", "False"], done.stdout + done.stderr
