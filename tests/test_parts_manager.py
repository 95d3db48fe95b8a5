"""ModelResponsePartsManager: assembling streamed deltas into parts, by vendor part id."""

from __future__ import annotations

import pytest

from agentkit import TextPart, ToolCallPart, UnexpectedModelBehavior
from agentkit._streaming._parts_manager import ModelResponsePartsManager
from agentkit.messages import PartDeltaEvent, PartStartEvent, TextPartDelta, ToolCallPartDelta


def test_text_deltas_with_a_vendor_id_build_one_part() -> None:
    manager = ModelResponsePartsManager()
    assert manager.handle_text_delta(vendor_part_id="content", content="Hel") == PartStartEvent(0, TextPart("Hel"))
    assert manager.handle_text_delta(vendor_part_id="content", content="lo") == PartDeltaEvent(0, TextPartDelta("lo"))
    assert manager.get_parts() == [TextPart("Hello")]


def test_text_without_a_vendor_id_extends_the_last_text_part() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_text_delta(vendor_part_id=None, content="a")
    manager.handle_text_delta(vendor_part_id=None, content="b")
    manager.handle_tool_call_part(vendor_part_id=None, tool_name="t", args={})
    manager.handle_text_delta(vendor_part_id=None, content="c")
    assert manager.get_parts() == [TextPart("ab"), ToolCallPart("t", {}), TextPart("c")]


def test_two_vendor_ids_make_two_parts() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_text_delta(vendor_part_id=0, content="x")
    manager.handle_text_delta(vendor_part_id=1, content="y")
    manager.handle_text_delta(vendor_part_id=0, content="z")
    assert manager.get_parts() == [TextPart("xz"), TextPart("y")]


def test_a_tool_call_delta_before_its_name_is_held_until_the_name_arrives() -> None:
    manager = ModelResponsePartsManager()
    assert manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args='{"a":', tool_call_id="c1") is None
    assert manager.get_parts() == []
    event = manager.handle_tool_call_delta(vendor_part_id=0, tool_name="lookup", args=None, tool_call_id=None)
    assert event == PartStartEvent(0, ToolCallPart("lookup", '{"a":', "c1"))
    event = manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args=" 1}", tool_call_id=None)
    assert event == PartDeltaEvent(0, ToolCallPartDelta(args_delta=" 1}"))
    assert manager.get_parts() == [ToolCallPart("lookup", '{"a": 1}', "c1")]


def test_a_name_without_arguments_waits_for_the_arguments() -> None:
    manager = ModelResponsePartsManager()
    assert manager.handle_tool_call_delta(vendor_part_id="t", tool_name="go", args=None, tool_call_id=None) is None
    event = manager.handle_tool_call_delta(vendor_part_id="t", tool_name=None, args="{}", tool_call_id=None)
    assert event == PartStartEvent(0, ToolCallPart("go", "{}"))


def test_dict_argument_deltas_merge() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_delta(vendor_part_id=0, tool_name="t", args={"a": 1}, tool_call_id=None)
    manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args={"b": 2}, tool_call_id=None)
    assert manager.get_parts() == [ToolCallPart("t", {"a": 1, "b": 2})]


def test_without_a_vendor_id_a_named_delta_starts_a_new_call() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_delta(vendor_part_id=None, tool_name="a", args="{}", tool_call_id=None)
    manager.handle_tool_call_delta(vendor_part_id=None, tool_name="b", args="{", tool_call_id=None)
    manager.handle_tool_call_delta(vendor_part_id=None, tool_name=None, args="}", tool_call_id=None)
    assert manager.get_parts() == [ToolCallPart("a", "{}"), ToolCallPart("b", "{}")]


def test_a_whole_tool_call_part_replaces_the_part_of_its_vendor_id() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_delta(vendor_part_id=7, tool_name="t", args="{", tool_call_id=None)
    event = manager.handle_tool_call_part(vendor_part_id=7, tool_name="t", args={"x": 1}, tool_call_id="id")
    assert event == PartStartEvent(0, ToolCallPart("t", {"x": 1}, "id"))
    assert manager.get_parts() == [ToolCallPart("t", {"x": 1}, "id")]


def test_text_under_a_tool_calls_vendor_id_is_unexpected_model_behavior() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_part(vendor_part_id="x", tool_name="t", args={})
    with pytest.raises(UnexpectedModelBehavior, match=r"cannot apply a text delta to part 0 \(vendor id 'x'\)"):
        manager.handle_text_delta(vendor_part_id="x", content="hi")


def test_a_tool_call_delta_under_a_text_parts_vendor_id_is_unexpected_model_behavior() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_text_delta(vendor_part_id="x", content="hi")
    with pytest.raises(UnexpectedModelBehavior, match=r"cannot apply a tool-call delta to part 0"):
        manager.handle_tool_call_delta(vendor_part_id="x", tool_name=None, args="{}", tool_call_id=None)


def test_json_text_after_dict_arguments_is_unexpected_model_behavior() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_delta(vendor_part_id=0, tool_name="t", args={"a": 1}, tool_call_id=None)
    with pytest.raises(UnexpectedModelBehavior, match="got JSON text"):
        manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args='"b"', tool_call_id=None)


def test_a_changed_tool_call_id_is_unexpected_model_behavior() -> None:
    manager = ModelResponsePartsManager()
    manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args="{", tool_call_id="one")
    with pytest.raises(UnexpectedModelBehavior, match="already has tool_call_id 'one' and got 'two'"):
        manager.handle_tool_call_delta(vendor_part_id=0, tool_name=None, args="}", tool_call_id="two")
