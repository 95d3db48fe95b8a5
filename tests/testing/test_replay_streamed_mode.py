"""A run recorded with `run()` does not silently replay under `run_stream()`, nor the reverse."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._exceptions import CassetteDivergence
from agentkit_testing._matching import Matching

pytestmark = pytest.mark.anyio


def greeter() -> Agent[None, str]:
    return Agent(TestModel(custom_result_text="Hello there"), name="greeter")


async def run_plain(agent: Agent[None, str]) -> str:
    return (await agent.run("Say hello")).data


async def run_streamed(agent: Agent[None, str]) -> str:
    async with agent.run_stream("Say hello") as result:
        return await result.get_data()


async def test_recorded_with_run_and_replayed_with_run_stream_is_a_divergence_naming_streamed(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    with cassette(path, "once"):
        await run_plain(greeter())
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await run_streamed(greeter())
    error = raised.value
    assert (error.run_id, error.field, error.node_index) == ("run-1", "streamed", 0)
    message = str(error)
    assert "the streamed flag differs from the recording" in message
    assert "-false\n+true\n" in error.diff
    assert "run_stream()" in message


async def test_recorded_with_run_stream_and_replayed_with_run_is_a_divergence_naming_streamed(tmp_path: Path) -> None:
    path = tmp_path / "streamed.yaml"
    with cassette(path, "once"):
        await run_streamed(greeter())
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await run_plain(greeter())
    assert raised.value.field == "streamed"
    assert "-true\n+false\n" in raised.value.diff


async def test_matching_can_ignore_how_a_run_was_started(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    with cassette(path, "once"):
        recorded = await run_plain(greeter())
    with cassette(path, matching=Matching(ignore={"streamed"})):
        assert await run_streamed(greeter()) == recorded
