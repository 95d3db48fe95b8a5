"""Stale cassettes: the live agent's definition against each recorded run's first request."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from agentkit import Agent, RunContext
from agentkit.models import TestModel
from agentkit_testing import cassette
from agentkit_testing._cli import main
from agentkit_testing._stale import check_cassettes, probe_definition


class Order(BaseModel):
    id: int


def lookup(order: int) -> str:
    """Look an order up."""
    return "shipped"


def lookup_by_text(order: str) -> str:
    """Look an order up."""
    return "shipped"


def make_agent(
    *, system_prompt: str = "Be brief.", extra_tool: bool = False, text_ids: bool = False, result_type: Any = str
) -> Agent[Any, Any]:
    agent: Agent[Any, Any] = Agent(
        TestModel(), name="support", system_prompt=system_prompt, result_type=result_type, model_settings={"seed": 1}
    )
    agent.tool_plain(name="lookup")(lookup_by_text if text_ids else lookup)
    if extra_tool:

        @agent.tool_plain
        def cancel(order: int) -> str:
            """Cancel an order."""
            return "cancelled"

    return agent


def record(path: Path, agent: Agent[Any, Any]) -> Path:
    with cassette(path, record_mode="all"):
        agent.run_sync("Where is order 42?")
    return path


def check(path: Path, agent: Agent[Any, Any], deps: Any = None) -> Any:
    definition = anyio.run(lambda: probe_definition(agent, deps=deps))
    (result,) = check_cassettes([path], agent, definition)
    return result


def test_unchanged_agent_is_fresh(tmp_path: Path) -> None:
    result = check(record(tmp_path / "c.yaml", make_agent()), make_agent())
    assert result.status == "fresh"
    assert [run.status for run in result.runs] == ["fresh"]


def test_changed_system_prompt_is_stale_with_a_diff(tmp_path: Path) -> None:
    result = check(record(tmp_path / "c.yaml", make_agent()), make_agent(system_prompt="Be thorough."))
    assert result.status == "stale"
    (change,) = result.runs[0].changes
    assert change.startswith("system prompts changed:")
    assert "-Be brief." in change
    assert "+Be thorough." in change


def test_added_tool_and_changed_schema_are_named(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml", make_agent())
    assert check(path, make_agent(extra_tool=True)).runs[0].changes == ("tool 'cancel' added",)
    (change,) = check(path, make_agent(text_ids=True)).runs[0].changes
    assert change.startswith("the definition of tool 'lookup' changed:")
    assert '"type": "string"' in change


def test_changed_result_type_is_stale(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml", make_agent(result_type=Order))
    changes = check(path, make_agent(result_type=str)).runs[0].changes
    assert "result tool 'final_result' removed" in changes
    assert "a plain-text answer is now allowed to end the run" in changes


def test_changed_setting_is_stale(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml", make_agent())
    agent = make_agent()
    agent.model_settings = {"seed": 2}
    assert check(path, agent).runs[0].changes == ("setting 'seed' changed: 1 → 2",)


def test_runs_of_other_agents_are_not_checked(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml", make_agent())
    other = make_agent(system_prompt="Something else")
    other.name = "billing"
    assert check(path, other).runs == ()
    assert check(path, other).status == "unknown"


def test_prompt_that_needs_deps_is_probed_with_them(tmp_path: Path) -> None:
    agent: Agent[str, str] = Agent(TestModel(), name="greeter", deps_type=str)

    @agent.system_prompt
    def who(ctx: RunContext[str]) -> str:
        return "Talking to " + ctx.deps.upper()

    with cassette(tmp_path / "c.yaml", record_mode="all"):
        agent.run_sync("hi", deps="ann")
    with pytest.raises(AttributeError):
        anyio.run(lambda: probe_definition(agent))
    assert check(tmp_path / "c.yaml", agent, deps="ann").status == "fresh"
    assert check(tmp_path / "c.yaml", agent, deps="bob").status == "stale"


def test_unprobed_agent_leaves_every_run_unknown(tmp_path: Path) -> None:
    path = record(tmp_path / "c.yaml", make_agent())
    (result,) = check_cassettes([path], make_agent(), None)
    assert result.status == "unknown"
    assert result.runs[0].changes == ("the live agent could not be probed",)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with an importable agent module (`app:agent`) and its cassettes, as the cwd."""
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from agentkit import Agent
            from agentkit.models import TestModel

            agent = Agent(TestModel(), name="support", system_prompt="Be brief.")


            @agent.tool_plain
            def lookup(order: int) -> str:
                \"\"\"Look an order up.\"\"\"
                return "shipped"
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("app", None)
    yield tmp_path
    sys.modules.pop("app", None)


def test_cli_reports_fresh_cassettes_and_skips_files_not_ours(project: Path) -> None:
    import app  # type: ignore[import-not-found]

    (project / "cassettes").mkdir()
    record(project / "cassettes" / "fresh.yaml", app.agent)
    (project / "cassettes" / "pytest-recording.yaml").write_text("interactions: []\n")
    result = CliRunner().invoke(main, ["cassette", "check", "cassettes", "--agent", "app:agent"])
    assert result.exit_code == 0, result.output
    assert result.output == "fresh   cassettes/fresh.yaml  (1 run(s))\n"


def test_cli_names_what_changed_and_exits_one(project: Path) -> None:
    import app

    record(project / "c.yaml", app.agent)
    (project / "app.py").write_text((project / "app.py").read_text().replace("Be brief.", "Be thorough."))
    sys.modules.pop("app")  # the command imports the agent's module as it is now
    result = CliRunner().invoke(main, ["cassette", "check", "c.yaml", "--agent", "app:agent"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("stale   c.yaml  (1 run(s))\n    run-1: system prompts changed:")
    assert "+Be thorough." in result.output


def test_cli_reports_a_broken_cassette(project: Path) -> None:
    (project / "broken.yaml").write_text("format: agentkit-cassette\nversion: 1\nruns: [\n")
    result = CliRunner().invoke(main, ["cassette", "check", "broken.yaml", "--agent", "app:agent"])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output


def test_cli_reports_an_unreadable_cassette_in_a_folder_and_passes_over_a_folder_named_like_one(
    project: Path,
) -> None:
    import app

    (project / "cassettes" / "folder.yaml").mkdir(parents=True)
    (project / "cassettes" / "gone.yaml").symlink_to(project / "moved-away.yaml")
    record(project / "cassettes" / "fresh.yaml", app.agent)
    result = CliRunner().invoke(main, ["cassette", "check", "cassettes", "--agent", "app:agent"])
    assert result.exit_code == 1, result.output
    assert result.stdout == "fresh   cassettes/fresh.yaml  (1 run(s))\n"
    assert result.stderr.startswith("error   cassettes/gone.yaml: cannot read the cassette (No such file or directory)")


def test_cli_rejects_a_malformed_agent_path(project: Path) -> None:
    result = CliRunner().invoke(main, ["cassette", "check", ".", "--agent", "app"])
    assert result.exit_code == 2
    assert "expected module:attribute" in result.output
