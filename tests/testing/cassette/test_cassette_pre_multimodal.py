"""Cassettes written before multimodal user content existed still load and replay unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent, UserPromptPart
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_agent() -> Agent[None, str]:
    """The agent the fixtures were recorded with (tests/testing/cassette/fixtures/pre_multimodal_cassette.*)."""
    agent: Agent[None, str] = Agent(TestModel(), system_prompt="Be brief.", name="fixture_agent")

    @agent.tool_plain
    def roll_die() -> str:
        """Roll a die."""
        return "4"

    return agent


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_pre_multimodal_cassette_loads_with_its_prompts(suffix: str) -> None:
    loaded = Cassette.load(FIXTURES / f"pre_multimodal_cassette.{suffix}")
    assert [run.user_prompt for run in loaded.runs] == ["What is the capital of France?", "Two prompts\nin a list"]
    prompts = [
        part.content
        for run in loaded.runs
        for part in run.requests[0].messages[0].parts  # type: ignore[union-attr]
        if isinstance(part, UserPromptPart)
    ]
    assert prompts == ["What is the capital of France?", ["Two prompts", "in a list"]]


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_pre_multimodal_cassette_replays_text_and_list_prompts(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"copy.{suffix}"
    path.write_bytes((FIXTURES / f"pre_multimodal_cassette.{suffix}").read_bytes())
    agent = fixture_agent()
    with cassette(path, "none") as session:
        first = agent.run_sync("What is the capital of France?")
        second = agent.run_sync(["Two prompts", "in a list"])
    assert (first.data, second.data) == ('{"roll_die":"4"}', '{"roll_die":"4"}')
    assert len(session.replayed_runs) == 2
