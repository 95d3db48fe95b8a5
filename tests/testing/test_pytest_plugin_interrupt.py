"""A test whose body did not run to its end (Ctrl-C, `pytest.exit`, `--setup-only`) leaves its cassette as it was."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("answer to " + messages[-1].parts[-1].content)], model_name="local-1")


    agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")
    """
)

TESTS = textwrap.dedent(
    """
    import os
    import pytest
    import agent_module


    def test_asks(agentkit_cassette):
        agent_module.agent.run_sync(os.environ.get("AGENTKIT_TEST_PROMPT", "first"))
        stop = os.environ.get("AGENTKIT_TEST_STOP")
        if stop == "interrupt":
            raise KeyboardInterrupt
        if stop == "exit":
            pytest.exit("stopped by the test")
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE, test_interrupted=TESTS)
    pytester.syspathinsert()
    return pytester


def cassette_bytes(pytester: pytest.Pytester) -> bytes | None:
    path = pytester.path / "cassettes" / "test_interrupted" / "test_asks.yaml"
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize("stop", ["interrupt", "exit"])
@pytest.mark.parametrize("mode", ["all", "rewrite", "new_episodes"])
def test_an_interrupted_recording_leaves_the_cassette_as_it_was(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str, stop: str
) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    before = cassette_bytes(project)
    monkeypatch.setenv("AGENTKIT_TEST_PROMPT", "second")
    monkeypatch.setenv("AGENTKIT_TEST_STOP", stop)
    result = project.runpytest(*QUIET, f"--agentkit-record-mode={mode}", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert cassette_bytes(project) == before


def test_an_interrupted_first_recording_writes_no_cassette(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_TEST_STOP", "interrupt")
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert cassette_bytes(project) is None
    monkeypatch.delenv("AGENTKIT_TEST_STOP")
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)  # records it now
    assert b"answer to first" in (cassette_bytes(project) or b"")


def test_setup_only_in_rewrite_mode_leaves_the_cassette_as_it_was(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    before = cassette_bytes(project)
    result = project.runpytest(*QUIET, "--setup-only", "--agentkit-record-mode=rewrite")
    assert result.ret == pytest.ExitCode.OK
    assert cassette_bytes(project) == before  # it was emptied: the block ended with no run, as if the test had none


def test_a_real_ctrl_c_inside_a_tool_leaves_the_cassette_as_it_was(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        agent_module=AGENT_MODULE,
        test_interrupted=textwrap.dedent(
            """
            import os
            import signal
            import time
            from agentkit import Agent, ModelResponse, TextPart, ToolCallPart
            from agentkit.models import FunctionModel


            def answer(messages, info):
                if any(message.kind == "response" for message in messages):
                    return ModelResponse(parts=[TextPart("done")], model_name="local-1")
                return ModelResponse(parts=[ToolCallPart("press_ctrl_c", {})], model_name="local-1")


            agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")


            @agent.tool_plain
            def press_ctrl_c() -> str:
                '''Interrupts the session when asked to.'''
                if os.environ.get("AGENTKIT_TEST_STOP"):
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(5)
                return "pressed"


            def test_asks(agentkit_cassette):
                assert agent.run_sync("go").data == "done"
            """
        ),
    )
    pytester.runpytest_subprocess(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    before = cassette_bytes(pytester)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AGENTKIT_TEST_STOP", "1")
        result = pytester.runpytest_subprocess(*QUIET, "--agentkit-record-mode=all")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert cassette_bytes(pytester) == before
