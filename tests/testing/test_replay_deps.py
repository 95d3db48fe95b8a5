"""Runs are matched by their whole identity, deps included: concurrent runs that differ only by deps find their own."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit import Agent, ModelResponse, RunContext, TextPart
from agentkit.models import FunctionModel, TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import AmbiguousRecording, CassetteDivergence
from agentkit_testing._matching import Matching

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Account:
    owner: str
    balance: int


def bank_agent(log: list[str] | None = None) -> Agent[Account, str]:
    """Reports the balance of the account in its deps; the tool sleeps so concurrent runs interleave."""
    agent: Agent[Account, str] = Agent(TestModel(), deps_type=Account, name="bank")

    @agent.tool
    async def balance(ctx: RunContext[Account]) -> str:
        """The account's balance."""
        await anyio.sleep(0.01 if ctx.deps.owner == "Anne" else 0.0)
        if log is not None:
            log.append(ctx.deps.owner)
        return f"{ctx.deps.owner} has {ctx.deps.balance}"

    return agent


ACCOUNTS = [Account("Anne", 10), Account("Bob", 20)]


async def run_together(agent: Agent[Account, str], accounts: list[Account]) -> dict[str, str]:
    results: dict[str, str] = {}

    async def one(account: Account) -> None:
        results[account.owner] = (await agent.run("What is my balance?", deps=account)).data

    async with anyio.create_task_group() as group:
        for account in accounts:
            group.start_soon(one, account)
    return results


async def record_together(path: Path, **options: Any) -> dict[str, str]:
    with cassette(path, "once", **options):
        return await run_together(bank_agent(), ACCOUNTS)


async def test_concurrent_runs_differing_only_by_deps_replay_in_another_order(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    recorded = await record_together(path)
    with cassette(path) as session:
        replayed = await run_together(bank_agent(), list(reversed(ACCOUNTS)))
    assert replayed == recorded
    assert session.unplayed_runs == []


async def test_external_tool_data_goes_to_the_run_with_the_same_deps(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    recorded = await record_together(path, external_tools=["balance"])
    assert recorded == {"Anne": '{"balance":"Anne has 10"}', "Bob": '{"balance":"Bob has 20"}'}
    with cassette(path, external_tools=["balance"]):
        replayed = await run_together(bank_agent(), list(reversed(ACCOUNTS)))
    assert replayed == recorded


async def test_the_recorded_identity_names_the_deps_type_and_a_digest(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    await record_together(path)
    identities = sorted(run.deps or "" for run in Cassette.load(path).runs)
    assert all(identity.startswith("test_replay_deps.Account sha256:") for identity in identities)
    assert identities[0] != identities[1]


async def test_changed_deps_are_a_divergence_naming_deps(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    with cassette(path, "once"):
        await bank_agent().run("What is my balance?", deps=Account("Anne", 10))
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await bank_agent().run("What is my balance?", deps=Account("Anne", 11))
    error = raised.value
    assert (error.run_id, error.field, error.node_index) == ("run-1", "deps", 0)
    assert "Matching(ignore={'deps'})" in str(error)


async def test_matching_can_ignore_deps(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    with cassette(path, "once"):
        await bank_agent().run("What is my balance?", deps=Account("Anne", 10))
    with cassette(path, matching=Matching(ignore={"deps", "tool_return"})) as session:
        await bank_agent().run("What is my balance?", deps=Account("Anne", 11))
    assert len(session.replayed_runs) == 1


async def test_a_cassette_without_deps_digests_replays_ignoring_deps(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    with cassette(path, "once"):
        await bank_agent().run("What is my balance?", deps=Account("Anne", 10))
    old = Cassette.load(path)
    Cassette(path, [dataclasses.replace(run, deps=None) for run in old.runs]).save()
    assert "deps:" not in path.read_text()
    with cassette(path) as session:
        await bank_agent().run("What is my balance?", deps=Account("Anne", 10))
    assert len(session.replayed_runs) == 1


def slow_agent(answers: list[str]) -> Agent[None, str]:
    """Answers from `answers` in turn, after a pause, so two runs started together overlap."""
    remaining = iter(answers)

    async def answer(messages: Any, info: Any) -> ModelResponse:
        await anyio.sleep(0.01)
        return ModelResponse(parts=[TextPart(next(remaining))])

    return Agent(FunctionModel(answer, model_name="slow"), name="slow")


async def run_twice_together(agent: Agent[None, str]) -> list[str]:
    results: list[str] = []

    async def one() -> None:
        results.append((await agent.run("count")).data)

    async with anyio.create_task_group() as group:
        group.start_soon(one)
        group.start_soon(one)
    return results


async def test_indistinguishable_concurrent_recordings_that_differ_are_an_ambiguity_error(tmp_path: Path) -> None:
    path = tmp_path / "same.yaml"
    with cassette(path, "once"):
        await run_twice_together(slow_agent(["first", "second"]))
    assert [run.concurrent for run in Cassette.load(path).runs] == [True, True]
    with pytest.raises(AmbiguousRecording) as raised, cassette(path):
        await slow_agent([]).run("count")
    message = str(raised.value)
    assert "'run-1'" in message
    assert "'run-2'" in message
    assert "recorded while the other was running" in message
    assert raised.value.run_ids == ("run-1", "run-2")


async def test_identical_concurrent_recordings_replay_in_recording_order(tmp_path: Path) -> None:
    path = tmp_path / "same.yaml"
    with cassette(path, "once"):
        await run_twice_together(slow_agent(["same", "same"]))
    assert [run.concurrent for run in Cassette.load(path).runs] == [True, True]
    with cassette(path) as session:
        assert await run_twice_together(slow_agent([])) == ["same", "same"]
    assert session.unplayed_runs == []


async def test_sequential_equal_runs_are_not_marked_concurrent(tmp_path: Path) -> None:
    agent: Agent[None, str] = Agent(TestModel(), name="same")
    path = tmp_path / "same.yaml"
    with cassette(path, "once"):
        await agent.run("count")
        await agent.run("count")
    assert [run.concurrent for run in Cassette.load(path).runs] == [False, False]
    assert "concurrent" not in path.read_text()
