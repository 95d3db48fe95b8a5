"""Under pytest, a pydantic-ai agent no marker names cannot reach its provider unless the test records (pytester)."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

# A provider-like model: like pydantic-ai's own provider models, it asks `check_allow_model_requests`
# before each request, and it counts the requests that got through.
MODULE = textwrap.dedent(
    """
    import asyncio
    import threading

    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart
    from pydantic_ai.models import Model, check_allow_model_requests

    SENT = []


    class ProviderLike(Model):
        @property
        def model_name(self):
            return "provider-like"

        @property
        def system(self):
            return "provider"

        async def request(self, messages, model_settings, model_request_parameters):
            check_allow_model_requests()
            SENT.append(len(messages))
            return ModelResponse(parts=[TextPart("live answer")], model_name=self.model_name)


    unnamed = Agent(ProviderLike(), name="unnamed")


    def run(prompt):
        return asyncio.run(unnamed.run(prompt)).output


    def in_thread(prompt):
        outcome = []

        def work():
            try:
                outcome.append(run(prompt))
            except RuntimeError as error:
                outcome.append(error)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        return outcome[0]
    """
)

TESTS = textwrap.dedent(
    """
    import pydantic_ai.models
    import pytest

    import provider_agent


    def test_unnamed_agent():
        with pytest.raises(RuntimeError, match="ALLOW_MODEL_REQUESTS is False"):
            provider_agent.run("hello")
        assert provider_agent.SENT == []


    def test_unnamed_agent_in_a_thread():
        error = provider_agent.in_thread("hello")
        assert isinstance(error, RuntimeError), error
        assert provider_agent.SENT == []


    @pytest.mark.agentkit_allow_model_requests
    def test_allowed_by_marker():
        assert provider_agent.run("hello") == "live answer"


    def test_switch_is_back_after_the_test_ends():
        assert pydantic_ai.models.ALLOW_MODEL_REQUESTS is False
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(provider_agent=MODULE, test_unnamed=TESTS)
    return pytester


def test_replaying_tests_block_pydantic_ai_provider_requests_in_every_thread(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "-k", "unnamed_agent")
    result.assert_outcomes(passed=2)


def test_the_allow_marker_lets_a_pydantic_ai_request_through(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "-k", "allowed_by_marker").assert_outcomes(passed=1)


def test_recording_runs_let_pydantic_ai_requests_through(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "--agentkit-record-mode=rewrite", "-k", "unnamed_agent")
    result.assert_outcomes(failed=2)  # the requests went through, so the blocked-request assertions fail
    result.stdout.fnmatch_lines(["*DID NOT RAISE*"])


def test_the_switch_is_restored_between_tests(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "-p", "no:randomly").assert_outcomes(passed=4)


def test_the_switch_is_restored_after_the_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    import pydantic_ai.models

    monkeypatch.setattr(pydantic_ai.models, "ALLOW_MODEL_REQUESTS", True)  # this suite's own guard set it False
    pytester.makepyfile(
        test_one=(
            "import pydantic_ai.models\n\ndef test_blocked():\n    assert not pydantic_ai.models.ALLOW_MODEL_REQUESTS\n"
        )
    )
    pytester.runpytest_inprocess(*QUIET).assert_outcomes(passed=1)
    assert pydantic_ai.models.ALLOW_MODEL_REQUESTS is True


BLOCK_TEST = textwrap.dedent(
    """
    from agentkit_testing.pydantic_ai import cassette

    import provider_agent


    def test_records_in_a_block():
        with cassette("cassettes/block.yaml", agents=[provider_agent.unnamed], record_mode="once"):
            assert provider_agent.run("hello") == "live answer"
    """
)


def test_a_recording_block_in_a_replaying_test_says_how_to_record(pytester: pytest.Pytester) -> None:
    # The README's first step ("pytest test_weather.py" with a key) failed with pydantic-ai's own
    # "Model requests are not allowed, since ALLOW_MODEL_REQUESTS is False", naming no fix.
    pytester.makepyfile(provider_agent=MODULE, test_block=BLOCK_TEST)
    # In subprocesses: a second in-process run re-imports the cassette writer, whose YAML representers
    # the first run registered for its own classes.
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*ModelRequestsBlocked: pydantic-ai agent 'unnamed' * cassettes/block.yaml*--agentkit-record-mode=once*"]
    )
    assert not (pytester.path / "cassettes" / "block.yaml").exists()
    pytester.runpytest_subprocess(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    assert (pytester.path / "cassettes" / "block.yaml").exists()


LAZY_TESTS = textwrap.dedent(
    """
    import sys

    import pytest


    def test_a_test_importing_pydantic_ai_in_its_body_is_blocked():
        assert "pydantic_ai" not in sys.modules  # nothing imported it before this test
        import provider_agent

        with pytest.raises(RuntimeError, match="ALLOW_MODEL_REQUESTS is False"):
            provider_agent.run("hello")
        assert provider_agent.SENT == []


    @pytest.mark.agentkit_allow_model_requests
    def test_then_the_allow_marker_still_lets_it_through():
        import provider_agent

        assert provider_agent.run("hello") == "live answer"


    def test_and_the_next_test_is_blocked_again():
        import pydantic_ai.models

        assert pydantic_ai.models.ALLOW_MODEL_REQUESTS is False
    """
)

LAZY_CONFTEST = textwrap.dedent(
    """
    import sys


    def pytest_unconfigure(config):
        models = sys.modules.get("pydantic_ai.models")
        print("switch after the session:", getattr(models, "ALLOW_MODEL_REQUESTS", "not imported"))
    """
)


def test_pydantic_ai_imported_during_a_test_is_blocked_too(pytester: pytest.Pytester) -> None:
    # The switch used to be set only if pydantic-ai was imported when the guard began: an agent whose
    # module a test imported in its body reached its provider (in a fresh process, as here).
    pytester.makepyfile(provider_agent=MODULE, test_lazy=LAZY_TESTS)
    pytester.makeconftest(LAZY_CONFTEST)
    result = pytester.runpytest_subprocess(*QUIET, "-p", "no:randomly", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*switch after the session: True*"])  # pydantic-ai's own value, put back
