"""Unused cassettes: reported (or deleted) only after a complete, passing session, never after a partial one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Inner sessions skip plugins these tests do not need: each in-process run re-imports what it loads.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:syrupy", "-p", "no:cacheprovider")
DELETE = "--agentkit-delete-unused-cassettes"

AGENT_MODULE = textwrap.dedent(
    """
    from agentkit import Agent, ModelResponse, TextPart
    from agentkit.models import FunctionModel


    def answer(messages, info):
        return ModelResponse(parts=[TextPart("answer")], model_name="local-1")


    agent = Agent(FunctionModel(answer, model_name="local-1"), name="support")
    """
)

TESTS = textwrap.dedent(
    """
    import os
    import agent_module


    def test_a(agentkit_cassette):
        assert agent_module.agent.run_sync("a").data == "answer"


    def test_b(agentkit_cassette):
        assert agent_module.agent.run_sync("b").data == "answer"
        assert not os.environ.get("AGENTKIT_TEST_FAIL_B"), "asked to fail"


    def test_c(agentkit_cassette):
        assert agent_module.agent.run_sync("c").data == "answer"
    """
)

STALE = "format: agentkit-cassette\nversion: 1\nruns: []\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """Three tests with recorded cassettes, and a stale cassette no test owns."""
    pytester.makepyfile(agent_module=AGENT_MODULE, test_suite=TESTS)
    pytester.syspathinsert()
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=3)
    (folder(pytester) / "test_removed_long_ago.yaml").write_text(STALE)
    return pytester


def folder(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_suite"


def cassettes(pytester: pytest.Pytester) -> list[str]:
    return sorted(path.name for path in folder(pytester).glob("*.yaml"))


ALL = ["test_a.yaml", "test_b.yaml", "test_c.yaml", "test_removed_long_ago.yaml"]
PARTIAL = "*unused cassettes not checked: only part of the suite ran*"
FAILED = "*unused cassettes not checked: the session did not pass*"


def test_complete_passing_session_deletes_only_the_stale_cassette(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, DELETE)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*1 cassette(s) deleted:*", "*test_removed_long_ago.yaml*"])
    assert cassettes(project) == ["test_a.yaml", "test_b.yaml", "test_c.yaml"]


def test_one_node_id_deletes_nothing_and_says_why(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "test_suite.py::test_a", DELETE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([PARTIAL])
    assert "deleted" not in result.stdout.str()
    assert cassettes(project) == ALL


def test_one_node_id_reports_nothing_unused(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "test_suite.py::test_a")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([PARTIAL])
    assert "cassette(s) unused" not in result.stdout.str()


def test_keyword_selection_deletes_nothing(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "-k", "test_a", DELETE)
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_deselect_option_deletes_nothing(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "--deselect", "test_suite.py::test_b", DELETE)
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_tests_removed_by_a_conftest_hook_count_as_a_partial_run(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        def pytest_collection_modifyitems(items):
            items[:] = [item for item in items if item.name != "test_c"]
        """
    )
    result = project.runpytest(*QUIET, DELETE)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_last_failed_run_deletes_nothing(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with_cache = ("-p", "no:hypothesispytest", "-p", "no:syrupy")
    monkeypatch.setenv("AGENTKIT_TEST_FAIL_B", "1")
    project.runpytest(*with_cache).assert_outcomes(passed=2, failed=1)
    monkeypatch.delenv("AGENTKIT_TEST_FAIL_B")
    result = project.runpytest(*with_cache, "--lf", DELETE)
    result.assert_outcomes(passed=1)  # pytest collects only the last failure (or deselects the others)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_failing_session_deletes_nothing(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKIT_TEST_FAIL_B", "1")
    result = project.runpytest(*QUIET, DELETE)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([FAILED])
    assert cassettes(project) == ALL


def test_session_stopped_early_by_exitfirst_deletes_nothing(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_TEST_FAIL_B", "1")
    result = project.runpytest(*QUIET, "-x", DELETE)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([FAILED])
    assert cassettes(project) == ALL


def test_collect_only_deletes_nothing(project: pytest.Pytester) -> None:
    result = project.runpytest(*QUIET, "--collect-only", DELETE)
    result.stdout.fnmatch_lines(["*unused cassettes not checked: no test ran (--collect-only)*"])
    assert cassettes(project) == ALL


def test_xdist_node_id_deletes_nothing(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = project.runpytest_subprocess(*QUIET, "-n", "2", "test_suite.py::test_a", "test_suite.py::test_b", DELETE)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_xdist_keyword_selection_deletes_nothing(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = project.runpytest_subprocess(*QUIET, "-n", "2", "-k", "not test_c", DELETE)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([PARTIAL])
    assert cassettes(project) == ALL


def test_xdist_complete_passing_session_deletes_the_stale_cassette(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = project.runpytest_subprocess(*QUIET, "-n", "2", DELETE)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*1 cassette(s) deleted:*"])
    assert cassettes(project) == ["test_a.yaml", "test_b.yaml", "test_c.yaml"]


OWN_BLOCKS = textwrap.dedent(
    """
    import sys
    import threading
    import pytest
    import agent_module
    from agentkit_testing import cassette


    def test_opens_its_own_block(agentkit_record_mode):
        with cassette("cassettes/test_own/extra.yaml", agentkit_record_mode):
            assert agent_module.agent.run_sync("extra").data == "answer"


    def test_opens_a_block_in_a_thread(agentkit_record_mode):
        def body():
            with cassette("cassettes/test_own/threaded.yaml", agentkit_record_mode):
                agent_module.agent.run_sync("threaded")

        thread = threading.Thread(target=body)
        thread.start()
        thread.join()


    @pytest.mark.agentkit_cassette(path="cassettes/test_own/only_elsewhere.yaml")
    @pytest.mark.skipif(sys.platform != "plan9", reason="stands for a test skipped on this platform")
    def test_skipped_here():
        agent_module.agent.run_sync("elsewhere")


    @pytest.mark.skip(reason="not now")
    @pytest.mark.agentkit_cassette(path="cassettes/test_own/shared.json")
    def test_skipped_always():
        agent_module.agent.run_sync("json")
    """
)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_cassettes_a_test_opens_itself_or_a_skipped_test_names_are_kept(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    if workers:
        pytest.importorskip("xdist")
    pytester.makepyfile(agent_module=AGENT_MODULE, test_own=OWN_BLOCKS)
    pytester.syspathinsert()
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=2, skipped=2)
    folder = pytester.path / "cassettes" / "test_own"
    for name in ("only_elsewhere.yaml", "shared.json"):  # recorded where those tests do run
        (folder / name).write_text(STALE)
    (folder / "test_removed_long_ago.yaml").write_text(STALE)
    expected = ["extra.yaml", "only_elsewhere.yaml", "shared.json", "test_removed_long_ago.yaml", "threaded.yaml"]
    assert sorted(path.name for path in folder.iterdir()) == expected
    result = pytester.runpytest_subprocess(*QUIET, *workers, DELETE) if workers else pytester.runpytest(*QUIET, DELETE)
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*1 cassette(s) deleted:*", "*test_own/test_removed_long_ago.yaml*"])
    assert sorted(path.name for path in folder.iterdir()) == [name for name in expected if "removed" not in name]
