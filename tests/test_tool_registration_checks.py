"""Registration refuses tools a provider would reject, naming the tool; an unserializable return names it too."""

from __future__ import annotations

import dataclasses

import pytest

from agentkit import Agent, Tool, ToolReturnPart, UserError
from agentkit.models import TestModel


class Opaque:
    pass


@dataclasses.dataclass
class HoldsOpaque:
    thing: Opaque


def test_a_lambda_without_a_name_is_refused_with_the_rule() -> None:
    with pytest.raises(UserError, match=r"Tool '<lambda>': a lambda has no name .*name='\.\.\.'.*\^\[a-zA-Z0-9_-\]"):
        Tool(lambda city: city)


def test_a_lambda_given_a_valid_name_is_accepted() -> None:
    assert Tool(lambda city: city, name="echo").name == "echo"


def test_a_name_with_a_space_is_refused_at_registration() -> None:
    agent = Agent(TestModel())
    with pytest.raises(UserError, match=r"Tool name 'look up' is refused by model providers: it contains ' '"):

        @agent.tool_plain(name="look up")
        def lookup(city: str) -> str:
            return city


def test_a_name_over_64_characters_is_refused() -> None:
    def lookup(city: str) -> str:
        return city

    with pytest.raises(UserError, match=r"it has 65 characters, over 64\. Tool names must match"):
        Tool(lookup, name="a" * 65)
    assert Tool(lookup, name="a" * 64).name == "a" * 64


def test_a_dotted_function_name_given_as_tool_name_lists_the_refused_characters() -> None:
    def lookup(city: str) -> str:
        return city

    with pytest.raises(UserError, match=r"'weather\.lookup' .* it contains '\.'"):
        Tool(lookup, name="weather.lookup")


def test_an_undescribable_parameter_type_names_tool_and_parameter_without_pydantic_advice() -> None:
    def locate(city: str, where: Opaque) -> str:
        return city

    with pytest.raises(UserError) as raised:
        Tool(locate, name="find_place")
    message = str(raised.value)
    assert message.startswith("Error generating schema for tool 'find_place' (")
    assert "parameter 'where' has a type that cannot be turned into a JSON schema: Opaque." in message
    assert "arbitrary_types_allowed" not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_an_undescribable_field_of_a_single_model_parameter_names_the_parameter() -> None:
    def keep(holder: HoldsOpaque) -> str:
        return "kept"

    with pytest.raises(UserError, match=r"parameter 'holder' has a type that cannot be turned into a JSON") as raised:
        Tool(keep)
    assert "arbitrary_types_allowed" not in str(raised.value)


def test_a_return_that_cannot_be_serialized_names_the_tool_and_the_type() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def open_socket() -> Opaque:
        return Opaque()

    with pytest.raises(UserError, match=r"Tool 'open_socket' .* returned a .*Opaque, which cannot be serialized"):
        agent.run_sync("connect")


def test_returns_the_model_can_be_sent_pass_the_check() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def holder() -> dict[str, list[int]]:
        return {"values": [1, 2]}

    assert agent.run_sync("values").data == '{"holder":{"values":[1,2]}}'


def test_a_container_holding_an_unserializable_value_names_the_tool_when_sent() -> None:
    agent = Agent(TestModel())

    @agent.tool_plain
    def sockets() -> dict[str, Opaque]:
        return {"main": Opaque()}

    with pytest.raises(UserError, match=r"Tool 'sockets' .* returned a builtins\.dict, which cannot be serialized"):
        agent.run_sync("connect")


def test_the_json_object_form_of_an_unserializable_return_names_the_tool() -> None:
    part = ToolReturnPart("sockets", [Opaque()], "call-1")
    with pytest.raises(UserError, match=r"Tool 'sockets' \(tool_call_id='call-1'\) returned a builtins\.list"):
        part.model_response_object()


def _loop() -> dict[str, object]:
    loop: dict[str, object] = {}
    loop["self"] = loop
    return loop


def test_a_return_that_holds_itself_names_the_tool_on_test_model() -> None:
    # The circular reference is a ValueError from pydantic, not its serialization error: it escaped
    # TestModel bare ("Circular reference detected (id repeated)") with no tool named.
    agent = Agent(TestModel())

    @agent.tool_plain
    def tree() -> dict[str, object]:
        return _loop()

    with pytest.raises(UserError, match=r"Tool 'tree' .* returned a builtins\.dict, which cannot be serialized"):
        agent.run_sync("walk")


def test_the_json_object_form_of_a_return_that_holds_itself_names_the_tool() -> None:
    part = ToolReturnPart("tree", _loop(), "call-1")
    with pytest.raises(UserError, match=r"Tool 'tree' \(tool_call_id='call-1'\) returned a builtins\.dict.*Circular"):
        part.model_response_object()
