"""`result_type`: text, structured types through `final_result`, validators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
from typing_extensions import TypedDict

from agentkit import (
    Agent,
    FinalResult,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelRetry,
    RetryPromptPart,
    RunContext,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UnexpectedModelBehavior,
)
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


class City(pydantic.BaseModel):
    name: str
    population: int


@dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


@pytest.mark.parametrize(
    ("result_type", "expected_type"),
    [(City, City), (Point, Point), (Movie, dict), (int, int), (list[str], list), (bool, bool)],
)
async def test_structured_result_types_validate_through_final_result(result_type: Any, expected_type: type) -> None:
    agent = Agent(TestModel(), result_type=result_type)
    async with agent.iter("go") as agent_run:
        nodes = [node async for node in agent_run]
    end = nodes[-1]
    assert isinstance(end.data, FinalResult)  # type: ignore[union-attr]
    assert end.data.tool_name == "final_result"  # type: ignore[union-attr]
    assert isinstance(end.data.data, expected_type)  # type: ignore[union-attr]
    pydantic.TypeAdapter(result_type).validate_python(end.data.data)  # type: ignore[union-attr]
    last = agent_run.all_messages()[-1]
    assert isinstance(last, ModelRequest)
    assert isinstance(last.parts[0], ToolReturnPart)
    assert last.parts[0].content == "Final result processed."


def test_scalar_results_are_wrapped_in_a_response_key() -> None:
    agent = Agent(TestModel(), result_type=int)
    model = TestModel()
    agent.run_sync("go", model=model)
    assert model.last_model_request_parameters is not None
    (tool,) = model.last_model_request_parameters.result_tools
    # as in the reference release: the wrapper's own title is dropped, the property keeps its title
    assert tool.parameters_json_schema["properties"] == {"response": {"title": "Response", "type": "integer"}}
    assert "title" not in tool.parameters_json_schema
    assert tool.outer_typed_dict_key == "response"
    assert model.last_model_request_parameters.allow_text_result is False


async def test_union_with_str_allows_text_or_tool() -> None:
    agent = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[TextPart("plain")])), result_type=str | City)
    result = await agent.run("go")
    assert result.data == "plain"
    custom = await agent.run("go", model=TestModel(custom_result_args={"name": "Oslo", "population": 700000}))
    assert custom.data == City(name="Oslo", population=700000)


async def test_union_of_models() -> None:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        assert [tool.name for tool in info.result_tools] == ["final_result_City", "final_result_Point"]
        return ModelResponse(parts=[ToolCallPart("final_result_Point", {"x": 1, "y": 2})])

    agent = Agent(FunctionModel(answer), result_type=City | Point)
    result = await agent.run("go")
    assert result.data == Point(1, 2)


async def test_invalid_result_is_retried_with_validation_errors() -> None:
    responses = [
        ModelResponse(parts=[ToolCallPart("final_result", {"name": "Oslo", "population": "many"}, "r1")]),
        ModelResponse(parts=[ToolCallPart("final_result", {"name": "Oslo", "population": 700000}, "r2")]),
    ]
    agent = Agent(FunctionModel(lambda m, i: responses.pop(0)), result_type=City)
    result = await agent.run("go")
    assert result.data.population == 700000
    retry = result.all_messages()[2].parts[0]  # type: ignore[union-attr]
    assert isinstance(retry, RetryPromptPart)
    assert retry.tool_call_id == "r1"
    assert retry.content[0]["loc"] == ("population",)  # type: ignore[index]


async def test_text_when_structured_result_required_is_retried() -> None:
    responses = [
        ModelResponse(parts=[TextPart("I think it's Oslo")]),
        ModelResponse(parts=[ToolCallPart("final_result", {"name": "Oslo", "population": 1})]),
    ]
    agent = Agent(FunctionModel(lambda m, i: responses.pop(0)), result_type=City)
    result = await agent.run("go")
    retry = result.all_messages()[2].parts[0]  # type: ignore[union-attr]
    assert retry.content == "Plain text responses are not permitted, please call one of the functions instead."  # type: ignore[union-attr]


@pytest.mark.parametrize("parts", [[], [TextPart("")]], ids=["no parts", "empty text"])
async def test_empty_response_is_unexpected_model_behavior_without_a_retry(parts: list[Any]) -> None:
    # The reference release fails at once on an empty response (earlier agentkit retried).
    responses = [ModelResponse(parts=parts), ModelResponse(parts=[TextPart("ok")])]
    agent = Agent(FunctionModel(lambda m, i: responses.pop(0)), retries=2)
    with pytest.raises(UnexpectedModelBehavior, match=r"^Received empty model response$"):
        await agent.run("go")
    assert len(responses) == 1


async def test_result_retries_exhausted_is_unexpected_model_behavior() -> None:
    agent = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[TextPart("no")])), result_type=City, retries=1)
    with pytest.raises(UnexpectedModelBehavior, match=r"^Exceeded maximum retries \(1\) for result validation$"):
        await agent.run("go")


async def test_result_validator_can_change_and_retry() -> None:
    answers = ["lowercase", "UPPER"]
    agent = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[TextPart(answers.pop(0))])), deps_type=str)

    @agent.result_validator
    async def must_be_upper(ctx: RunContext[str], data: str) -> str:
        if not data.isupper():
            raise ModelRetry(f"{ctx.deps}: answer in capitals")
        return data + "!"

    result = await agent.run("go", deps="style")
    assert result.data == "UPPER!"
    retry = result.all_messages()[2].parts[0]  # type: ignore[union-attr]
    assert retry.content == "style: answer in capitals"  # type: ignore[union-attr]


async def test_sync_result_validator_without_context() -> None:
    agent = Agent(TestModel(custom_result_text="x"))

    @agent.result_validator
    def shout(data: str) -> str:
        return data.upper()

    assert (await agent.run("go")).data == "X"


async def test_final_result_short_circuits_other_tool_calls() -> None:
    called: list[int] = []

    def side_effect(x: int) -> int:
        called.append(x)
        return x

    def model_function(messages: list[Any], info: AgentInfo) -> ModelResponse:
        return ModelResponse(
            parts=[ToolCallPart("final_result", {"response": 5}, "f"), ToolCallPart("side_effect", {"x": 1}, "s")]
        )

    agent = Agent(FunctionModel(model_function), result_type=int, tools=[side_effect])
    result = await agent.run("go")
    assert result.data == 5
    assert called == []
    final_request = result.all_messages()[-1]
    assert [p.content for p in final_request.parts] == [  # type: ignore[union-attr]
        "Final result processed.",
        "Tool not executed - a final result was already processed.",
    ]
