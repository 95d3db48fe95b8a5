"""Where the plugin puts a test's cassette, and the clear errors for a marker or a path it cannot use."""

from __future__ import annotations

import textwrap

import pytest
import yaml  # noqa: F401  (loaded before the inner sessions, see below)

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("answer")], model_name="local-1")


    agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")
    """
)

SECRET = "zq7Xw2Pp9LmN4kR8tYv1Bc6Hd3Jf5Gs0"

# `yaml` is imported above so that the in-process sessions share it: pytester drops the modules a
# session imported, and when this module ran alone the second session's replay failed inside the
# cassette's YAML loader (every node's tag None) with a yaml module loaded anew under it.


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent_module=AGENT_MODULE)
    pytester.syspathinsert()
    return pytester


def test_a_secret_in_a_parametrized_test_id_is_not_in_the_cassette_file_name(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    project.makepyfile(
        test_keys="""
        import os
        import pytest
        import agent_module


        @pytest.mark.parametrize("key", [os.environ["OPENAI_API_KEY"], "plain"])
        def test_with_key(agentkit_cassette, key):
            agent_module.agent.run_sync("hello")
        """
    )
    result = project.runpytest(*QUIET, "--agentkit-record-mode=once")
    result.assert_outcomes(passed=2)
    names = sorted(path.name for path in (project.path / "cassettes" / "test_keys").iterdir())
    assert len(names) == 2
    assert "test_with_key[plain].yaml" in names
    assert not any(SECRET in name for name in names), names
    assert SECRET not in result.stdout.str().split("agentkit cassettes")[-1]
    project.runpytest(*QUIET).assert_outcomes(passed=2)  # replays from the same names
