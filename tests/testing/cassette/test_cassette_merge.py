"""Saving merges what other writers added meanwhile, so parallel recorders lose nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent
from agentkit.models import TestModel
from agentkit_testing import Cassette, cassette

pytestmark = pytest.mark.anyio


def agent() -> Agent[None, str]:
    return Agent(TestModel(custom_result_text="ok"), name="merger")


async def test_interleaved_recorders_keep_each_others_runs(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    with cassette(path, "new_episodes"):
        await agent().run("first, before anyone else")

    with cassette(path, "new_episodes") as outer:  # loads the file: 1 run
        with cassette(path, "new_episodes"):  # a second writer, loaded before the first saves
            await agent().run("from the inner writer")
        await agent().run("from the outer writer")  # the inner block has saved by now
        assert len(outer.recorded_runs) == 1

    runs = Cassette.load(path).runs
    assert [run.user_prompt for run in runs] == [
        "first, before anyone else",
        "from the inner writer",
        "from the outer writer",
    ]
    assert len({run.id for run in runs}) == 3

    with cassette(path, "none") as replay:
        for prompt in ("from the outer writer", "first, before anyone else", "from the inner writer"):
            assert (await agent().run(prompt)).data == "ok"
    assert len(replay.replayed_runs) == 3


async def test_rewrite_does_not_merge(tmp_path: Path) -> None:
    path = tmp_path / "rewritten.yaml"
    with cassette(path, "new_episodes"):
        await agent().run("old")
    with cassette(path, "rewrite"):
        await agent().run("new")
    assert [run.user_prompt for run in Cassette.load(path).runs] == ["new"]
