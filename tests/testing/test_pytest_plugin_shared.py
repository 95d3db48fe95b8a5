"""One cassette shared by several tests (a module-level marker): every record mode keeps every test's runs, once."""

from __future__ import annotations

import textwrap
from collections import Counter

import pytest
import yaml

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

    pytestmark = pytest.mark.agentkit_cassette(path="cassettes/shared.yaml")


    @pytest.mark.parametrize("n", range(4))
    def test_asks(n):
        prompt = f"question {n}" + (" again" if n == 3 and os.environ.get("AGENTKIT_TEST_CHANGE") else "")
        assert agent_module.agent.run_sync(prompt).data == "answer to " + prompt
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE, test_shared=TESTS)
    pytester.syspathinsert()
    return pytester


def prompts(pytester: pytest.Pytester) -> Counter[str]:
    document = yaml.safe_load((pytester.path / "cassettes" / "shared.yaml").read_text())
    return Counter(run["user_prompt"] for run in document["runs"])


def run(pytester: pytest.Pytester, workers: tuple[str, ...], *args: str) -> pytest.RunResult:
    if workers:
        return pytester.runpytest_subprocess(*QUIET, *workers, *args)
    return pytester.runpytest(*QUIET, *args)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_rewrite_replaces_each_tests_own_runs_and_keeps_the_others(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: tuple[str, ...]
) -> None:
    if workers:
        pytest.importorskip("xdist")
    first = {f"question {n}": 1 for n in range(4)}
    run(project, workers, "--agentkit-record-mode=rewrite").assert_outcomes(passed=4)
    assert prompts(project) == first  # each test's rewrite emptied the file of the others' runs
    run(project, workers, "--agentkit-record-mode=rewrite").assert_outcomes(passed=4)
    assert prompts(project) == first
    monkeypatch.setenv("AGENTKIT_TEST_CHANGE", "1")
    run(project, workers, "--agentkit-record-mode=rewrite").assert_outcomes(passed=4)
    assert prompts(project) == {**{f"question {n}": 1 for n in range(3)}, "question 3 again": 1}
    run(project, workers).assert_outcomes(passed=4)


@pytest.mark.parametrize("mode", ["new_episodes", "all"])
def test_xdist_recording_modes_keep_every_run_once(project: pytest.Pytester, mode: str) -> None:
    pytest.importorskip("xdist")
    run(project, ("-n", "2"), f"--agentkit-record-mode={mode}").assert_outcomes(passed=4)
    run(project, ("-n", "2"), f"--agentkit-record-mode={mode}").assert_outcomes(passed=4)
    assert prompts(project) == {f"question {n}": 1 for n in range(4)}
    run(project, ("-n", "2")).assert_outcomes(passed=4)
