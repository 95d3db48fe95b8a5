"""`agentkit cassette fork FILE --run R --at-node N --agent module:attr [--model ...]`."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agentkit_testing import Cassette
from agentkit_testing._cli import main

APP = """
from agentkit import Agent, ModelResponse, TextPart, ToolCallPart, UserError
from agentkit.models import FunctionModel

answers = {"recorded": 0, "own": 0, "other": 0}


def scripted(name, final):
    def answer(messages, info):
        answers[name] += 1
        if name == "recorded" and answers[name] == 1:
            return ModelResponse([ToolCallPart("roll", {}, "call-1")])
        return ModelResponse([TextPart(final)])

    return FunctionModel(answer, model_name=name)


agent = Agent(scripted("own", "Own model."), name="dice", system_prompt="Be brief.")
changed = Agent(scripted("own", "Own model."), name="dice", system_prompt="Be thorough.")
other = scripted("other", "Other model.")


def refuse(messages, info):
    raise UserError("this model is switched off")


switched_off = FunctionModel(refuse, model_name="off")
not_a_model = 42

for each in (agent, changed):
    @each.tool_plain
    def roll() -> str:
        \"\"\"Roll a die.\"\"\"
        return "4"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with an agent module (`app`) and a cassette of one run recorded on its `recorded` model."""
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("app", None)
    import app  # type: ignore[import-not-found]

    from agentkit_testing import cassette

    with cassette(tmp_path / "c.yaml", "all"):
        app.agent.run_sync("Roll for me", model=app.scripted("recorded", "You rolled 4."))
    yield tmp_path
    sys.modules.pop("app", None)


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(main, ["cassette", "fork", "c.yaml", *arguments])


def test_fork_adds_the_forked_run_and_says_where(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:agent")
    assert result.exit_code == 0, result.output
    assert "c.yaml: added run-2, forked from run-1 at node 2 (function:own)" in result.output
    assert "result: 'Own model.'" in result.output
    _, forked = Cassette.load(project / "c.yaml").runs
    assert forked.forked_from is not None
    assert (forked.forked_from.run, forked.forked_from.node) == ("run-1", 2)


def test_fork_on_a_model_object(project: Path) -> None:
    import app

    assert app.answers == {"recorded": 2, "own": 0, "other": 0}  # the recording
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:agent", "--model", "app:other")
    assert result.exit_code == 0, result.output
    assert "result: 'Other model.'" in result.output
    assert app.answers == {"recorded": 2, "own": 0, "other": 1}


def test_fork_on_a_model_name(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "0", "--agent", "app:agent", "--model", "test")
    assert result.exit_code == 0, result.output
    assert "forked from run-1 at node 0 (test:test)" in result.output


def test_unknown_model_is_a_usage_error(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:agent", "--model", "nowhere:model")
    assert result.exit_code == 2
    assert "'nowhere:model' is neither a model name" in result.output


def test_model_option_naming_something_else_is_a_usage_error(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:agent", "--model", "app:not_a_model")
    assert result.exit_code == 2
    assert "'app:not_a_model' is int, not a Model" in result.output


def test_node_beyond_the_run_exits_one_naming_file_run_and_node(project: Path) -> None:
    before = (project / "c.yaml").read_bytes()
    result = invoke("--run", "run-1", "--at-node", "9", "--agent", "app:agent")
    assert result.exit_code == 1
    assert "c.yaml: run 'run-1' cannot be forked at node 9: node 9 is beyond its end" in result.output
    assert (project / "c.yaml").read_bytes() == before


def test_unknown_run_exits_one(project: Path) -> None:
    result = invoke("--run", "run-7", "--at-node", "2", "--agent", "app:agent")
    assert result.exit_code == 1
    assert "no run 'run-7' to fork at node 2" in result.output


def test_divergence_suggests_ignore(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:changed")
    assert result.exit_code == 1
    assert "diverged in run 'run-1'" in result.output
    assert "--ignore FIELD" in result.output


def test_ignore_forks_a_changed_agent(project: Path) -> None:
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:changed", "--ignore", "system_prompt")
    assert result.exit_code == 0, result.output
    assert "added run-2" in result.output


def test_failing_live_part_exits_one_and_writes_nothing(project: Path) -> None:
    before = (project / "c.yaml").read_bytes()
    result = invoke("--run", "run-1", "--at-node", "2", "--agent", "app:agent", "--model", "app:switched_off")
    assert result.exit_code == 1
    assert "the fork of run 'run-1' at node 2 failed, nothing was written: UserError: this model is switched off" in (
        result.output
    )
    assert (project / "c.yaml").read_bytes() == before
