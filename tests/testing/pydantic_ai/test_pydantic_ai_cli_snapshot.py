"""`agentkit cassette show/verify/diff` and the syrupy extension on runs of pydantic-ai agents."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from pydantic_ai_helpers import run_sync

from agentkit_testing import AgentRunSnapshotExtension
from agentkit_testing._cli import main
from agentkit_testing.pydantic_ai import cassette

pytest_plugins = ["pytester"]


def make_agent(offset: int = 0) -> Agent[None, str]:
    agent = Agent(TestModel(), name="calc")

    @agent.tool_plain
    def add(x: int, y: int) -> int:
        """Add two numbers."""
        return x + y + offset

    return agent


def recorded(path: Path, offset: int = 0) -> Path:
    with cassette(path, agents=[agent := make_agent(offset)], record_mode="once"):
        run_sync(agent, "add things")
    return path


def test_show_prints_the_requests_and_nodes_of_a_pydantic_ai_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cassette", "show", str(recorded(tmp_path / "c.yaml"))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("1 run, 2 requests, 1 tool call")
    assert "  (recorded under pydantic-ai 2." in result.output
    titles = [line.split("  ")[0] for line in lines if line.startswith(("├─", "└─"))]
    assert titles == [
        "├─ 0 ModelRequestNode",
        "├─ 1 CallToolsNode",
        "├─ 2 ModelRequestNode",
        "├─ 3 CallToolsNode",
        "└─ 4 End",
    ]
    assert "│     call add(" in result.output
    assert "│     → add returned 0" in result.output


def test_verify_counts_the_requests_of_a_pydantic_ai_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cassette", "verify", str(recorded(tmp_path / "c.yaml"))])
    assert result.exit_code == 0
    assert result.output.strip().endswith("1 run, 2 requests, 1 tool call")


def test_diff_shows_a_changed_tool_return(tmp_path: Path) -> None:
    old, new = recorded(tmp_path / "old.yaml"), recorded(tmp_path / "new.yaml", offset=1)
    result = CliRunner().invoke(main, ["cassette", "diff", str(old), str(new)])
    assert result.exit_code == 1
    assert "-  result: 0\n+  result: 1" in result.output


def test_a_pydantic_ai_run_snapshots_as_node_text_that_replay_reproduces(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := make_agent()], record_mode="once"):
        live = AgentRunSnapshotExtension().serialize(run_sync(agent, "add things"))
    with cassette(path, agents=[agent := make_agent()]):
        replayed = AgentRunSnapshotExtension().serialize(run_sync(agent, "add things"))
    assert replayed == live
    assert live.splitlines()[:3] == ["[0] ModelRequestNode", " 0 | user-prompt:", ' 0 |     "add things"']
    assert "[1] CallToolsNode  model=test" in live
    assert " 1 | tool-call: add  id=call_1" in live
    assert '[4] End\n 4 | data: "{\\"add\\":0}"' in live
    assert "timestamp" not in live


def test_the_snapshot_fixture_matches_a_pydantic_ai_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_pai_snapshot=textwrap.dedent(
            """
            import asyncio
            from pydantic_ai import Agent
            from pydantic_ai.models.test import TestModel
            from agentkit_testing import AgentRunSnapshotExtension

            def test_run(snapshot):
                agent = Agent(TestModel(custom_output_text="ANSWER"), name="s")
                result = asyncio.run(agent.run("hi"))
                assert result == snapshot(extension_class=AgentRunSnapshotExtension)
            """
        )
    )
    pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_pai_snapshot=(pytester.path / "test_pai_snapshot.py").read_text().replace("ANSWER", "CHANGED")
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*-  1 |     "ANSWER"', '*+  1 |     "CHANGED"'])


def test_show_ends_a_run_answered_by_an_output_tool_with_end(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with cassette(path, agents=[agent := Agent(TestModel(), name="typed", output_type=int)], record_mode="once"):
        run_sync(agent, "a number")
    result = CliRunner().invoke(main, ["cassette", "show", str(path)])
    assert "│     call final_result(" in result.output
    assert result.output.rstrip().endswith("└─ 2 End")
