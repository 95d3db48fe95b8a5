"""Assembling a streamed response: vendor chunks in, response parts and part events out.

Every streamed model feeds its chunks to one `ModelResponsePartsManager`, which keeps the parts
built so far, maps the vendor's identifiers (an index, a content-block id, ...) to them, and
returns the `PartStartEvent` / `PartDeltaEvent` each chunk causes. A tool call whose name has
not arrived yet is held as a `ToolCallPartDelta` and announced only once it has a name and
arguments.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from agentkit.exceptions import UnexpectedModelBehavior
from agentkit.messages import (
    ModelResponsePart,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)

__all__ = ("ManagedPart", "ModelResponsePartsManager", "VendorId")

VendorId: TypeAlias = Hashable
"""How a vendor names a part of its stream: an index, a content-block id, a fixed key..."""

ManagedPart: TypeAlias = "ModelResponsePart | ToolCallPartDelta"
"""A part being built; a tool call stays a delta until it has both a name and arguments."""


@dataclass
class ModelResponsePartsManager:
    """Builds the parts of one streamed response from deltas, keyed by vendor part ids."""

    _parts: list[ManagedPart] = field(default_factory=list, init=False)
    _vendor_id_to_part_index: dict[VendorId, int] = field(default_factory=dict, init=False)

    def get_parts(self) -> list[ModelResponsePart]:
        """The parts so far; tool calls still missing a name or arguments are left out."""
        return [part for part in self._parts if not isinstance(part, ToolCallPartDelta)]

    def handle_text_delta(self, *, vendor_part_id: VendorId | None, content: str) -> ModelResponseStreamEvent:
        """Add text: to the part `vendor_part_id` names, or (when `None`) to the last part if it is text.

        Returns a `PartStartEvent` when a new text part begins, else a `PartDeltaEvent`.
        Raises `UnexpectedModelBehavior` when the vendor id names a part that is not text.
        """
        index: int | None = None
        if vendor_part_id is None:
            if self._parts and isinstance(self._parts[-1], TextPart):
                index = len(self._parts) - 1
        else:
            index = self._vendor_id_to_part_index.get(vendor_part_id)
            if index is not None and not isinstance(self._parts[index], TextPart):
                raise UnexpectedModelBehavior(
                    f"Streamed response: cannot apply a text delta to part {index} (vendor id {vendor_part_id!r}), "
                    f"which is {self._parts[index]!r}; the model sent text under the id of another kind of part"
                )
        if index is None:
            part = TextPart(content=content)
            return PartStartEvent(index=self._append(vendor_part_id, part), part=part)
        existing = self._parts[index]
        assert isinstance(existing, TextPart)
        delta = TextPartDelta(content_delta=content)
        self._parts[index] = TextPart(content=existing.content + content)
        return PartDeltaEvent(index=index, delta=delta)

    def handle_tool_call_delta(
        self,
        *,
        vendor_part_id: VendorId | None,
        tool_name: str | None,
        args: str | dict[str, Any] | None,
        tool_call_id: str | None,
    ) -> ModelResponseStreamEvent | None:
        """Add a piece of a tool call (name text, argument JSON text or dict, id).

        With `vendor_part_id=None` the piece extends the last part if it is a tool call and no
        `tool_name` is given; otherwise a new tool call begins. Returns a `PartStartEvent` once
        the call has a name and arguments, a `PartDeltaEvent` for later pieces, and `None`
        while the call is still incomplete. Raises `UnexpectedModelBehavior` when the piece
        cannot apply (the id names a text part, JSON text after dict arguments, a changed id).
        """
        index: int | None = None
        if vendor_part_id is None:
            if tool_name is None and self._parts and isinstance(self._parts[-1], ToolCallPart | ToolCallPartDelta):
                index = len(self._parts) - 1
        else:
            index = self._vendor_id_to_part_index.get(vendor_part_id)
            if index is not None and not isinstance(self._parts[index], ToolCallPart | ToolCallPartDelta):
                raise UnexpectedModelBehavior(
                    f"Streamed response: cannot apply a tool-call delta to part {index} (vendor id "
                    f"{vendor_part_id!r}), which is {self._parts[index]!r}; the model reused the id of a text part"
                )
        delta = ToolCallPartDelta(tool_name_delta=tool_name, args_delta=args, tool_call_id=tool_call_id)
        if index is None:
            started = _complete(delta)
            new_index = self._append(vendor_part_id, started)
            return PartStartEvent(index=new_index, part=started) if isinstance(started, ToolCallPart) else None
        existing = self._parts[index]
        updated = _apply(delta, existing, index)
        self._parts[index] = updated
        if not isinstance(updated, ToolCallPart):
            return None
        if isinstance(existing, ToolCallPartDelta):
            return PartStartEvent(index=index, part=updated)
        return PartDeltaEvent(index=index, delta=delta)

    def handle_tool_call_part(
        self,
        *,
        vendor_part_id: VendorId | None,
        tool_name: str,
        args: str | dict[str, Any],
        tool_call_id: str | None = None,
    ) -> ModelResponseStreamEvent:
        """Set a whole tool call at once: replaces the part `vendor_part_id` names, or appends one."""
        part = ToolCallPart(tool_name=tool_name, args=args, tool_call_id=tool_call_id)
        index = self._vendor_id_to_part_index.get(vendor_part_id) if vendor_part_id is not None else None
        if index is None:
            index = self._append(vendor_part_id, part)
        else:
            self._parts[index] = part
        return PartStartEvent(index=index, part=part)

    def _append(self, vendor_part_id: VendorId | None, part: ManagedPart) -> int:
        index = len(self._parts)
        self._parts.append(part)
        if vendor_part_id is not None:
            self._vendor_id_to_part_index[vendor_part_id] = index
        return index


def _complete(delta: ToolCallPartDelta) -> ToolCallPart | ToolCallPartDelta:
    """The delta as a `ToolCallPart` once it has both a name and arguments."""
    if delta.tool_name_delta is None or delta.args_delta is None:
        return delta
    return ToolCallPart(tool_name=delta.tool_name_delta, args=delta.args_delta, tool_call_id=delta.tool_call_id)


def _joined_args(
    old: str | dict[str, Any] | None, new: str | dict[str, Any] | None, index: int
) -> str | dict[str, Any] | None:
    if new is None:
        return old
    if isinstance(new, str):
        if isinstance(old, dict):
            raise UnexpectedModelBehavior(
                f"Streamed response: tool call at part {index} got JSON text ({new!r}) after dict arguments "
                f"({old!r}); a model must stream a call's arguments all as text or all as dicts"
            )
        return (old or "") + new
    if isinstance(old, str):
        raise UnexpectedModelBehavior(
            f"Streamed response: tool call at part {index} got dict arguments ({new!r}) after JSON text "
            f"({old!r}); a model must stream a call's arguments all as text or all as dicts"
        )
    return {**(old or {}), **new}


def _joined_id(old: str | None, new: str | None, index: int) -> str | None:
    if new and old is not None and old != new:
        raise UnexpectedModelBehavior(
            f"Streamed response: tool call at part {index} already has tool_call_id {old!r} and got {new!r}; "
            "a call's id may be given once, or repeated unchanged"
        )
    return new or old


def _apply(delta: ToolCallPartDelta, existing: ManagedPart, index: int) -> ToolCallPart | ToolCallPartDelta:
    if isinstance(existing, ToolCallPart):
        return ToolCallPart(
            tool_name=existing.tool_name + (delta.tool_name_delta or ""),
            args=_joined_args(existing.args, delta.args_delta, index) or existing.args,
            tool_call_id=_joined_id(existing.tool_call_id, delta.tool_call_id, index),
        )
    assert isinstance(existing, ToolCallPartDelta)
    name = existing.tool_name_delta
    if delta.tool_name_delta:
        name = (name or "") + delta.tool_name_delta
    merged = ToolCallPartDelta(
        tool_name_delta=name,
        args_delta=_joined_args(existing.args_delta, delta.args_delta, index),
        tool_call_id=_joined_id(existing.tool_call_id, delta.tool_call_id, index),
    )
    return _complete(merged)
