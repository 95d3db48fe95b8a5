"""The terminal summary's stale-cassette section: replayed runs whose agent definition changed since recording."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

SUPPORT = textwrap.dedent(
    """
    import os

    import pytest

    from agentkit import Agent
    from agentkit.models import TestModel
    from agentkit_testing import Matching

    agent = Agent(TestModel(), name="support", system_prompt=os.environ.get("PROMPT", "Be brief."))


    @agent.tool_plain
    def lookup(order: int) -> str:
        '''Look an order up.'''
        return "shipped"


    if os.environ.get("EXTRA_TOOL"):

        @agent.tool_plain
        def cancel(order: int) -> str:
            '''Cancel an order.'''
            return "cancelled"


    if os.environ.get("BROKEN_PROMPT"):

        @agent.system_prompt
        def failing() -> str:
            raise RuntimeError("no prompt today")


    @pytest.mark.agentkit_cassette(matching=Matching(ignore={"system_prompt"}))
    def test_lenient(agentkit_cassette):
        agent.run_sync("Where is order 42?")


    def test_strict(agentkit_cassette):
        if os.environ.get("BROKEN_PROMPT"):
            with pytest.raises(RuntimeError, match="no prompt today"):
                agent.run_sync("Where is order 7?")
        else:
            agent.run_sync("Where is order 7?")
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Two tests whose cassettes are recorded with the agent as SUPPORT defines it without variables."""
    for name in ("PROMPT", "EXTRA_TOOL", "BROKEN_PROMPT"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_support=SUPPORT)
    recorded = pytester.runpytest(*QUIET, "--agentkit-record-mode=once")
    recorded.assert_outcomes(passed=2)
    assert "agentkit stale cassettes" not in recorded.stdout.str()  # recording checks nothing
    return pytester


def test_unchanged_agent_prints_no_section(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET)
    result.assert_outcomes(passed=2)
    assert "agentkit stale cassettes" not in result.stdout.str()


def test_changed_prompt_hidden_by_matching_is_reported_with_a_diff(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPT", "Be thorough.")
    result = project.runpytest(*QUIET, "-k", "test_lenient")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= agentkit stale cassettes =*",
            "1 of 1 cassette(s) replayed in this session were recorded with another agent definition *:",
            "stale   cassettes/test_support/test_lenient.yaml",
            "    run-1: system prompts changed:",
            "      --- recorded",
            "      +++ now",
            "*-Be brief.",
            "*+Be thorough.",
            "Record them again (--agentkit-record-mode=rewrite)*",
        ]
    )


def test_added_tool_is_named_beside_the_divergence(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRA_TOOL", "1")
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*= agentkit stale cassettes =*",
            "2 of 2 cassette(s) replayed *",
            "stale   cassettes/test_support/test_lenient.yaml",
            "    run-1: tool 'cancel' added",
            "stale   cassettes/test_support/test_strict.yaml",
            "    run-1: tool 'cancel' added",
        ]
    )


def test_run_that_never_sent_a_request_is_unknown(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKEN_PROMPT", "1")
    result = project.runpytest(*QUIET, "-k", "test_strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= agentkit stale cassettes =*",
            "0 of 1 cassette(s) replayed *; 1 could not be checked:",
            "unknown cassettes/test_support/test_strict.yaml",
            "    run-1: the run ended before its first model request in this session*",
        ]
    )
    assert "Record them again" not in result.stdout.str()


def test_xdist_workers_findings_reach_the_controller(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPT", "Be thorough.")
    result = project.runpytest_subprocess(*QUIET, "-n", "2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*= agentkit stale cassettes =*",
            "2 of 2 cassette(s) replayed *",
            "stale   cassettes/test_support/test_lenient.yaml",
            "    run-1: system prompts changed:",
        ]
    )
    assert result.stdout.str().count("agentkit stale cassettes") == 1


def test_runs_started_in_threads_are_checked(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        test_stale_thread_runs=textwrap.dedent(
            """
            import os
            import threading

            import pytest

            from agentkit import Agent
            from agentkit.models import TestModel
            from agentkit_testing import Matching

            agent = Agent(TestModel(), name="support", system_prompt=os.environ.get("PROMPT", "Be brief."))


            @pytest.mark.agentkit_cassette(matching=Matching(ignore={"system_prompt"}))
            def test_in_a_thread(agentkit_cassette):
                worker = threading.Thread(target=agent.run_sync, args=("Where is order 42?",))
                worker.start()
                worker.join()
                assert len(agentkit_cassette.recorded_runs) + len(agentkit_cassette.replayed_runs) == 1
            """
        )
    )
    monkeypatch.delenv("PROMPT", raising=False)
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPT", "Be thorough.")
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["stale   cassettes/test_stale_thread_runs/test_in_a_thread.yaml", "    run-1: system prompts changed:"]
    )
