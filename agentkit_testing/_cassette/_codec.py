"""Recorded runs to the cassette document: plain data, shaped to be read and diffed in review.

The document is described in docs/cassette-format.md. What keeps it readable:

- tool definitions are written once, in a `tool_definitions` catalog that requests name;
- tool-call arguments that were JSON text are written as structured `args_json` (plus the JSON
  style needed to reproduce the exact text), never as an escaped one-line JSON string;
- a tool call whose arguments and return can be read off the run's requests (the call in one
  response, the return in the next request) is not written a second time;
- fields at their default (`None`, empty) are left out; usage and stream chunks take one line.

`_decode` reads it back.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import math
from collections.abc import Sequence
from typing import Any

import pydantic
import pydantic_core

import agentkit.messages
from agentkit import (
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    RetryPromptPart,
    ToolDefinition,
    ToolReturnPart,
    Usage,
)
from agentkit_testing._cassette._io import FlowDict, FlowList
from agentkit_testing._cassette._records import (
    CASSETTE_FORMAT,
    CASSETTE_VERSION,
    RecordedRequest,
    RecordedRun,
    RecordedToolCall,
    derive_tool_calls,
)

__all__ = (
    "JSON_STYLES",
    "ToolCatalog",
    "encode_document",
    "encode_messages",
    "encode_run",
    "encode_tool_result",
    "to_plain",
)

JSON_STYLES: dict[str, tuple[tuple[str, str], bool]] = {
    "compact": ((",", ":"), False),
    "compact-ascii": ((",", ":"), True),
    "spaced": ((", ", ": "), False),
    "spaced-ascii": ((", ", ": "), True),
}
"""How `args_json` is turned back into the exact text the model sent: separators, ASCII-only."""

_NONE_DEFAULTS = ("dynamic_ref", "tool_name", "model_name")
"""Part and message fields whose `None` default is left out of the file."""


@functools.cache
def _request_part_adapter() -> pydantic.TypeAdapter[Any]:
    """Made at first use, not at import: building a TypeAdapter's schema is most of this module's import cost."""
    return pydantic.TypeAdapter(ModelRequestPart)


def unknown_as_text(value: Any) -> str:
    """The text a cassette keeps for a value JSON cannot carry.

    An exception (pydantic keeps one in a retry prompt's error `ctx`) becomes its message, as
    `all_messages_json()` writes it; anything else its `repr`. Recording and comparing both use
    this, so a live value and its recording compare equal.
    """
    return str(value) if isinstance(value, BaseException) else repr(value)


def to_plain(value: Any) -> Any:
    """`value` as JSON-compatible data (dataclasses and pydantic models become dicts)."""
    return pydantic_core.to_jsonable_python(value, fallback=unknown_as_text, bytes_mode="base64")


def encode_document(runs: Sequence[RecordedRun]) -> dict[str, Any]:
    """The whole cassette document for `runs`."""
    catalog = ToolCatalog()
    encoded = [encode_run(run, catalog) for run in runs]
    document: dict[str, Any] = {"format": CASSETTE_FORMAT, "version": CASSETTE_VERSION}
    if catalog.entries:
        document["tool_definitions"] = catalog.entries
    document["runs"] = encoded
    document["end_of_cassette"] = True
    return document


class ToolCatalog:
    """Tool definitions by id: the tool's name, or `name~2`, ... when one name has several definitions."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        """The ids `id_for` has handed out."""
        self._ids: dict[str, str] = {}

    def seed(self, definitions: dict[str, ToolDefinition]) -> bool:
        """Start from the catalog of a loaded file, so its ids keep naming the same definitions.

        Returns whether each definition has one id (a hand-edited file may hold one twice).
        """
        unique = True
        for identity, definition in definitions.items():
            entry = _catalog_entry(definition)
            fingerprint = json.dumps(entry, sort_keys=True)
            unique = unique and fingerprint not in self._ids
            self._ids.setdefault(fingerprint, identity)
            if identity == definition.name:
                del entry["name"]
            self.entries[identity] = entry
        return unique

    def id_for(self, definition: ToolDefinition) -> str:
        identity = self._id_for(definition)
        self.used.add(identity)
        return identity

    def _id_for(self, definition: ToolDefinition) -> str:
        entry = _catalog_entry(definition)
        fingerprint = json.dumps(entry, sort_keys=True)
        known = self._ids.get(fingerprint)
        if known is not None:
            return known
        identity, counter = definition.name, 1
        while identity in self.entries:
            counter += 1
            identity = f"{definition.name}~{counter}"
        if identity == definition.name:
            del entry["name"]
        self.entries[identity] = entry
        self._ids[fingerprint] = identity
        return identity


def _catalog_entry(definition: ToolDefinition) -> dict[str, Any]:
    entry = {
        "name": definition.name,
        "description": definition.description,
        "parameters_json_schema": to_plain(definition.parameters_json_schema),
    }
    if definition.outer_typed_dict_key is not None:
        entry["outer_typed_dict_key"] = definition.outer_typed_dict_key
    if definition.strict is not None:
        entry["strict"] = definition.strict
    return entry


def encode_run(run: RecordedRun, catalog: ToolCatalog | None = None) -> dict[str, Any]:
    """One run as plain data; tool definitions go into `catalog`, or inline when there is none."""
    out: dict[str, Any] = {"id": run.id}
    if run.label is not None:
        out["label"] = run.label
    out["agent"] = run.agent
    out["model"] = run.model
    out["user_prompt"] = run.user_prompt
    if run.streamed:
        out["streamed"] = True
    if run.deps is not None:
        out["deps"] = run.deps
    if run.concurrent:
        out["concurrent"] = True
    if run.forked_from is not None:
        out["forked_from"] = {"run": run.forked_from.run, "node": run.forked_from.node}
    if run.runtime is not None:
        return _encode_runtime_run(run, out)
    if run.message_history is not None:
        out["message_history"] = encode_messages(run.message_history)
    out["nodes"] = FlowList(run.nodes)
    if run.result is not None:
        out["result"] = {"data": to_plain(run.result.data)}
        if run.result.tool_name is not None:
            out["result"]["tool_name"] = run.result.tool_name
            out["result"]["tool_call_id"] = run.result.tool_call_id
    if run.error is not None:
        out["error"] = {"type": run.error.type, "message": run.error.message}
    out["requests"] = [_encode_request(request, catalog) for request in run.requests]
    derived = derive_tool_calls(run)
    explicit = [call for call in run.tool_calls if call not in derived]
    if explicit:
        out["tool_calls"] = [_encode_tool_call(call) for call in explicit]
    if run.closing_messages:
        out["closing_messages"] = encode_messages(run.closing_messages)
    return out


def _encode_runtime_run(run: RecordedRun, out: dict[str, Any]) -> dict[str, Any]:
    """A run of another runtime: its messages are already that runtime's JSON data, written as they are."""
    out["runtime"] = run.runtime
    if run.runtime_history is not None:
        out["message_history"] = list(run.runtime_history)
    if run.result is not None:
        out["result"] = {"data": to_plain(run.result.data)}
    if run.error is not None:
        out["error"] = {"type": run.error.type, "message": run.error.message}
    requests: list[dict[str, Any]] = []
    previous: dict[str, Any] = {}
    for request in run.runtime_requests:
        encoded: dict[str, Any] = {"node": request.node}
        if request.streamed:
            encoded["streamed"] = True
        encoded["messages"] = list(request.messages)
        # `parameters` and `settings` are written where they change: a request without them has the previous one's.
        for name, value in (("parameters", request.parameters), ("settings", to_plain(request.settings))):
            if (value or {}) != previous.get(name, {}):
                encoded[name] = value or {}
            previous[name] = value or {}
        encoded["response"] = request.response
        if request.stream is not None:
            encoded["stream"] = list(request.stream)
        requests.append(encoded)
    out["requests"] = requests
    if run.runtime_tool_calls:
        out["tool_calls"] = [to_plain(call) for call in run.runtime_tool_calls]
    return out


def _encode_request(request: RecordedRequest, catalog: ToolCatalog | None) -> dict[str, Any]:
    out: dict[str, Any] = {"node": request.node}
    messages = request.messages
    if len(messages) == 1 and isinstance(messages[0], ModelRequest):
        out["request"] = encode_messages(messages)[0]["parts"]
    else:
        out["messages"] = encode_messages(messages)
    if request.settings:
        out["settings"] = to_plain(request.settings)
    if request.function_tools:
        out["tools"] = _encode_tools(request.function_tools, catalog)
    if not request.allow_text_result:
        out["allow_text_result"] = False
    if request.result_tools:
        out["result_tools"] = _encode_tools(request.result_tools, catalog)
    response = encode_messages([request.response])[0]
    del response["kind"]
    out["response"] = response
    out["usage"] = FlowDict(_encode_usage(request.usage))
    if request.stream is not None:
        out["stream"] = [FlowDict(_encode_event(to_plain(event))) for event in request.stream]
    return out


def _encode_tools(tools: Sequence[ToolDefinition], catalog: ToolCatalog | None) -> list[Any]:
    if catalog is None:
        return [to_plain(tool) for tool in tools]
    return FlowList(catalog.id_for(tool) for tool in tools)


def encode_messages(messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
    """Messages as plain data: kind first, then their fields, then their parts."""
    # Read from the module at each call: agentkit builds the adapter at its first use and keeps it there.
    plain: list[dict[str, Any]] = agentkit.messages.ModelMessagesTypeAdapter.dump_python(
        list(messages), mode="json", fallback=unknown_as_text
    )
    encoded: list[dict[str, Any]] = []
    for original, message in zip(messages, plain, strict=True):
        _drop_none_defaults(message)
        for part, plain_part in zip(original.parts, message["parts"], strict=True):
            _keep_non_finite(part, plain_part)
        parts = [_encode_part(part) for part in message.pop("parts")]
        kind = message.pop("kind")
        encoded.append({"kind": kind, **message, "parts": parts})
    return encoded


def encode_tool_result(part: ToolReturnPart | RetryPromptPart) -> dict[str, Any]:
    """A tool's return (or retry request) as plain data."""
    plain: dict[str, Any] = _request_part_adapter().dump_python(part, mode="json", fallback=unknown_as_text)
    _keep_non_finite(part, plain)
    return _encode_part(plain)


def _keep_non_finite(part: Any, plain: dict[str, Any]) -> None:
    """Put back the infinities and NaNs that pydantic's JSON mode wrote as null in a part's content or args.

    As null they were saved and compared as null, so the file lost them and the same run, replayed,
    diverged on them with an empty diff; kept, saving refuses them with the field named.
    """
    for field in ("content", "args"):
        value = getattr(part, field, None)
        if isinstance(value, str | None) or field not in plain:
            continue
        kept = to_plain(value)
        if _has_non_finite(kept):
            plain[field] = kept


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False


def _drop_none_defaults(mapping: dict[str, Any]) -> None:
    for key in _NONE_DEFAULTS:
        if key in mapping and mapping[key] is None:
            del mapping[key]


def _encode_part(part: dict[str, Any]) -> dict[str, Any]:
    """A part with its kind first, `None` defaults left out, and tool-call arguments structured."""
    _drop_none_defaults(part)
    out: dict[str, Any] = {"part_kind": part.pop("part_kind")}
    for key, value in part.items():
        if key == "args":
            out.update(_encode_args(value))
        elif key == "content" and out["part_kind"] == "user-prompt" and isinstance(value, list):
            out[key] = [_encode_user_content(item) for item in value]
        else:
            out[key] = value
    return out


def _encode_user_content(item: Any) -> Any:
    """A prompt item with its kind first; binary data as bytes, which YAML writes as a `!!binary` base64
    block and JSON as base64 text, and which the scrubber leaves whole (scrubbing would corrupt it)."""
    if not isinstance(item, dict):
        return item
    out = {"kind": item.get("kind"), **item}
    if out["kind"] == "binary" and isinstance(out.get("data"), str):
        out["data"] = base64.b64decode(out.pop("data"))
    return out


def _encode_args(args: Any) -> dict[str, Any]:
    """`args_json` (+ `args_json_style`) when `args` is JSON text we can reproduce exactly, else `args`."""
    if not isinstance(args, str):
        return {"args": args}
    try:
        decoded = json.loads(args)
    except ValueError:
        return {"args": args}
    if not isinstance(decoded, dict):
        return {"args": args}
    for style, (separators, ascii_only) in JSON_STYLES.items():
        if json.dumps(decoded, separators=separators, ensure_ascii=ascii_only) == args:
            return {"args_json": decoded} if style == "compact" else {"args_json": decoded, "args_json_style": style}
    return {"args": args}


def _encode_event(event: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"event_kind": event.pop("event_kind"), **event}
    if "part" in out:
        out["part"] = FlowDict(_encode_part(out["part"]))
    elif "delta" in out:
        delta = out["delta"]
        kind = delta.pop("part_delta_kind")
        out["delta"] = FlowDict({"part_delta_kind": kind, **{k: v for k, v in delta.items() if v is not None}})
    return out


def _encode_usage(usage: Usage) -> dict[str, Any]:
    plain = dataclasses.asdict(usage)
    return {key: value for key, value in plain.items() if value is not None and not (key == "requests" and value == 0)}


def _encode_tool_call(call: RecordedToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {"node": call.node, "tool_name": call.tool_name, "tool_call_id": call.tool_call_id}
    out.update(_encode_args(to_plain(call.args)))
    if call.external:
        out["external"] = True
    result = encode_tool_result(call.result)
    for key in ("tool_name", "tool_call_id"):  # the same as the call's: written once
        if result.get(key) == out[key]:
            del result[key]
    out["result"] = result
    return out
