"""The request guard in a test whose cassette only replays: closed, whatever the record mode's name says."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    class PretendNetworkModel(FunctionModel):
        '''Answers locally but counts as a model that talks to a real service.'''

        sends_real_requests = True


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("live answer")], model_name="pretend-1")


    agent = Agent(PretendNetworkModel(answer, model_name="pretend-1"), name="support")
    """
)

TESTS = textwrap.dedent(
    """
    import os
    import threading
    import pytest
    import pydantic_ai.models
    from agentkit.models import model_requests_allowed
    import agent_module


    def requests_allowed():
        seen = {}
        thread = threading.Thread(target=lambda: seen.update(thread=model_requests_allowed()))
        thread.start()
        thread.join()
        return {"here": model_requests_allowed(), **seen, "pydantic_ai": pydantic_ai.models.ALLOW_MODEL_REQUESTS}


    @pytest.mark.agentkit_cassette(record_mode="once")
    def test_marked():
        assert agent_module.agent.run_sync("hello").data == "live answer"
        expected = os.environ["EXPECT_ALLOWED"] == "1"
        assert requests_allowed() == {"here": expected, "thread": expected, "pydantic_ai": expected}


    def test_fixture(agentkit_cassette):
        assert agent_module.agent.run_sync("hello").data == "live answer"
        expected = os.environ["EXPECT_ALLOWED"] == "1"
        assert requests_allowed() == {"here": expected, "thread": expected, "pydantic_ai": expected}
    """
)


def test_once_on_an_existing_cassette_blocks_requests_no_cassette_would_record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pydantic_ai")
    pytester.makepyfile(agent_module=AGENT_MODULE, test_guarded=TESTS)
    pytester.syspathinsert()
    monkeypatch.setenv("EXPECT_ALLOWED", "1")
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=2)  # the files are new
    monkeypatch.setenv("EXPECT_ALLOWED", "0")
    # The cassettes exist now, so `once` only replays: a pydantic-ai agent no marker names, or a
    # model called outside a run, would reach its provider with nothing recording it.
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=2)
    monkeypatch.setenv("EXPECT_ALLOWED", "1")  # a mode that records opens it again (the marker fixes `once`)
    result = pytester.runpytest(*QUIET, "--agentkit-record-mode=new_episodes", "-k", "test_fixture")
    result.assert_outcomes(passed=1, deselected=1)
