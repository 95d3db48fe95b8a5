"""When the code under test changes, replay says where (run, node) and how (field, diff) it diverged."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, AgentkitError, ModelRetry, RunContext, ToolDefinition
from agentkit.models import TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._exceptions import CassetteDivergence, CassetteError
from agentkit_testing._matching import Matching, normalize_datetimes, normalize_uuids, replace_pattern

pytestmark = pytest.mark.anyio
DiceGame = Any  # tests/testing/conftest.py


@pytest.fixture
async def recorded(dice_game: Callable[..., DiceGame], tmp_path: Path) -> Path:
    """A cassette of the dice game, guessed 4 by Anne."""
    path = tmp_path / "dice.yaml"
    with cassette(path, "once"):
        await dice_game().agent.run("My guess is 4", deps="Anne")
    return path


async def diverge(
    path: Path, agent: Agent[Any, Any], prompt: str = "My guess is 4", **options: Any
) -> CassetteDivergence:
    with pytest.raises(CassetteDivergence) as raised, cassette(path, **options):
        await agent.run(prompt, deps="Anne")
    return raised.value


async def test_divergence_is_a_cassette_error_and_an_agentkit_error(
    recorded: Path, dice_game: Callable[..., DiceGame]
) -> None:
    error = await diverge(recorded, dice_game().agent, "My guess is 5")
    assert isinstance(error, CassetteError)
    assert isinstance(error, AgentkitError)
    assert error.path == recorded


async def test_changed_user_prompt(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    error = await diverge(recorded, dice_game().agent, "My guess is 5")
    assert (error.run_id, error.node_index, error.field) == ("run-1", 0, "user_prompt")
    assert (error.expected, error.actual) == ("My guess is 4\n", "My guess is 5\n")
    assert error.diff == "--- recorded\n+++ live\n@@ -1 +1 @@\n-My guess is 4\n+My guess is 5\n"
    assert str(error).startswith(
        f"Replay of {recorded} diverged in run 'run-1' (agent 'dice_game', model test:test, "
        "prompt 'My guess is 4') at node 0 (start of the run): the user prompt differs from the recording."
    )


async def test_divergence_in_a_cassette_block_says_how_to_record_again_with_the_keyword(
    recorded: Path, dice_game: Callable[..., DiceGame]
) -> None:
    game = dice_game(system_prompt="You're a dice game.")
    message = str(await diverge(recorded, game.agent))
    assert message.endswith(
        "If the change is intended, record the cassette again (pass record_mode='rewrite' to cassette()), "
        "or leave this field out of matching with Matching(ignore={'system_prompt'})."
    )
    assert "--agentkit-record-mode" not in message


async def test_changed_system_prompt(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game(system_prompt="You're a dice game.\nUse the player's nickname in the response.")
    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (0, "system_prompt")
    assert "at node 0 (ModelRequestNode, request 1 of 2): the system prompt differs" in str(error)
    assert "-  Use the player's name in the response.\n" in error.diff
    assert "+  Use the player's nickname in the response.\n" in error.diff


async def test_added_tool_changes_the_tool_set(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game()

    @game.agent.tool_plain
    def cheat() -> str:
        """Always win."""
        return "6"

    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (0, "function_tools")
    assert "the tool set differs from the recording" in str(error)
    assert error.diff.endswith(" - roll_die\n - get_player_name\n+- cheat\n")


async def test_changed_tool_schema_names_the_tool(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game(sided=True)
    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (0, "function_tools")
    assert "the definition of tool 'roll_die' changed since the recording." in str(error)
    assert "-description: Roll a six-sided die and return the result.\n" in error.diff
    assert "+  properties:\n+    sides:\n" in error.diff or "+    sides:\n" in error.diff


async def test_a_changed_tool_definition_shows_no_unset_fields(
    recorded: Path, dice_game: Callable[..., DiceGame]
) -> None:
    error = await diverge(recorded, dice_game(sided=True).agent)
    assert "name: roll_die\n" in error.expected
    assert "null" not in error.expected
    assert "null" not in error.actual
    assert "outer_typed_dict_key" not in str(error)


async def test_changed_settings(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game()
    game.agent.model_settings = {"temperature": 0.2}
    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (0, "settings")
    assert "the model settings differ from the recording" in str(error)
    assert error.diff.endswith("-null\n+temperature: 0.2\n")


async def test_settings_can_be_left_out_of_matching(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game()
    game.agent.model_settings = {"temperature": 0.2}
    with cassette(recorded, matching=Matching(ignore={"settings"})):
        await game.agent.run("My guess is 4", deps="Anne")


async def test_divergence_at_a_later_request_names_its_node(tmp_path: Path) -> None:
    def make(late_description: str) -> Agent[None, str]:
        agent = Agent(TestModel(), name="steps")

        async def describe(ctx: RunContext[None], definition: ToolDefinition) -> ToolDefinition:
            definition.description = "Look it up." if ctx.run_step == 1 else late_description
            return definition

        @agent.tool_plain(prepare=describe)
        def lookup() -> str:
            return "found"

        return agent

    path = tmp_path / "steps.yaml"
    with cassette(path, "once"):
        await make("Look it up again.").run("go")
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await make("Look it up once more.").run("go")
    assert (raised.value.node_index, raised.value.field) == (2, "function_tools")
    assert "at node 2 (ModelRequestNode, request 2 of 2)" in str(raised.value)
    assert "-description: Look it up again.\n+description: Look it up once more.\n" in raised.value.diff
    with cassette(path, matching=Matching(ignore={"description"})):
        await make("Look it up once more.").run("go")


async def test_changed_model(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    error = await diverge(recorded, dice_game("openai:gpt-4o").agent)
    assert (error.node_index, error.field) == (0, "model")
    assert error.diff.endswith("-test:test\n+openai:gpt-4o\n")


async def test_changed_message_history(tmp_path: Path) -> None:
    agent = Agent(TestModel(), name="chat")
    path = tmp_path / "chat.yaml"
    with cassette(path, "once"):
        first = await agent.run("Hello")
        await agent.run("More", message_history=first.all_messages())
    other = await agent.run("Hi there")
    with cassette(path, matching=Matching(allow_unplayed_runs=True)) as session:
        await agent.run("Hello")
        with pytest.raises(CassetteDivergence) as raised:
            await agent.run("More", message_history=other.all_messages())
    assert raised.value.field == "message_history"
    assert "-    content: Hello\n+    content: Hi there\n" in raised.value.diff
    assert [run.id for run in session.replayed_runs] == ["run-1"]


async def test_changed_result_validation_changes_the_node_sequence(
    recorded: Path, dice_game: Callable[..., DiceGame]
) -> None:
    game = dice_game()

    @game.agent.result_validator
    def reject(data: str) -> str:
        raise ModelRetry("Answer in French")

    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (4, "nodes")
    assert "at node 4 (ModelRequestNode)" in str(error)
    assert error.diff.endswith("-- End\n+- ModelRequestNode\n")


async def test_changed_final_result(recorded: Path, dice_game: Callable[..., DiceGame]) -> None:
    game = dice_game()

    @game.agent.result_validator
    def shout(data: str) -> str:
        return data.upper()

    error = await diverge(recorded, game.agent)
    assert (error.node_index, error.field) == (4, "result")
    assert "at node 4 (End): the final result differs" in str(error)


async def test_normalizers_keep_volatile_values_from_breaking_matching(tmp_path: Path) -> None:
    def make() -> Agent[None, str]:
        agent = Agent(TestModel(), name="orders")

        @agent.tool_plain
        def place_order() -> str:
            """Place an order."""
            return f"order {uuid.uuid4()} placed at {datetime.now().isoformat()}"

        return agent

    path = tmp_path / "orders.yaml"
    with cassette(path, "once"):
        await make().run(f"Order for session {uuid.uuid4().hex}")
    with pytest.raises(CassetteDivergence) as raised, cassette(path):
        await make().run(f"Order for session {uuid.uuid4().hex}")
    assert raised.value.field == "user_prompt"
    volatile = Matching(normalizers=[normalize_uuids, normalize_datetimes])
    with cassette(path, matching=volatile):
        await make().run(f"Order for session {uuid.uuid4().hex}")
    session_ids = replace_pattern(r"session [0-9a-f]{32}", "session <id>")
    with pytest.raises(CassetteDivergence) as raised, cassette(path, matching=Matching(normalizers=[session_ids])):
        await make().run(f"Order for session {uuid.uuid4().hex}")
    assert raised.value.field == "tool_return"


def test_builtin_normalizers() -> None:
    assert normalize_uuids("id 123e4567-e89b-12d3-a456-426614174000 and 123e4567e89b12d3a456426614174000") == (
        "id <uuid> and <uuid>"
    )
    assert normalize_datetimes("at 2025-03-15T12:00:00.250000+00:00 or 2025-03-15") == "at <datetime> or <datetime>"
