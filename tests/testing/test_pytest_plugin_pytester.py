"""The plugin in a suite that tests with pytester: in-process runs one after another record and replay."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER = """
import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import cassette

agent = Agent(TestModel(), name="inner", result_type=int)


@agent.tool_plain
def roll_die() -> str:
    return "4"


def test_NAME(agentkit_cassette):
    agent.run_sync("hi")


@pytest.mark.agentkit_cassette(path="cassettes/NAME.json")
def test_NAME_json():
    agent.run_sync("json")


def test_NAME_block(agentkit_record_mode):
    with cassette("cassettes/NAME_block.yaml", agentkit_record_mode):
        agent.run_sync("block")
"""

OUTER = f"""

INNER = {INNER!r}


QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:syrupy")


def test_in_process_runs_record_and_replay_one_after_another(pytester):
    pytester.makepyfile(test_first=INNER.replace("NAME", "first"))
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=3)
    pytester.makepyfile(test_second=INNER.replace("NAME", "second"))
    pytester.runpytest(*QUIET, "--agentkit-record-mode=once").assert_outcomes(passed=6)
    pytester.runpytest(*QUIET).assert_outcomes(passed=6)
"""


def test_a_suite_using_pytester_in_process_records_and_replays_in_run_after_run(pytester: pytest.Pytester) -> None:
    # Before the fix the second in-process run failed: the first had imported yaml and was then
    # dropped from sys.modules, and libyaml (set up once a process) kept the first import's classes.
    pytester.makepyfile(test_outer=OUTER)
    result = pytester.runpytest_subprocess("-p", "pytester", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_session_without_pytester_does_not_import_yaml_for_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_no_yaml():
            assert "yaml" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:recording", "-p", "no:syrupy")
    result.assert_outcomes(passed=1)


def test_a_plugin_test_module_run_alone_passes() -> None:
    # Run alone, this module's in-process sessions once failed with pydantic's "not fully defined":
    # the package kept names bound lazily in one run, whose modules the next run imported anew.
    # In the whole suite other tests had loaded the harness first and hid it.
    import subprocess
    import sys
    from pathlib import Path

    module = Path(__file__).with_name("test_pytest_plugin_unused.py")
    test = f"{module}::test_cassettes_a_test_opens_itself_or_a_skipped_test_names_are_kept[serial]"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
