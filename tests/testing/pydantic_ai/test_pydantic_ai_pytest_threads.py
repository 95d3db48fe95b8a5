"""The marker's `pydantic_ai_agents=[...]` covers runs the test starts in threads and pools (pytester)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    import asyncio
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart
    from pydantic_ai.models.function import FunctionModel

    CALLS = []


    def answer(messages, info):
        CALLS.append(len(messages))
        return ModelResponse(parts=[TextPart(os.environ.get("ANSWER", "live answer"))])


    agent = Agent(FunctionModel(answer, model_name="fn"), name="support")


    def in_thread(prompt):
        outputs = []
        worker = threading.Thread(target=lambda: outputs.append(asyncio.run(agent.run(prompt)).output))
        worker.start()
        worker.join()
        return outputs


    def run_sync_in_pool(prompt):
        def work():
            try:
                return agent.run_sync(prompt).output
            finally:
                asyncio.get_event_loop_policy().get_event_loop().close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(work).result()
    """
)

TESTS = textwrap.dedent(
    """
    import pytest
    import pai_agent


    @pytest.mark.agentkit_cassette(pydantic_ai_agents=[pai_agent.agent])
    def test_thread_and_pool(agentkit_record_mode):
        assert pai_agent.in_thread("from a thread") == ["live answer"]
        assert pai_agent.run_sync_in_pool("from a pool") == "live answer"
        if agentkit_record_mode == "none":
            assert pai_agent.CALLS == []
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(pai_agent=AGENT_MODULE, test_pai_threads=TESTS)
    return pytester


def test_runs_in_a_thread_and_a_pool_are_recorded_then_replayed_offline(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    cassette = Path(project.path, "cassettes", "test_pai_threads", "test_thread_and_pool.yaml")
    runs = yaml.safe_load(cassette.read_text())["runs"]
    assert sorted(run["user_prompt"] for run in runs) == ["from a pool", "from a thread"]
    monkeypatch.setenv("ANSWER", "a different live answer")
    project.runpytest(*QUIET).assert_outcomes(passed=1)


def test_an_unrecorded_run_in_a_pool_fails_the_test_instead_of_reaching_the_model(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_pai_threads=textwrap.dedent(
            """
            import pytest
            import pai_agent


            @pytest.mark.agentkit_cassette(pydantic_ai_agents=[pai_agent.agent])
            def test_pool():
                try:
                    pai_agent.run_sync_in_pool("never recorded")
                finally:
                    assert pai_agent.CALLS == []
            """
        )
    )
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnrecordedRequest*the cassette does not exist*"])


def test_thread_runs_record_and_replay_under_xdist(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(test_pai_threads_second=TESTS.replace("test_thread_and_pool", "test_second"))
    project.runpytest(*QUIET, "-n", "2", "--agentkit-record-mode=once").assert_outcomes(passed=2)
    for test_file, name in (("test_pai_threads", "test_thread_and_pool"), ("test_pai_threads_second", "test_second")):
        runs = yaml.safe_load(Path(project.path, "cassettes", test_file, f"{name}.yaml").read_text())["runs"]
        assert len(runs) == 2
    monkeypatch.setenv("ANSWER", "a different live answer")
    project.runpytest(*QUIET, "-n", "2").assert_outcomes(passed=2)
