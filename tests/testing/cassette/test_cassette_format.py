"""The cassette format: what the file says, that it reads like a document, and that it round-trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentkit import ModelMessage, ModelResponse, TextPart, ToolCallPart
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import CASSETTE_VERSION

DiceGame = Any  # tests/testing/conftest.py: an agent with two tools, and its tools' call counts

pytestmark = pytest.mark.anyio


async def record_dice(game: DiceGame, path: Path, **options: object) -> None:
    with cassette(path, "rewrite", **options):  # type: ignore[arg-type]
        await game.agent.run("My guess is 4", deps="Anne")


async def test_file_names_format_and_version_and_ends_with_marker(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path)
    document = yaml.safe_load(path.read_text())
    assert document["format"] == "agentkit-cassette"
    assert document["version"] == CASSETTE_VERSION == 1
    assert list(document)[-1] == "end_of_cassette"
    assert path.read_text().endswith("end_of_cassette: true\n")


async def test_run_keeps_identity_model_requests_tool_calls_and_nodes(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path, label="tests::dice")
    (run,) = Cassette.load(path).runs
    assert (run.id, run.agent, run.model, run.user_prompt, run.label) == (
        "run-1",
        "dice_game",
        "test:test",
        "My guess is 4",
        "tests::dice",
    )
    assert run.nodes == ("ModelRequestNode", "CallToolsNode", "ModelRequestNode", "CallToolsNode", "End")
    assert [request.node for request in run.requests] == [0, 2]
    assert [tool.name for tool in run.requests[0].function_tools] == ["roll_die", "get_player_name"]
    assert run.requests[0].response.model_name == "test"
    assert run.requests[0].usage.total_tokens is not None
    assert [(call.node, call.tool_name, call.result.content) for call in run.tool_calls] == [
        (1, "roll_die", "4"),
        (1, "get_player_name", "Anne"),
    ]
    assert run.result is not None
    assert run.result.data == '{"roll_die":"4","get_player_name":"Anne"}'


async def test_yaml_is_readable_structured_fields_literal_blocks_and_one_catalog(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path)
    text = path.read_text()
    assert "content: |-\n        You're a dice game.\n        Use the player's name in the response.\n" in text
    assert "args: {}" in text  # TestModel's arguments are a dict, written as one
    assert '{"' not in text.replace('data: \'{"roll_die"', "").replace('content: \'{"roll_die"', "")
    assert text.count("description: Roll a six-sided die and return the result.") == 1
    assert "tools: [roll_die, get_player_name]" in text
    assert "nodes: [ModelRequestNode, CallToolsNode, ModelRequestNode, CallToolsNode, End]" in text
    assert text.startswith("# agentkit cassette")


async def test_saving_a_loaded_cassette_gives_the_same_bytes(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path)
    Cassette.load(path).save(tmp_path / "copy.yaml")
    assert (tmp_path / "copy.yaml").read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        '{"city":"Paris","days":2}',
        '{"city": "Paris", "days": 2}',
        '{"city":"Z\\u00fcrich"}',
        '{"city":"Zürich"}',
        "not json at all",
        '["a list"]',
        "",
    ],
)
async def test_tool_call_arguments_come_back_as_the_exact_text(args: str, tmp_path: Path) -> None:
    def call_then_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("weather", args, "call_1")])
        return ModelResponse(parts=[TextPart("done")])

    from agentkit import Agent

    agent = Agent(FunctionModel(call_then_answer), name="weather_agent", retries=3)

    @agent.tool_plain
    def weather(city: str = "Paris", days: int = 1) -> str:
        return f"sunny in {city}"

    path = tmp_path / "args.yaml"
    with cassette(path, "rewrite"):
        await agent.run("weather?")
    (run,) = Cassette.load(path).runs
    call = run.requests[0].response.parts[0]
    assert isinstance(call, ToolCallPart)
    assert call.args == args
    if args.startswith("{"):
        assert "args_json:" in path.read_text()


async def test_json_option_writes_json_and_reads_it_back(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    path = tmp_path / "dice.json"
    await record_dice(dice_game(), path)
    document = json.loads(path.read_text())
    assert document["format"] == "agentkit-cassette"
    assert document["comment"].startswith("agentkit cassette")
    assert document["runs"][0]["requests"][0]["request"][1] == {
        "part_kind": "user-prompt",
        "content": "My guess is 4",
        "timestamp": document["runs"][0]["requests"][0]["request"][1]["timestamp"],
    }
    (run,) = Cassette.load(path).runs
    assert run.user_prompt == "My guess is 4"


async def test_header_comment_survives_load_and_save(dice_game: Callable[..., DiceGame], tmp_path: Path) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path)
    loaded = Cassette.load(path)
    loaded.comment = "Recorded by hand for issue 5.\nSecond line."
    loaded.save()
    assert path.read_text().startswith("# Recorded by hand for issue 5.\n# Second line.\nformat: agentkit-cassette\n")
    assert Cassette.load(path).comment == "Recorded by hand for issue 5.\nSecond line."


async def test_tool_calls_readable_from_requests_are_written_once(
    dice_game: Callable[..., DiceGame], tmp_path: Path
) -> None:
    path = tmp_path / "dice.yaml"
    await record_dice(dice_game(), path)
    assert "tool_calls:" not in path.read_text()
    await record_dice(dice_game(), path, external_tools=["roll_die"])
    document = yaml.safe_load(path.read_text())
    (explicit,) = document["runs"][0]["tool_calls"]
    assert explicit["tool_name"] == "roll_die"
    assert explicit["external"] is True
    assert explicit["result"]["content"] == "4"
    calls = Cassette.load(path).runs[0].tool_calls
    assert [(call.tool_name, call.external) for call in calls] == [("roll_die", True), ("get_player_name", False)]


async def test_one_tool_with_two_definitions_gets_two_catalog_entries(tmp_path: Path) -> None:
    from agentkit import Agent, RunContext, ToolDefinition
    from agentkit.models import TestModel

    agent = Agent(TestModel(), name="prepared")

    async def describe_by_step(ctx: RunContext[None], definition: ToolDefinition) -> ToolDefinition:
        definition.description = f"Step {ctx.run_step}."
        return definition

    @agent.tool_plain(prepare=describe_by_step)
    def lookup() -> str:
        return "found"

    path = tmp_path / "prepared.yaml"
    with cassette(path, "rewrite"):
        await agent.run("go")
    text = path.read_text()
    assert "lookup:\n    description: Step 1." in text
    assert "lookup~2:\n    name: lookup\n    description: Step 2." in text
    (run,) = Cassette.load(path).runs
    assert [request.function_tools[0].description for request in run.requests] == ["Step 1.", "Step 2."]
