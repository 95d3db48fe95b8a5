"""Replay reproduces a recorded run: the same nodes, messages, timestamps and ids, offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest

from agentkit import (
    Agent,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UnexpectedModelBehavior,
)
from agentkit.models import FunctionModel, TestModel, override_allow_model_requests
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._exceptions import CassetteDivergence, UnrecordedRequest
from agentkit_testing._recorder import RecordingModel
from agentkit_testing._replay import ReplayModel

pytestmark = pytest.mark.anyio
DiceGame = Any  # tests/testing/conftest.py


async def collect_nodes(agent: Agent[Any, Any], prompt: str, **options: Any) -> tuple[list[Any], Any]:
    async with agent.iter(prompt, **options) as agent_run:
        nodes = [node async for node in agent_run]
    return nodes, agent_run.result


async def test_replayed_nodes_and_messages_equal_the_recorded_ones(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    with cassette(path, "once"):
        recorded, recorded_result = await collect_nodes(game.agent, "My guess is 4", deps="Anne")
    with cassette(path):
        replayed, replayed_result = await collect_nodes(game.agent, "My guess is 4", deps="Anne")
    assert replayed == recorded
    assert repr(replayed) == repr(recorded)
    assert replayed_result.all_messages() == recorded_result.all_messages()
    assert replayed_result.usage() == recorded_result.usage()
    assert game.calls == {"roll_die": 2, "get_player_name": 2}


async def test_timestamps_and_tool_call_ids_come_from_the_recording(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "dice.yaml"
    with cassette(path, "once"):
        await game.agent.run("My guess is 4", deps="Anne")
    (run,) = Cassette.load(path).runs
    with cassette(path):
        result = await game.agent.run("My guess is 4", deps="Anne")
    request, response, tools_request, *_ = result.all_messages()
    assert request.parts[-1].timestamp == run.requests[0].messages[0].parts[-1].timestamp  # type: ignore[union-attr]
    assert response.timestamp == run.requests[0].response.timestamp  # type: ignore[union-attr]
    assert [part.tool_call_id for part in response.parts] == [  # type: ignore[union-attr]
        part.tool_call_id  # type: ignore[union-attr]
        for part in run.requests[0].response.parts
    ]
    assert [part.timestamp for part in tools_request.parts] == [  # type: ignore[union-attr]
        call.result.timestamp for call in run.tool_calls
    ]


class City(pydantic.BaseModel):
    name: str
    country: str


async def test_structured_results_and_the_closing_message_replay_exactly(tmp_path: Path) -> None:
    agent = Agent(TestModel(custom_result_args={"name": "Paris", "country": "France"}), result_type=City, name="geo")
    path = tmp_path / "city.yaml"
    with cassette(path, "once"):
        recorded, recorded_result = await collect_nodes(agent, "Capital of France?")
    (run,) = Cassette.load(path).runs
    assert run.result is not None
    assert run.result.data == {"name": "Paris", "country": "France"}
    assert run.result.tool_name == "final_result"
    assert [part.content for part in run.closing_messages[0].parts] == ["Final result processed."]  # type: ignore[union-attr]
    with cassette(path):
        replayed, replayed_result = await collect_nodes(agent, "Capital of France?")
    assert replayed == recorded
    assert replayed_result.data == City(name="Paris", country="France")
    assert replayed_result.all_messages() == recorded_result.all_messages()


async def test_replay_never_touches_the_real_model_nor_needs_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PretendGPT4o(FunctionModel):
        @property
        def system(self) -> str:
            return "openai"

    agent = Agent("openai:gpt-4o", name="geo")
    path = tmp_path / "gpt4o.yaml"
    answer = FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart("Paris")]), model_name="gpt-4o")
    with agent.override(model=PretendGPT4o(answer.function, model_name="gpt-4o")), cassette(path, "once"):
        await agent.run("Capital of France?")
    assert Cassette.load(path).runs[0].model == "openai:gpt-4o"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with override_allow_model_requests(False), cassette(path):
        async with agent.iter("Capital of France?") as agent_run:
            assert type(agent_run.ctx.deps.model) is ReplayModel
            assert (agent_run.ctx.deps.model.system, agent_run.ctx.deps.model.model_name) == ("openai", "gpt-4o")
            async for _ in agent_run:
                pass
    assert agent_run.result is not None
    assert agent_run.result.data == "Paris"


async def test_repeated_identical_requests_in_one_run_replay_in_order(tmp_path: Path) -> None:
    answers = iter(
        [
            ModelResponse(parts=[ToolCallPart("ping", "{}", "call_1")]),
            ModelResponse(parts=[ToolCallPart("ping", "{}", "call_1")]),
            ModelResponse(parts=[TextPart("pinged twice")]),
        ]
    )
    agent = Agent(FunctionModel(lambda messages, info: next(answers), model_name="pinger"), name="pinger")

    @agent.tool_plain
    def ping() -> str:
        return "pong"

    path = tmp_path / "ping.yaml"
    with cassette(path, "once"):
        recorded, _ = await collect_nodes(agent, "ping twice")
    (run,) = Cassette.load(path).runs
    assert [message.parts[0].content for message in (*run.requests[1].messages, *run.requests[2].messages)] == [  # type: ignore[union-attr]
        "pong",
        "pong",
    ]
    with cassette(path):
        replayed, result = await collect_nodes(agent, "ping twice")
    assert replayed == recorded
    assert result.data == "pinged twice"


async def test_runs_with_the_same_identity_replay_in_recording_order(tmp_path: Path) -> None:
    answers = iter(["first", "second"])
    agent = Agent(
        FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart(next(answers))]), model_name="counter"),
        name="counter",
    )
    path = tmp_path / "same.yaml"
    with cassette(path, "once"):
        await agent.run("same question")
        await agent.run("same question")
    with cassette(path):
        assert [(await agent.run("same question")).data for _ in range(2)] == ["first", "second"]


async def test_a_conversation_continued_with_message_history_replays(tmp_path: Path) -> None:
    agent = Agent(TestModel(), name="chat")
    path = tmp_path / "chat.yaml"
    with cassette(path, "once"):
        first = await agent.run("Hello")
        recorded = await agent.run("And then?", message_history=first.all_messages())
    (_, second) = Cassette.load(path).runs
    assert second.message_history is not None
    assert len(second.message_history) == 2
    with cassette(path):
        first = await agent.run("Hello")
        replayed = await agent.run("And then?", message_history=first.all_messages())
    assert replayed.all_messages() == recorded.all_messages()


async def test_a_run_that_failed_is_recorded_with_its_error_and_fails_the_same_on_replay(tmp_path: Path) -> None:
    agent = Agent(
        FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart("")]), model_name="mute"), name="mute"
    )
    path = tmp_path / "failed.yaml"
    with pytest.raises(UnexpectedModelBehavior) as recorded, cassette(path, "once"):
        await agent.run("Say something")
    (run,) = Cassette.load(path).runs
    assert run.error is not None
    assert run.error.type == "UnexpectedModelBehavior"
    assert run.result is None
    with pytest.raises(UnexpectedModelBehavior) as replayed, cassette(path):
        await agent.run("Say something")
    assert str(replayed.value) == str(recorded.value)


async def test_recording_model_and_replay_model_work_on_their_own(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    game = dice_game()
    path = tmp_path / "explicit.yaml"
    recording = Cassette(path)
    model = RecordingModel(TestModel(), recording)
    recorded = await game.agent.run("My guess is 4", deps="Anne", model=model)
    recording.save()
    (run,) = Cassette.load(path).runs
    assert (run.agent, run.model, run.user_prompt, len(run.requests)) == (None, "test:test", "My guess is 4", 2)
    replay = ReplayModel(Cassette.load(path))
    assert (replay.system, replay.model_name) == ("test", "test")
    replayed = await game.agent.run("My guess is 4", deps="Anne", model=replay)
    assert replayed.all_messages() == recorded.all_messages()
    with pytest.raises(UnrecordedRequest, match="no recorded run left for a conversation with user prompt 'Again'"):
        await game.agent.run("Again", deps="Anne", model=replay)


async def test_replay_model_on_its_own_checks_each_request(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    game = dice_game()
    path = tmp_path / "explicit.yaml"
    recording = Cassette(path)
    await game.agent.run("My guess is 4", deps="Anne", model=RecordingModel(TestModel(), recording))
    recording.save()
    game.roll = "6"
    with pytest.raises(CassetteDivergence, match="the tool return of 'roll_die' differs") as raised:
        await game.agent.run("My guess is 4", deps="Anne", model=ReplayModel(Cassette.load(path)))
    assert raised.value.node_index == 2
