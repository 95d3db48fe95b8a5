"""TestModel: no network, every tool once with schema-valid arguments, then a result."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

import pydantic
import pytest

from agentkit import Agent, ModelResponse, RetryPromptPart, ToolCallPart, ToolReturnPart
from agentkit.models import TestModel
from agentkit.models._schema_values import SchemaValueGenerator

pytestmark = pytest.mark.anyio


class Address(pydantic.BaseModel):
    street: str
    number: Annotated[int, pydantic.Field(ge=10, le=20)]


def everything(
    name: Annotated[str, pydantic.Field(min_length=3)],
    when: date,
    kind: Literal["a", "b"],
    address: Address,
    tags: list[str],
    ratio: float | None = None,
    flag: bool = False,
) -> str:
    return "ok"


async def test_calls_every_tool_once_with_valid_arguments() -> None:
    agent = Agent(TestModel(), tools=[everything])

    @agent.tool_plain
    def other(x: int) -> int:
        return x

    result = await agent.run("go")
    calls = [
        p for m in result.all_messages() if isinstance(m, ModelResponse) for p in m.parts if isinstance(p, ToolCallPart)
    ]
    assert [c.tool_name for c in calls] == ["everything", "other"]
    returns = [p for m in result.all_messages() for p in m.parts if isinstance(p, ToolReturnPart)]
    assert [r.content for r in returns] == ["ok", 0]
    assert json.loads(result.data) == {"everything": "ok", "other": 0}


async def test_call_tools_restricts_which_tools_are_called() -> None:
    agent = Agent(TestModel(call_tools=["second"]))
    called: list[str] = []

    @agent.tool_plain
    def first() -> str:
        called.append("first")
        return "1"

    @agent.tool_plain
    def second() -> str:
        called.append("second")
        return "2"

    await agent.run("go")
    assert called == ["second"]


async def test_custom_result_text_and_args() -> None:
    assert (await Agent(TestModel(custom_result_text="hi")).run("go")).data == "hi"
    agent = Agent(TestModel(custom_result_args={"street": "Main", "number": 12}), result_type=Address)
    assert (await agent.run("go")).data == Address(street="Main", number=12)


async def test_a_retried_tool_is_called_again() -> None:
    from agentkit import ModelRetry

    attempts: list[str] = []

    def picky(word: str) -> str:
        attempts.append(word)
        if len(attempts) == 1:
            raise ModelRetry("again")
        return word

    result = await Agent(TestModel(), tools=[picky]).run("go")
    assert len(attempts) == 2
    assert any(isinstance(p, RetryPromptPart) for m in result.all_messages() for p in m.parts)


@pytest.mark.parametrize("seed", range(12))
def test_generated_values_validate_against_the_tool(seed: int) -> None:
    from agentkit import Tool

    tool = Tool(everything)
    value = SchemaValueGenerator(tool.definition.parameters_json_schema, seed).generate()
    tool.schema.validate(value)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "enum": ["x", "y"]}, "x"),
        ({"const": 3}, 3),
        ({"type": "integer", "exclusiveMinimum": 5}, 6),
        ({"type": "number", "maximum": -1}, -1.0),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 2}, [False, False]),
        ({"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]}, None),
        ({"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]}, "a@example.com"),
        ({"type": ["integer", "null"], "multipleOf": 5, "minimum": 7}, 10),
        ({"type": "integer", "multipleOf": 4, "maximum": -3}, -4),
    ],
)
def test_schema_value_generator_cases(schema: dict[str, Any], expected: Any) -> None:
    assert SchemaValueGenerator(schema, 0).generate() == expected


def test_schema_value_generator_reports_missing_refs() -> None:
    with pytest.raises(ValueError, match="'#/\\$defs/Nope' not found"):
        SchemaValueGenerator({"$ref": "#/$defs/Nope"}).generate()


@pytest.mark.parametrize("seed", range(4))
async def test_pattern_constrained_parameters_get_matching_values(seed: int) -> None:
    def book(code: Annotated[str, pydantic.Field(pattern=r"^[A-Z]{2}-\d{3,5}(x|y)?$")], day: date) -> str:
        return code

    agent = Agent(TestModel(seed=seed, custom_result_text="ok"), tools=[book])
    result = await agent.run("go")
    returns = [p for m in result.all_messages() for p in m.parts if isinstance(p, ToolReturnPart)]
    assert len(returns) == 1  # validated on the first try: no retry prompt
    assert re.fullmatch(r"[A-Z]{2}-\d{3,5}[xy]?", returns[0].content)


def test_patterns_it_cannot_satisfy_fall_back_to_none() -> None:
    from agentkit.models._pattern_values import example_for_pattern

    assert example_for_pattern(r"^(?=a)b") is None
    assert example_for_pattern(r"[^abc]") is None
    assert example_for_pattern(r"(unclosed") is None
    assert example_for_pattern(r"^\w+@\w+\.com$") == "a@a.com"
