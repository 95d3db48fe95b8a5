"""Message helpers with the reference release's shapes: tool returns as a model API sees them."""

from __future__ import annotations

from pydantic import BaseModel

from agentkit import ToolReturnPart


class Item(BaseModel):
    name: str


def test_a_dict_return_is_its_own_object() -> None:
    assert ToolReturnPart("lookup", {"a": 1}).model_response_object() == {"a": 1}


def test_any_other_return_is_wrapped_as_return_value() -> None:
    assert ToolReturnPart("lookup", Item(name="pen")).model_response_object() == {"return_value": {"name": "pen"}}
    assert ToolReturnPart("lookup", [1, 2]).model_response_object() == {"return_value": [1, 2]}
    assert ToolReturnPart("lookup", "plain").model_response_object() == {"return_value": "plain"}
