"""TestModel and FunctionModel as the reference release has them: generated values, ids, final
text, word-by-word streaming, retries, option errors, model names, empty streams."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pydantic
import pytest

from agentkit import (
    Agent,
    ModelResponse,
    ModelRetry,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    UnexpectedModelBehavior,
    UserError,
)
from agentkit.messages import PartDeltaEvent, PartStartEvent, TextPartDelta
from agentkit.models import AgentInfo, FunctionModel, ModelRequestParameters, TestModel
from agentkit.models._schema_values import SchemaValueGenerator

pytestmark = pytest.mark.anyio

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "integer", "minimum": 5, "maximum": 9},
    {"type": "integer", "exclusiveMinimum": 5},
    {"type": "string", "minLength": 3},
    {"type": "string", "format": "date"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True},
    {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": True,
    },
    {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    {"enum": ["x", "y", "z"]},
    {"type": "string", "examples": ["e1", "e2"]},
]


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        (0, ["a", 0, 0.0, False, 5, 6, "aaa", "2024-01-01", ["a"], [0, 1, 2], {"a": "a", "additionalProperty": "a"}]),
        (1, ["b", 1, 1.0, True, 6, 7, "bbb", "2024-01-02", ["b"], [1, 2, 3], {"a": "b", "additionalProperty": "b"}]),
        (95, ["ab", 95, 95.0, True, 8, 101, "ababab", "2024-04-05", ["ab"], [95, 96, 97]]),
        (200, ["bm", 200, 200.0, False, 5, 206, "bmbmbm", "2024-07-19", ["bm"], [200, 201, 202]]),
    ],
)
def test_generated_values_are_the_reference_releases(seed: int, expected: list[Any]) -> None:
    values = [SchemaValueGenerator(schema, seed).generate() for schema in SCHEMAS]
    assert values[: len(expected)] == expected


def test_anyof_enum_and_examples_follow_the_seed() -> None:
    assert [SchemaValueGenerator(schema, 1).generate() for schema in SCHEMAS[-3:]] == [None, "y", "e2"]


async def test_tool_arguments_are_a_dict_and_ids_are_none() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def weather(city: str, days: int) -> str:
        return f"{city}/{days}"

    result = await agent.run("go")
    call = result.all_messages()[1].parts[0]
    assert call == ToolCallPart("weather", {"city": "a", "days": 0}, tool_call_id=None)
    assert result.all_messages()[2].parts[0].tool_call_id is None  # type: ignore[union-attr]


class Item(pydantic.BaseModel):
    name: str


@dataclasses.dataclass
class Box:
    size: int


async def test_final_text_is_the_json_of_the_raw_tool_returns() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def item() -> Item:
        return Item(name="pen")

    @agent.tool_plain
    def box() -> Box:
        return Box(size=3)

    @agent.tool_plain
    def blob() -> bytes:
        return b"raw"

    assert (await agent.run("go")).data == '{"item":{"name":"pen"},"box":{"size":3},"blob":"raw"}'


async def test_streamed_text_comes_word_by_word() -> None:
    agent = Agent(TestModel(custom_result_text="one two three"))
    async with agent.run_stream("go") as result:
        assert await result.get_data() == "one two three"
    model = TestModel(custom_result_text="one two three")
    async with model.request_stream([], None, _text_only()) as stream:
        events = [event async for event in stream]
    assert events == [
        PartStartEvent(0, TextPart("")),
        PartDeltaEvent(0, TextPartDelta("one ")),
        PartDeltaEvent(0, TextPartDelta("two ")),
        PartDeltaEvent(0, TextPartDelta("three")),
    ]


async def test_a_single_long_word_streams_in_two_halves() -> None:
    async with TestModel(custom_result_text="abcdef").request_stream([], None, _text_only()) as stream:
        deltas = [event.delta.content_delta async for event in stream if isinstance(event, PartDeltaEvent)]  # type: ignore[union-attr]
    assert deltas == ["abc", "def"]


def _text_only() -> ModelRequestParameters:
    return ModelRequestParameters()


async def test_a_retried_tool_gets_the_same_arguments_again() -> None:
    agent = Agent(TestModel(seed=3), retries=2)
    seen: list[int] = []

    @agent.tool_plain
    def flaky(n: int) -> str:
        seen.append(n)
        if len(seen) < 2:
            raise ModelRetry("again")
        return "ok"

    result = await agent.run("go")
    assert seen == [3, 3]
    assert any(isinstance(p, RetryPromptPart) for m in result.all_messages() for p in m.parts)


async def test_custom_result_text_with_a_structured_result_is_a_clear_error() -> None:
    agent = Agent(TestModel(custom_result_text="hello"), result_type=Item)
    with pytest.raises(UserError, match=r"custom_result_text='hello'.*structured.*use custom_result_args"):
        await agent.run("go")


async def test_call_tools_all_or_a_list() -> None:
    def make(model: TestModel) -> tuple[Agent[None, str], list[str]]:
        agent: Agent[None, str] = Agent(model)
        called: list[str] = []

        @agent.tool_plain
        def first() -> str:
            called.append("first")
            return "1"

        @agent.tool_plain
        def second() -> str:
            called.append("second")
            return "2"

        return agent, called

    agent, called = make(TestModel(call_tools="all"))
    assert (await agent.run("go")).data == '{"first":"1","second":"2"}'
    assert sorted(called) == ["first", "second"]  # sync tools run concurrently in worker threads
    agent, called = make(TestModel(call_tools=["second"]))
    assert (await agent.run("go")).data == '{"second":"2"}'
    assert called == ["second"]


async def test_call_tools_naming_an_unknown_tool_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"call_tools=\['nope'\].*'nope'"):
        await Agent(TestModel(call_tools=["nope"])).run("go")


async def test_function_model_name_joins_both_function_names_on_every_response() -> None:
    def brain(messages: list[Any], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("ok")], model_name="ignored")

    async def stream(messages: list[Any], info: AgentInfo) -> AsyncIterator[str]:
        yield "ok"

    assert FunctionModel(brain).model_name == "function:brain:"
    assert FunctionModel(stream_function=stream).model_name == "function::stream"
    result = await Agent(FunctionModel(brain, stream_function=stream)).run("go")
    assert result.all_messages()[-1].model_name == "function:brain:stream"  # type: ignore[union-attr]


async def test_an_empty_stream_is_a_clear_error() -> None:
    async def nothing(messages: list[Any], info: AgentInfo) -> AsyncIterator[str]:
        return
        yield  # pragma: no cover

    agent = Agent(FunctionModel(stream_function=nothing))
    with pytest.raises(UnexpectedModelBehavior, match="stream function 'nothing' yielded nothing"):
        async with agent.run_stream("go") as result:
            await result.get_data()


def test_agent_info_has_the_reference_fields() -> None:
    assert [f.name for f in dataclasses.fields(AgentInfo)] == [
        "function_tools",
        "allow_text_result",
        "result_tools",
        "model_settings",
    ]
