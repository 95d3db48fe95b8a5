"""The `agentkit_cassette` fixture fails a test that left recorded runs unplayed, without hiding its own failure."""

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
        return ModelResponse(parts=[TextPart("an answer")], model_name="local-1")


    agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")
    """
)


def write_test(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.makepyfile(test_support="import agent_module\n\n\ndef test_support(agentkit_cassette):\n" + body)
    pytester.syspathinsert()


def record_two_runs(pytester: pytest.Pytester) -> None:
    write_test(pytester, '    agent_module.agent.run_sync("first")\n    agent_module.agent.run_sync("second")\n')
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)


def test_a_test_that_stops_calling_the_agent_fails_naming_the_unplayed_run(pytester: pytest.Pytester) -> None:
    record_two_runs(pytester)
    write_test(pytester, '    agent_module.agent.run_sync("first")\n')
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*UnplayedRuns*1 of the 2 recorded runs was never played*", "*prompt 'second'*"])


def test_a_failing_test_reports_its_own_failure_only(pytester: pytest.Pytester) -> None:
    record_two_runs(pytester)
    write_test(pytester, '    agent_module.agent.run_sync("first")\n    assert False, "the real failure"\n')
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the real failure*"])
    result.stdout.no_fnmatch_line("*UnplayedRuns*")


def test_a_test_skipped_midway_is_reported_as_skipped_only(pytester: pytest.Pytester) -> None:
    record_two_runs(pytester)
    write_test(pytester, '    import pytest\n    agent_module.agent.run_sync("first")\n    pytest.skip("not today")\n')
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(skipped=1)
    result.stdout.no_fnmatch_line("*UnplayedRuns*")


def test_the_marker_can_allow_unplayed_runs(pytester: pytest.Pytester) -> None:
    record_two_runs(pytester)
    pytester.makepyfile(
        test_support="""
        import pytest
        import agent_module
        from agentkit_testing import Matching


        @pytest.mark.agentkit_cassette(matching=Matching(allow_unplayed_runs=True))
        def test_support(agentkit_cassette):
            agent_module.agent.run_sync("first")
        """
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
