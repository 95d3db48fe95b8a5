"""The plugin's cassette fixture and request guard hold for runs a test starts in other threads (pytester)."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel

    CALLS = []


    class PretendNetworkModel(FunctionModel):
        '''Answers locally but counts as a model that talks to a real service.'''

        sends_real_requests = True


    def answer(messages, info):
        CALLS.append(messages[-1].parts[-1].content)
        return ModelResponse(parts=[TextPart("live answer")], model_name="pretend-1")


    agent = Agent(PretendNetworkModel(answer, model_name="pretend-1"), name="support")


    def in_thread(prompt):
        '''Run the agent in a plain thread, as a sync web framework's handler would, and re-raise its error.'''
        outcome = []

        def target():
            try:
                outcome.append(agent.run_sync(prompt))
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]


    def in_pool(prompt):
        with ThreadPoolExecutor(max_workers=2) as pool:
            return pool.submit(agent.run_sync, prompt).result()
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.syspathinsert()
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, *args)


def test_fixture_records_then_replays_runs_started_in_threads(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_thread_runs="""
        import agent_module

        def test_thread_and_pool(agentkit_cassette, agentkit_record_mode):
            assert agent_module.in_thread("from a thread").data == "live answer"
            assert agent_module.in_pool("from a pool").data == "live answer"
            expected_calls = [] if agentkit_record_mode == "none" else ["from a thread", "from a pool"]
            assert agent_module.CALLS == expected_calls
        """
    )
    run(project, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    recorded = (project.path / "cassettes" / "test_thread_runs" / "test_thread_and_pool.yaml").read_text()
    assert "from a thread" in recorded
    assert "from a pool" in recorded
    replayed = run(project)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*0 run(s) recorded, 2 run(s) replayed*"])


def test_guard_blocks_a_real_request_from_a_thread_inside_a_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_blocked="""
        import agent_module

        def test_thread_without_cassette():
            agent_module.in_thread("hello")
        """
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ModelRequestsBlocked*PretendNetworkModel 'pretend-1'*new thread*"])


def test_allow_marker_lets_a_thread_inside_the_test_send(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_allowed="""
        import pytest
        import agent_module

        @pytest.mark.agentkit_allow_model_requests
        def test_live_thread():
            assert agent_module.in_thread("hello").data == "live answer"
            assert agent_module.CALLS == ["hello"]
        """
    )
    run(project).assert_outcomes(passed=1)


def test_session_fixtures_are_guarded_unless_the_session_records(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_session="""
        import pytest
        import agent_module

        @pytest.fixture(scope="session")
        def warm_up():
            return agent_module.agent.run_sync("warm up").data

        def test_uses_warm_up(warm_up):
            assert warm_up == "live answer"
        """
    )
    blocked = run(project)
    blocked.assert_outcomes(errors=1)
    blocked.stdout.fnmatch_lines(["*ModelRequestsBlocked*PretendNetworkModel 'pretend-1'*"])
    run(project, "--agentkit-record-mode=all").assert_outcomes(passed=1)
