"""The pytest plugin's `agentkit_cassette` marker with `pydantic_ai_agents=[...]`, tested with pytester."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    import os
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart
    from pydantic_ai.models.function import FunctionModel

    CALLS = []


    def answer(messages, info):
        CALLS.append(len(messages))
        return ModelResponse(parts=[TextPart(os.environ.get("ANSWER", "live answer"))])


    agent = Agent(FunctionModel(answer, model_name="fn"), name="support", instructions="Be brief.")
    """
)

TESTS = textwrap.dedent(
    """
    import asyncio
    import pytest
    import pai_agent


    @pytest.mark.agentkit_cassette(pydantic_ai_agents=[pai_agent.agent])
    def test_support(agentkit_cassette):
        result = asyncio.run(pai_agent.agent.run("hello"))
        assert result.output == "live answer"
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(pai_agent=AGENT_MODULE, test_pai=TESTS)
    return pytester


def test_the_marker_records_the_named_pydantic_ai_agents_runs(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    cassette = Path(project.path, "cassettes", "test_pai", "test_support.yaml")
    (run,) = yaml.safe_load(cassette.read_text())["runs"]
    assert run["runtime"].startswith("pydantic-ai ")
    assert run["label"] == "test_pai.py::test_support"


def test_the_marker_replays_them_offline(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("ANSWER", "a different live answer")
    project.runpytest(*QUIET).assert_outcomes(passed=1)


def test_a_changed_agent_fails_the_test_with_a_divergence(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(pai_agent=AGENT_MODULE.replace("Be brief.", "Be verbose."))
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CassetteDivergence*request 0*", "*-  instructions: Be brief.*"])
