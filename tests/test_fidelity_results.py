"""Fidelity with pydantic-ai 0.0.39: result tools (unions, schemas, names, descriptions) and result messages."""

from __future__ import annotations

from typing import Any, Union

import pydantic
import pytest

from agentkit import Agent, ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart, UserError
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


class Foo(pydantic.BaseModel):
    """A foo with a number."""

    a: int


class Bar(pydantic.BaseModel):
    b: str


def result_tools_of(agent: Agent[Any, Any], **run: Any) -> tuple[list[Any], bool]:
    seen: list[AgentInfo] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        return ModelResponse(parts=[ToolCallPart(info.result_tools[0].name, {"a": 1})])

    agent.run_sync("go", model=FunctionModel(answer), **run)
    return seen[0].result_tools, seen[0].allow_text_result


def test_a_union_gets_one_result_tool_per_member_described_by_docstring_or_name() -> None:
    tools, allow_text = result_tools_of(Agent(result_type=Union[Foo, Bar]))  # noqa: UP007
    assert [(tool.name, tool.description) for tool in tools] == [
        ("final_result_Foo", "A foo with a number."),
        ("final_result_Bar", "Bar: The final response which ends this conversation"),
    ]
    assert allow_text is False


def test_str_in_a_union_allows_text_beside_the_result_tools() -> None:
    tools, allow_text = result_tools_of(Agent(result_type=Foo | Bar | str))
    assert [tool.name for tool in tools] == ["final_result_Foo", "final_result_Bar"]
    assert allow_text is True


async def test_a_union_result_is_validated_by_the_tool_called() -> None:
    responses = iter([ModelResponse(parts=[ToolCallPart("final_result_Bar", {"b": "x"})])])
    agent: Agent[None, Foo | Bar] = Agent(FunctionModel(lambda m, i: next(responses)), result_type=Foo | Bar)
    assert (await agent.run("go")).data == Bar(b="x")


def test_an_object_result_tool_keeps_its_title_and_property_titles() -> None:
    (tool,), _ = result_tools_of(Agent(result_type=Foo))
    assert tool.parameters_json_schema == {
        "properties": {"a": {"title": "A", "type": "integer"}},
        "required": ["a"],
        "title": "Foo",
        "type": "object",
    }
    assert tool.outer_typed_dict_key is None


def test_result_tool_name_and_description_options() -> None:
    agent = Agent(result_type=Foo, result_tool_name="answer", result_tool_description="Give the answer")
    (tool,), _ = result_tools_of(agent)
    assert (tool.name, tool.description) == ("answer", "Give the answer. A foo with a number.")


def test_a_run_result_type_with_result_validators_is_a_user_error() -> None:
    agent = Agent(TestModel())

    @agent.result_validator
    def check(data: str) -> str:
        return data

    with pytest.raises(
        UserError, match=r"^Cannot set a custom run `result_type` when the agent has result validators$"
    ):
        agent.run_sync("go", result_type=int)


def test_all_messages_can_replace_the_result_tool_return_content() -> None:
    result = Agent(TestModel(), result_type=Foo).run_sync("go")
    changed = result.all_messages(result_tool_return_content="thanks")
    last = changed[-1].parts[0]
    assert isinstance(last, ToolReturnPart)
    assert last.content == "thanks"
    assert result.all_messages()[-1].parts[0].content == "Final result processed."  # type: ignore[union-attr]
    assert result.new_messages(result_tool_return_content="thanks")[-1] == changed[-1]
    assert b'"thanks"' in result.all_messages_json(result_tool_return_content="thanks")
    assert b'"thanks"' in result.new_messages_json(result_tool_return_content="thanks")


def test_result_tool_return_content_needs_a_result_tool() -> None:
    result = Agent(FunctionModel(lambda m, i: ModelResponse(parts=[TextPart("hi")]))).run_sync("go")
    with pytest.raises(ValueError, match=r"^Cannot set result tool return content when the return type is `str`\.$"):
        result.all_messages(result_tool_return_content="x")
