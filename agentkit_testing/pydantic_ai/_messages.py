"""pydantic-ai messages as the cassette's JSON data (pydantic-ai's own shape), checked to round-trip when recorded.

A message is dumped with `ModelMessagesTypeAdapter.dump_python(mode='json')`; the per-run ids
(`run_id`, `conversation_id`, new on every run) and structural fields at `None` are left out so
the file stays readable. Before anything is stored, the data is validated back through the same
TypeAdapter and dumped again: a part kind or value that does not come back the same raises
`UnrecordableMessage` at record time, so the cassette never loses anything silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pydantic
import pydantic_core
from pydantic_ai.messages import (
    FinalResultEvent,
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
)

from agentkit_testing._exceptions import UnrecordableMessage

__all__ = (
    "VOLATILE_KEYS",
    "dump_events",
    "dump_messages",
    "load_events",
    "load_messages",
    "load_response",
    "prompt_text",
    "to_json_data",
)

_events_adapter: pydantic.TypeAdapter[list[ModelResponseStreamEvent]] = pydantic.TypeAdapter(
    list[ModelResponseStreamEvent]
)

VOLATILE_KEYS = frozenset({"run_id", "conversation_id"})
"""Message fields that pydantic-ai sets anew on every run: not stored, not compared."""

_USAGE_KEEP_ZERO = frozenset({"input_tokens", "output_tokens"})


def to_json_data(value: Any) -> Any:
    """Any value (a tool's arguments or return) as JSON-compatible data, the way pydantic-ai serializes it."""
    return pydantic_core.to_jsonable_python(value, serialize_unknown=True, bytes_mode="base64")


def dump_messages(messages: Sequence[ModelMessage], *, where: str, check: bool = True) -> list[dict[str, Any]]:
    """`messages` as compact JSON data; `UnrecordableMessage` naming `where` if they would not round-trip.

    `check=False` skips the round-trip check, for data only compared, never stored (a replayed request).
    """
    try:
        full: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
    except pydantic_core.PydanticSerializationError as error:
        raise UnrecordableMessage(
            f"{where}: a message cannot be written as JSON ({error}). Make the tool return or prompt "
            "content JSON-serializable (a pydantic model, a dataclass, plain data).",
            path=None,
        ) from error
    compact = [_compact_message(message) for message in full]
    if check:
        _check_round_trip(compact, where)
    return compact


def load_messages(data: Sequence[dict[str, Any]]) -> list[ModelMessage]:
    """Messages back from their JSON data."""
    return ModelMessagesTypeAdapter.validate_python(list(data))


def load_response(data: dict[str, Any]) -> ModelResponse:
    """A recorded response back from its JSON data (its `kind` is implied)."""
    (message,) = load_messages([{"kind": "response", **data}])
    assert isinstance(message, ModelResponse)
    return message


def dump_events(events: Sequence[ModelResponseStreamEvent], *, where: str) -> list[dict[str, Any]]:
    """A streamed response's events, as the run saw them, as compact JSON data checked to read back the same."""
    try:
        full = _events_adapter.dump_python(list(events), mode="json")
    except pydantic_core.PydanticSerializationError as error:
        raise UnrecordableMessage(f"{where}: a stream event cannot be written as JSON ({error}).", path=None) from error
    compact = [_compact_event(event) for event in full]
    try:
        again = [_compact_event(event) for event in _events_adapter.dump_python(load_events(compact), mode="json")]
    except (ValueError, pydantic_core.PydanticSerializationError) as error:
        raise UnrecordableMessage(
            f"{where}: pydantic-ai's event TypeAdapter cannot read back what it wrote ({error}); this pydantic-ai "
            "version is not supported by the cassette adapter yet.",
            path=None,
        ) from error
    for index, stored in enumerate(compact):
        if index >= len(again) or again[index] != stored:
            raise UnrecordableMessage(
                f"{where}: stream event {index} ({stored.get('event_kind')!r}) does not round-trip through "
                "pydantic-ai's event TypeAdapter, so a cassette would lose it. Report it with the event; until "
                "then, record this run without streaming.",
                path=None,
            )
    return compact


def load_events(data: Sequence[dict[str, Any]]) -> list[ModelResponseStreamEvent]:
    """Stream events back from their JSON data."""
    return _events_adapter.validate_python(list(data))


def prompt_text(messages: Sequence[ModelMessage]) -> str:
    """The user prompt a run started with, as text (JSON text for multimodal prompts), for reading and matching."""
    texts: list[str] = []
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if part.part_kind == "user-prompt":
                content = part.content
                texts.append(content if isinstance(content, str) else pydantic_core.to_json(content).decode())
    return "\n".join(texts)


def _compact_message(message: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in message.items():
        if key in VOLATILE_KEYS or value is None:
            continue
        if key == "parts" and isinstance(value, list):
            out[key] = [_compact_part(part) for part in value]
        elif key == "usage" and isinstance(value, dict):
            out[key] = {
                name: amount
                for name, amount in value.items()
                if amount is not None and (amount not in (0, 0.0, {}) or name in _USAGE_KEEP_ZERO)
            }
        else:
            out[key] = value
    return out


def _compact_part(part: Any) -> Any:
    # Only a part's own fields at None are dropped: values inside content and args stay as they are.
    if not isinstance(part, dict):
        return part
    kind = part.get("part_kind")
    return {
        "part_kind": kind,
        **{key: value for key, value in part.items() if value is not None and key != "part_kind"},
    }


def _required_fields(kind: type[Any]) -> frozenset[str]:
    return frozenset(
        item.name
        for item in dataclasses.fields(kind)
        if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
    )


_EVENT_REQUIRED = {
    "part_start": _required_fields(PartStartEvent),
    "part_delta": _required_fields(PartDeltaEvent),
    "part_end": _required_fields(PartEndEvent),
    "final_result": _required_fields(FinalResultEvent),
}
"""An event's fields without a default: kept when `None` (e.g. a final result's `tool_name` for text)."""


def _compact_event(event: dict[str, Any]) -> dict[str, Any]:
    required = _EVENT_REQUIRED.get(event.get("event_kind", ""), frozenset())
    out: dict[str, Any] = {}
    for key, value in event.items():
        if value is None and key not in required:
            continue
        out[key] = _compact_part(value) if key in ("part", "delta") else value
    return out


def _check_round_trip(compact: list[dict[str, Any]], where: str) -> None:
    try:
        again = [
            _compact_message(message)
            for message in ModelMessagesTypeAdapter.dump_python(load_messages(compact), mode="json")
        ]
    except (ValueError, pydantic_core.PydanticSerializationError) as error:
        raise UnrecordableMessage(
            f"{where}: pydantic-ai's ModelMessagesTypeAdapter cannot read back what it wrote ({error}); "
            "this pydantic-ai version is not supported by the cassette adapter yet.",
            path=None,
        ) from error
    for index, (stored, restored) in enumerate(zip(compact, again, strict=True)):
        if stored == restored:
            continue
        parts, back = stored.get("parts", []), restored.get("parts", [])
        for position, part in enumerate(parts):
            if position >= len(back) or part != back[position]:
                kind = part.get("part_kind") if isinstance(part, dict) else type(part).__name__
                raise UnrecordableMessage(
                    f"{where}: message {index}, part {position} ({kind!r}) does not round-trip through "
                    "pydantic-ai's ModelMessagesTypeAdapter, so a cassette would lose it. Report it with the "
                    "part's content; until then, leave this part out of the run under test.",
                    path=None,
                )
        raise UnrecordableMessage(
            f"{where}: message {index} ({stored.get('kind')!r}) does not round-trip through pydantic-ai's "
            "ModelMessagesTypeAdapter (a message field changed), so a cassette would lose it.",
            path=None,
        )
