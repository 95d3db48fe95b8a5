"""`format_as_xml`: Python data as XML for prompts, with the reference release's layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from pydantic import BaseModel

from agentkit.format_as_xml import format_as_xml


class Order(BaseModel):
    id: int
    items: list[str]


@dataclass
class User:
    name: str
    age: int


def test_mapping_becomes_one_element_per_key() -> None:
    assert format_as_xml({"name": "John", "height": 6}, root_tag="user") == (
        "<user>\n  <name>John</name>\n  <height>6</height>\n</user>"
    )


def test_sequence_items_take_the_item_tag_or_their_class_name() -> None:
    assert format_as_xml([1, None, True]) == (
        "<examples>\n  <example>1</example>\n  <example>null</example>\n  <example>True</example>\n</examples>"
    )
    assert format_as_xml([User("a", 1)], root_tag="users") == (
        "<users>\n  <User>\n    <name>a</name>\n    <age>1</age>\n  </User>\n</users>"
    )


def test_models_nest_and_empty_elements_close_themselves() -> None:
    assert format_as_xml({"order": Order(id=1, items=[])}) == (
        "<examples>\n  <order>\n    <id>1</id>\n    <items />\n  </order>\n</examples>"
    )


def test_scalars_dates_and_text_are_escaped_text() -> None:
    assert format_as_xml("a < b & c") == "<examples>a &lt; b &amp; c</examples>"
    assert format_as_xml([date(2025, 1, 2), datetime(2025, 1, 2, 3, 4, 5)], indent=None) == (
        "<examples><example>2025-01-02</example><example>2025-01-02T03:04:05</example></examples>"
    )
    assert format_as_xml(None, none_str="None") == "<examples>None</examples>"


def test_without_root_tag_the_children_stand_alone() -> None:
    assert format_as_xml({"a": 1, "b": [1, 2]}, include_root_tag=False) == (
        "<a>1</a>\n<b>\n  <example>1</example>\n  <example>2</example>\n</b>"
    )
    assert format_as_xml([], include_root_tag=False) == ""
    assert format_as_xml(5, include_root_tag=False) == "<examples>5</examples>"


def test_unsupported_types_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="Unsupported type for XML formatting: <class 'object'>"):
        format_as_xml(object())
