"""`--agentkit-html=DIR`: a test whose replay diverges gets the cassette's page, the diverging node highlighted."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from agentkit_testing import CassetteDivergence
from agentkit_testing._viewer._divergence_page import find_divergence, page_file_name

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")

DICE = textwrap.dedent(
    """
    import os

    from agentkit import Agent, ModelResponse, TextPart, ToolCallPart
    from agentkit.models import FunctionModel


    def answer(messages, info):
        if len(messages) == 1:
            return ModelResponse([ToolCallPart("roll", {}, "call-1")])
        return ModelResponse([TextPart("You rolled it.")])


    agent = Agent(FunctionModel(answer), name="dice")


    @agent.tool_plain
    def roll() -> str:
        '''Roll a die.'''
        return os.environ.get("ROLL", "4") + " <b>pips</b>"


    def test_roll(agentkit_cassette):
        assert agent.run_sync("Roll for me").data == "You rolled it."


    def test_plain_failure():
        assert 1 == 2
    """
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A test module whose cassette is recorded with the die rolling 4; `ROLL` changes it afterwards."""
    pytester.makepyfile(test_dice=DICE)
    monkeypatch.delenv("ROLL", raising=False)
    recorded = pytester.runpytest(*QUIET, "--agentkit-record-mode=once", "-k", "test_roll")
    recorded.assert_outcomes(passed=1)
    monkeypatch.setenv("ROLL", "6")
    return pytester


def test_diverging_replay_names_the_page_in_the_failure_report(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "--agentkit-html=pages", "-k", "test_roll")
    result.assert_outcomes(failed=1)
    page = project.path / "pages" / page_file_name("test_dice.py::test_roll")
    result.stdout.fnmatch_lines(
        [
            "*- agentkit cassette page -*",
            "replay diverged in run 'run-1' at node 1 of *test_dice/test_roll.yaml",
            f"open {page.as_uri()}",
        ]
    )
    assert page.is_file()


def test_page_highlights_the_diverging_node_and_shows_the_divergence(project: pytest.Pytester) -> None:
    project.runpytest(*QUIET, "--agentkit-html=pages", "-k", "test_roll")
    page = (project.path / "pages" / page_file_name("test_dice.py::test_roll")).read_text()
    assert re.search(r'class="node CallToolsNode[^"]*\bhighlight\b[^"]*" data-node="1"', page)
    assert len(re.findall(r'class="node [^"]*\bhighlight\b', page)) == 1
    notice = page[page.index('<div class="notice"') :]
    assert "test_dice.py::test_roll" in notice
    assert "at node 1 (CallToolsNode, tool &#39;roll&#39;" in notice
    assert "6 &lt;b&gt;pips&lt;/b&gt;" in notice  # the live return, escaped
    assert "<b>pips</b>" not in page


def test_without_the_option_no_page_is_written(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "-k", "test_roll")
    result.assert_outcomes(failed=1)
    assert "agentkit cassette page" not in result.stdout.str()
    assert not (project.path / "pages").exists()


def test_a_failure_that_is_no_divergence_gets_no_page(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "--agentkit-html=pages", "-k", "test_plain_failure")
    result.assert_outcomes(failed=1)
    assert "agentkit cassette page" not in result.stdout.str()
    assert not (project.path / "pages").exists()


def test_a_divergence_from_an_in_memory_cassette_says_why_there_is_no_page(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_memory=textwrap.dedent(
            """
            from agentkit import Agent
            from agentkit.models import TestModel
            from agentkit_testing import Cassette, cassette


            def test_memory():
                store = Cassette()
                with cassette(store, "all"):
                    Agent(TestModel(), name="a", system_prompt="One.").run_sync("hi")
                with cassette(store, "none"):
                    Agent(TestModel(), name="a", system_prompt="Two.").run_sync("hi")
            """
        )
    )
    result = pytester.runpytest(*QUIET, "--agentkit-html=pages")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- agentkit cassette page -*", "no page for this divergence (ValueError): *in-memory*"]
    )


def test_pages_are_named_in_reports_from_xdist_workers(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*QUIET, "-n", "2", "--agentkit-html=pages", "-k", "test_roll")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- agentkit cassette page -*", "open file://*/pages/test_dice.py_test_roll.html"])


# --- the helpers ---------------------------------------------------------------------------------


def divergence() -> CassetteDivergence:
    return CassetteDivergence(
        "diverged", path=Path("c.yaml"), run_id="run-1", node_index=2, field="x", expected="", actual="", diff=""
    )


def test_divergence_is_found_in_exception_groups_and_chains() -> None:
    error = divergence()
    assert find_divergence(error) is error
    assert find_divergence(ExceptionGroup("tools", [ValueError("other"), error])) is error
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = error
    assert find_divergence(wrapped) is error
    handled = KeyError("raised while handling it")
    handled.__context__ = wrapped
    assert find_divergence(handled) is error
    assert find_divergence(ValueError("no")) is None


def test_page_file_names_are_safe_and_bounded() -> None:
    assert page_file_name("tests/test_a.py::test_b[x-1]") == "tests_test_a.py_test_b[x-1].html"
    assert page_file_name("../../etc/passwd") == "etc_passwd.html"
    long_id = "tests/test_a.py::test_" + "b" * 300
    name = page_file_name(long_id)
    assert len(name) <= 125
    assert name != page_file_name(long_id + "c")


def test_a_secret_in_the_test_id_is_in_neither_the_page_nor_its_file_name(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "zq7Xw2Pp9LmN4kR8tYv1Bc6Hd3Jf5Gs0"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    pytester.makepyfile(
        test_keyed=DICE.replace(
            "def test_roll(agentkit_cassette):",
            "@pytest.mark.parametrize('key', [os.environ['OPENAI_API_KEY']])\ndef test_roll(agentkit_cassette, key):",
        ).replace("import os\n", "import os\nimport pytest\n", 1)
    )
    monkeypatch.delenv("ROLL", raising=False)
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once", "-k", "test_roll").assert_outcomes(passed=1)
    monkeypatch.setenv("ROLL", "6")
    pytester.runpytest(*QUIET, "--agentkit-html=pages", "-k", "test_roll").assert_outcomes(failed=1)
    (page,) = (pytester.path / "pages").iterdir()
    assert secret not in page.name
    assert "You rolled it" in page.read_text()  # the cassette's page it is
    assert secret not in page.read_text()
