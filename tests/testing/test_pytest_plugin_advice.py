"""Inside pytest, replay errors give the pytest fix; the summary counts a replay that diverged as failed."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    import os

    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    class PretendNetworkModel(FunctionModel):
        sends_real_requests = True


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("live answer")], model_name="pretend-1")


    agent = Agent(
        PretendNetworkModel(answer, model_name="pretend-1"),
        name="support",
        system_prompt=os.environ.get("SUPPORT_PROMPT", "Be brief."),
    )
    """
)

TESTS = textwrap.dedent(
    """
    import pytest
    import agent_module


    def test_plain(agentkit_cassette):
        agent_module.agent.run_sync("hello")


    @pytest.mark.agentkit_cassette(record_mode="once")
    def test_marked():
        agent_module.agent.run_sync("hello")
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE, test_advice=TESTS)
    pytester.syspathinsert()
    recorded = pytester.runpytest_subprocess(*QUIET, "--agentkit-record-mode=once")
    recorded.assert_outcomes(passed=2)
    return pytester


def test_a_divergence_under_the_plugin_gives_the_pytest_option(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_PROMPT", "Be verbose.")
    result = project.runpytest_subprocess(*QUIET, "-k", "plain")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record the cassette again (run pytest with --agentkit-record-mode=rewrite)*"])
    result.stdout.no_fnmatch_line("*record_mode='rewrite'*")


def test_a_mode_fixed_on_the_marker_is_the_one_to_change(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_PROMPT", "Be verbose.")
    result = project.runpytest_subprocess(*QUIET, "-k", "marked")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*set record_mode='rewrite' on the agentkit_cassette marker*"])


def test_a_cassette_block_the_test_opens_itself_gives_the_keyword(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_own=textwrap.dedent(
            """
            import agent_module
            from agentkit_testing import cassette


            def test_own_block(agentkit_cassette, tmp_path):
                with cassette(tmp_path / "own.yaml", "once"):
                    agent_module.agent.run_sync("hello")
                with cassette(tmp_path / "own.yaml"):
                    agent_module.agent.run_sync("goodbye")
            """
        )
    )
    result = project.runpytest_subprocess(*QUIET, "test_own.py", "--agentkit-record-mode=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record the cassette again (pass record_mode='rewrite' to cassette())*"])


def test_the_summary_counts_a_diverged_replay_as_failed_not_replayed(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_PROMPT", "Be verbose.")
    result = project.runpytest_subprocess(*QUIET)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*2 cassette(s) used: 0 run(s) recorded, 0 run(s) replayed, 2 replay(s) failed*"])


def test_the_summary_counts_a_run_no_recording_matches_as_failed(project: pytest.Pytester) -> None:
    project.makepyfile(test_advice=TESTS.replace('run_sync("hello")', 'run_sync("bonjour")', 1))
    result = project.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*0 run(s) recorded, 1 run(s) replayed, 1 replay(s) failed*"])
