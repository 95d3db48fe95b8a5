"""`format_as_xml`: Python data as XML, a form models read well inside prompts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree

import pydantic

__all__ = ("format_as_xml",)


def format_as_xml(
    obj: Any,
    root_tag: str = "examples",
    item_tag: str = "example",
    include_root_tag: bool = True,
    none_str: str = "null",
    indent: str | None = "  ",
) -> str:
    """`obj` as XML: mappings, dataclasses and pydantic models become one element per field,
    sequences one `item_tag` element per item (dataclasses and models named by their class),
    scalars their text (`None` as `none_str`, dates in ISO format, bytes decoded).

    Args:
        obj: what to format.
        root_tag: the tag of the outer element.
        item_tag: the tag of each item of a sequence.
        include_root_tag: when False, the children of a mapping or sequence are given without the
            outer element (a scalar always keeps it).
        none_str: the text of `None`.
        indent: the indentation of each level, or None for everything on one line.
    """
    root = _Builder(item_tag, none_str).element(root_tag, obj)
    if include_root_tag or not _is_container(obj):
        return _text(root, indent)
    return ("\n" if indent is not None else "").join(_text(child, indent) for child in root)


def _text(element: ElementTree.Element, indent: str | None) -> str:
    if indent is not None:
        ElementTree.indent(element, space=indent)
    element.tail = None
    return ElementTree.tostring(element, encoding="unicode")


def _is_container(obj: Any) -> bool:
    return isinstance(obj, Mapping | list | tuple | set | frozenset) or _is_record(obj)


def _is_record(obj: Any) -> bool:
    return isinstance(obj, pydantic.BaseModel) or (dataclasses.is_dataclass(obj) and not isinstance(obj, type))


class _Builder:
    def __init__(self, item_tag: str, none_str: str) -> None:
        self.item_tag = item_tag
        self.none_str = none_str

    def element(self, tag: str, value: Any) -> ElementTree.Element:
        element = ElementTree.Element(tag)
        if value is None:
            element.text = self.none_str
        elif isinstance(value, str):
            element.text = value
        elif isinstance(value, bytes | bytearray):
            element.text = bytes(value).decode(errors="replace")
        elif isinstance(value, bool | int | float):
            element.text = str(value)
        elif isinstance(value, date | datetime | time):
            element.text = value.isoformat()
        elif isinstance(value, Mapping):
            self._fields(element, value.items())
        elif isinstance(value, pydantic.BaseModel):
            self._fields(element, ((name, getattr(value, name)) for name in type(value).model_fields))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            self._fields(element, ((field.name, getattr(value, field.name)) for field in dataclasses.fields(value)))
        elif isinstance(value, Iterable):
            for item in value:
                tag = type(item).__name__ if _is_record(item) else self.item_tag
                element.append(self.element(tag, item))
        else:
            raise TypeError(f"Unsupported type for XML formatting: {type(value)}")
        return element

    def _fields(self, element: ElementTree.Element, items: Iterable[tuple[Any, Any]]) -> None:
        for name, value in items:
            element.append(self.element(str(name), value))
