"""pydantic-ai messages as the cassette's JSON data (pydantic-ai's own shape), checked to round-trip when recorded.

A message is dumped with `ModelMessagesTypeAdapter.dump_python(mode='json')`; the per-run ids
(`run_id`, `conversation_id`, new on every run) and structural fields at `None` are left out so
the file stays readable. Before anything is stored, the data is validated back through the same
TypeAdapter and dumped again: a part kind or value that does not come back the same raises
`UnrecordableMessage` at record time, so the cassette never loses anything silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic_core
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelRequest, ModelResponse

from agentkit_testing._exceptions import UnrecordableMessage

__all__ = ("VOLATILE_KEYS", "dump_messages", "load_messages", "load_response", "prompt_text", "to_json_data")

VOLATILE_KEYS = frozenset({"run_id", "conversation_id"})
"""Message fields that pydantic-ai sets anew on every run: not stored, not compared."""

_USAGE_KEEP_ZERO = frozenset({"input_tokens", "output_tokens"})


def to_json_data(value: Any) -> Any:
    """Any value (a tool's arguments or return) as JSON-compatible data, the way pydantic-ai serializes it."""
    return pydantic_core.to_jsonable_python(value, serialize_unknown=True, bytes_mode="base64")


def dump_messages(messages: Sequence[ModelMessage], *, where: str) -> list[dict[str, Any]]:
    """`messages` as compact JSON data; `UnrecordableMessage` naming `where` if they would not round-trip."""
    try:
        full: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
    except pydantic_core.PydanticSerializationError as error:
        raise UnrecordableMessage(
            f"{where}: a message cannot be written as JSON ({error}). Make the tool return or prompt "
            "content JSON-serializable (a pydantic model, a dataclass, plain data).",
            path=None,
        ) from error
    compact = [_compact_message(message) for message in full]
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
