"""The pydantic-ai adapter's errors say how to record again in the user's own context, as agentkit's do.

In code (a `cassette()` block) the fix is the `record_mode=` keyword; under the pytest plugin it is
the `--agentkit-record-mode` option (or the marker's keyword). Never both.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from pydantic_ai_helpers import run_sync

from agentkit_testing import CassetteDivergence, RuntimeMismatch, UnplayedRuns, UnrecordedRequest
from agentkit_testing._divergence import RecordAdvice, advising
from agentkit_testing.pydantic_ai import cassette

pytest_plugins = ["pytester"]


def make_agent(instructions: str = "Be brief.", name: str = "calc") -> Agent[None, str]:
    return Agent(TestModel(), name=name, instructions=instructions)


@contextlib.contextmanager
def in_context(context: str) -> Iterator[None]:
    """The block opened as the plugin opens its cassette (`pytest`) or as a user does in code."""
    if context == "code":
        yield
    else:
        with advising(RecordAdvice("pytest")):
            yield


def assert_one_hint(message: str, context: str, mode: str) -> None:
    if context == "code":
        assert f"record_mode={mode!r}" in message, message
        assert "--agentkit-record-mode" not in message, message
    else:
        assert f"--agentkit-record-mode={mode}" in message, message
        assert "record_mode=" not in message, message


CONTEXTS = pytest.mark.parametrize("context", ["code", "pytest"])


def record(path: Path, *prompts: str) -> None:
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        for prompt in prompts:
            run_sync(agent, prompt)


@CONTEXTS
def test_a_missing_cassette_names_one_way_to_record_it(tmp_path: Path, context: str) -> None:
    path, agent = tmp_path / "none.yaml", make_agent()
    with in_context(context), cassette(path, agents=[agent]), pytest.raises(UnrecordedRequest) as raised:
        run_sync(agent, "hello")
    assert_one_hint(str(raised.value), context, "once")


@CONTEXTS
def test_an_unrecorded_run_names_one_way_to_record_it(tmp_path: Path, context: str) -> None:
    record(path := tmp_path / "c.yaml", "hello")
    agent = make_agent(name="other")  # no recorded run of this agent, so none is the nearest to compare
    with pytest.raises(UnrecordedRequest) as raised, in_context(context), cassette(path, agents=[agent]):
        run_sync(agent, "hello")
    assert_one_hint(str(raised.value), context, "new_episodes")


@CONTEXTS
def test_a_divergence_names_one_way_to_record_again(tmp_path: Path, context: str) -> None:
    record(path := tmp_path / "c.yaml", "hello")
    agent = make_agent("Be verbose.")
    with in_context(context), cassette(path, agents=[agent]), pytest.raises(CassetteDivergence) as raised:
        run_sync(agent, "hello")
    assert_one_hint(str(raised.value), context, "rewrite")


@CONTEXTS
def test_unplayed_runs_name_one_way_to_record_again(tmp_path: Path, context: str) -> None:
    record(path := tmp_path / "c.yaml", "hello", "goodbye")
    with pytest.raises(UnplayedRuns) as raised, in_context(context), cassette(path, agents=[agent := make_agent()]):
        run_sync(agent, "hello")
    assert_one_hint(str(raised.value), context, "rewrite")


@CONTEXTS
def test_a_runtime_mismatch_names_one_way_to_record_again(tmp_path: Path, context: str) -> None:
    record(path := tmp_path / "c.yaml", "hello")
    path.write_text(path.read_text().replace("runtime: pydantic-ai 2.", "runtime: pydantic-ai 1."))
    with in_context(context), cassette(path, agents=[agent := make_agent()]), pytest.raises(RuntimeMismatch) as raised:
        run_sync(agent, "hello")
    assert_one_hint(str(raised.value), context, "rewrite")


def test_under_the_plugin_a_missing_cassette_says_the_pytest_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hint=textwrap.dedent(
            """
            import asyncio
            import pytest
            from pydantic_ai import Agent
            from pydantic_ai.models.test import TestModel

            agent = Agent(TestModel(), name="calc")


            @pytest.mark.agentkit_cassette(pydantic_ai_agents=[agent])
            def test_calc(agentkit_cassette):
                asyncio.run(agent.run("hello"))
            """
        )
    )
    result = pytester.runpytest("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnrecordedRequest*run pytest with --agentkit-record-mode=once*"])
    result.stdout.no_fnmatch_line("*cassette(): record_mode*")
