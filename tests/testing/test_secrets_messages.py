"""Replay errors go to CI logs: their messages, values and diffs are scrubbed with the cassette's rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._exceptions import CassetteDivergence, UnrecordedRequest

pytestmark = pytest.mark.anyio
pytest_plugins = ["pytester"]

OPENAI_CANARY = "sk-proj-CANARYmessage0123456789abcdef"
ENV_CANARY = "canary-env-in-message-5521"


def agent_with_prompt(system_prompt: str) -> Agent[None, str]:
    return Agent(TestModel(custom_result_text="ok"), name="support", system_prompt=system_prompt)


async def test_a_divergence_shows_no_live_secret(tmp_path: Path) -> None:
    path = tmp_path / "support.yaml"
    with cassette(path, "rewrite"):
        await agent_with_prompt("Be brief.").run("hello")
    with pytest.raises(CassetteDivergence) as caught, cassette(path):
        await agent_with_prompt(f"Be brief. Key: {OPENAI_CANARY}").run("hello")
    error = caught.value
    for text in (str(error), error.expected, error.actual, error.diff):
        assert OPENAI_CANARY not in text
    assert "Key: <redacted:openai-key>" in error.actual
    assert "<redacted:openai-key>" in error.diff


async def test_a_divergence_applies_the_cassettes_own_patterns(tmp_path: Path) -> None:
    path = tmp_path / "tickets.yaml"
    with cassette(path, "rewrite", scrub_patterns=[r"INTERNAL-\d+"]):
        await agent_with_prompt("Tickets.").run("open one")
    with pytest.raises(CassetteDivergence) as caught, cassette(path, scrub_patterns=[r"INTERNAL-\d+"]):
        await agent_with_prompt("Tickets. Escalate INTERNAL-4711.").run("open one")
    assert "INTERNAL-4711" not in str(caught.value)
    assert "<redacted:pattern>" in caught.value.actual


async def test_an_unrecorded_run_message_shows_no_live_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", ENV_CANARY)
    with pytest.raises(UnrecordedRequest) as caught, cassette(tmp_path / "missing.yaml"):
        await agent_with_prompt("Be brief.").run(f"is {ENV_CANARY} my key?")
    assert ENV_CANARY not in str(caught.value)
    assert "<redacted:env ACME_API_KEY>" in str(caught.value)


def test_the_failure_output_of_a_diverging_test_shows_no_live_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_KEY", ENV_CANARY)
    pytester.makepyfile(
        test_support=textwrap.dedent(
            """
            import os

            import pytest

            from agentkit import Agent
            from agentkit.models import TestModel


            @pytest.mark.agentkit_cassette(path="cassettes/support.yaml")
            def test_support():
                prompt = os.environ.get("PROMPT", "hello")
                Agent(TestModel(custom_result_text="ok"), name="support").run_sync(prompt)
            """
        )
    )
    quiet = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider", "-p", "no:xdist")
    pytester.runpytest(*quiet, "--agentkit-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPT", f"hello, my key is {ENV_CANARY}")
    result = pytester.runpytest(*quiet, "-rA")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "CassetteDivergence" in output
    assert ENV_CANARY not in output
    assert "<redacted:env ACME_API_KEY>" in output
