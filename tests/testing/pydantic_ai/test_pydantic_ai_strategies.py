"""`tool_arguments` on pydantic-ai tools: a `Tool`, `(agent, 'name')`, or the function registered on an agent."""

from __future__ import annotations

import datetime

import pydantic
import pytest
from hypothesis import given, settings
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.models.test import TestModel

from agentkit import UserError
from agentkit_testing.strategies import tool_arguments


class Stay(pydantic.BaseModel):
    city: str
    nights: int = pydantic.Field(ge=1, le=14)


hotels = Agent(TestModel(), name="hotels")


@hotels.tool
def book(ctx: RunContext[None], stay: Stay, arrival: datetime.date, breakfast: bool = False) -> str:
    """Book a stay."""
    return f"{stay.nights} night(s) in {stay.city} from {arrival}"


@hotels.tool_plain
def cancel(booking_id: str) -> str:
    """Cancel a booking."""
    return booking_id


@settings(max_examples=25)
@given(tool_arguments(book))
def test_a_function_registered_on_a_pydantic_ai_agent_gets_its_python_arguments(arguments: dict[str, object]) -> None:
    assert set(arguments) <= {"stay", "arrival", "breakfast"}  # the RunContext is not an argument
    assert isinstance(arguments["stay"], Stay)
    assert 1 <= arguments["stay"].nights <= 14
    assert isinstance(arguments["arrival"], datetime.date)


@settings(max_examples=10)
@given(tool_arguments((hotels, "cancel")))
def test_an_agent_and_tool_name_give_the_tool_s_arguments(arguments: dict[str, object]) -> None:
    assert isinstance(arguments["booking_id"], str)
    cancel(**arguments)  # type: ignore[arg-type]


def plain_nights(nights: int = 1) -> int:
    """Count nights."""
    return nights


@settings(max_examples=10)
@given(tool_arguments(Tool(plain_nights)))
def test_a_pydantic_ai_tool_object_gets_arguments_from_its_schema(arguments: dict[str, object]) -> None:
    assert set(arguments) <= {"nights"}
    plain_nights(**arguments)  # type: ignore[arg-type]


def test_an_unknown_tool_name_on_a_pydantic_ai_agent_names_the_agent_s_tools() -> None:
    with pytest.raises(UserError, match=r"no such tool; it has 'book', 'cancel'"):
        tool_arguments((hotels, "refund"))
