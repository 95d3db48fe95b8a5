"""Recorded runs to the cassette document (plain data for YAML/JSON) and back, with validation.

The document is described in docs/cassette-format.md. Two encodings keep it readable:
tool definitions are written once, in a `tool_definitions` catalog that requests name; and
tool-call arguments that were JSON text are written as structured `args_json` (with the JSON
style needed to reproduce the exact text), never as an escaped one-line JSON string.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pydantic
import pydantic_core

from agentkit import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequestPart,
    ModelResponse,
    RetryPromptPart,
    ToolDefinition,
    ToolReturnPart,
    Usage,
)
from agentkit_testing._cassette_io import FlowList, find_line
from agentkit_testing._cassette_records import (
    CASSETTE_FORMAT,
    CASSETTE_VERSION,
    RecordedRequest,
    RecordedRun,
    RecordedToolCall,
)
from agentkit_testing._exceptions import CassetteFormatError

__all__ = ("decode_document", "encode_document", "encode_messages", "encode_run", "encode_tool_result", "to_plain")

_JSON_STYLES: dict[str, tuple[tuple[str, str], bool]] = {
    "compact": ((",", ":"), False),
    "compact-ascii": ((",", ":"), True),
    "spaced": ((", ", ": "), False),
    "spaced-ascii": ((", ", ": "), True),
}
"""How `args_json` is turned back into the exact text the model sent; `compact` is the default."""

_NONE_DEFAULTS = ("dynamic_ref", "tool_name", "model_name")
"""Part and message fields whose `None` default is left out of the file."""

_runs_adapter: pydantic.TypeAdapter[list[RecordedRun]] = pydantic.TypeAdapter(list[RecordedRun])
_tools_adapter: pydantic.TypeAdapter[ToolDefinition] = pydantic.TypeAdapter(ToolDefinition)
_request_part_adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ModelRequestPart)


def to_plain(value: Any) -> Any:
    """`value` as JSON-compatible data (dataclasses and pydantic models become dicts)."""
    return pydantic_core.to_jsonable_python(value, serialize_unknown=True)


# --- encoding ------------------------------------------------------------------------------


def encode_document(runs: Sequence[RecordedRun]) -> dict[str, Any]:
    """The whole cassette document for `runs`."""
    catalog = _ToolCatalog()
    encoded = [encode_run(run, catalog) for run in runs]
    document: dict[str, Any] = {"format": CASSETTE_FORMAT, "version": CASSETTE_VERSION}
    if catalog.entries:
        document["tool_definitions"] = catalog.entries
    document["runs"] = encoded
    document["end_of_cassette"] = True
    return document


class _ToolCatalog:
    """Tool definitions by id: the tool's name, or `name~2`, ... when one name has several definitions."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, str] = {}

    def id_for(self, definition: ToolDefinition) -> str:
        entry = {
            "name": definition.name,
            "description": definition.description,
            "parameters_json_schema": to_plain(definition.parameters_json_schema),
        }
        if definition.outer_typed_dict_key is not None:
            entry["outer_typed_dict_key"] = definition.outer_typed_dict_key
        if definition.strict is not None:
            entry["strict"] = definition.strict
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


def encode_run(run: RecordedRun, catalog: _ToolCatalog | None = None) -> dict[str, Any]:
    """One run as plain data; tool definitions go into `catalog` (inline when there is none)."""
    out: dict[str, Any] = {"id": run.id}
    if run.label is not None:
        out["label"] = run.label
    out["agent"] = run.agent
    out["model"] = run.model
    out["user_prompt"] = run.user_prompt
    if run.streamed:
        out["streamed"] = True
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
    if run.tool_calls:
        out["tool_calls"] = [_encode_tool_call(call) for call in run.tool_calls]
    if run.closing_messages:
        out["closing_messages"] = encode_messages(run.closing_messages)
    return out


def _encode_request(request: RecordedRequest, catalog: _ToolCatalog | None) -> dict[str, Any]:
    out: dict[str, Any] = {"node": request.node, "messages": encode_messages(request.messages)}
    if request.settings:
        out["settings"] = to_plain(request.settings)
    if catalog is None:
        out["tools"] = [to_plain(tool) for tool in request.function_tools]
    else:
        out["tools"] = FlowList(catalog.id_for(tool) for tool in request.function_tools)
    if not request.allow_text_result:
        out["allow_text_result"] = False
    if request.result_tools:
        if catalog is None:
            out["result_tools"] = [to_plain(tool) for tool in request.result_tools]
        else:
            out["result_tools"] = FlowList(catalog.id_for(tool) for tool in request.result_tools)
    out["response"] = _encode_response(request.response)
    out["usage"] = _encode_usage(request.usage)
    if request.stream is not None:
        out["stream"] = [_encode_event(to_plain(event)) for event in request.stream]
    return out


def encode_messages(messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
    plain: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json", fallback=repr)
    encoded: list[dict[str, Any]] = []
    for message in plain:
        _drop_none_defaults(message)
        parts = [_encode_part(part) for part in message.pop("parts")]
        kind = message.pop("kind")
        encoded.append({"kind": kind, **message, "parts": parts})
    return encoded


def _encode_response(response: ModelResponse) -> dict[str, Any]:
    return encode_messages([response])[0]


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
        else:
            out[key] = value
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
    for style, (separators, ascii_only) in _JSON_STYLES.items():
        if json.dumps(decoded, separators=separators, ensure_ascii=ascii_only) == args:
            return {"args_json": decoded} if style == "compact" else {"args_json": decoded, "args_json_style": style}
    return {"args": args}


def _encode_event(event: dict[str, Any]) -> dict[str, Any]:
    if "part" in event:
        event["part"] = _encode_part(event["part"])
    elif "delta" in event:
        event["delta"] = {key: value for key, value in event["delta"].items() if value is not None}
    return event


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


def encode_tool_result(part: ToolReturnPart | RetryPromptPart) -> dict[str, Any]:
    """A tool's return (or retry request) as plain data, as written in `tool_calls[].result`."""
    plain: dict[str, Any] = _request_part_adapter.dump_python(part, mode="json", fallback=repr)
    return _encode_part(plain)


# --- decoding ------------------------------------------------------------------------------


def decode_document(document: dict[str, Any], path: Path, data: bytes) -> list[RecordedRun]:
    """The runs of a parsed cassette document; `CassetteFormatError` naming the line and field if invalid."""
    _check_header(document, path, data)
    catalog = _decode_catalog(document.get("tool_definitions"), path, data)
    runs = document.get("runs")
    if not isinstance(runs, list):
        _fail(path, data, ["runs"], f"'runs' must be a list of runs, got {type(runs).__name__}")
    for index, run in enumerate(runs):
        _prepare_run(run, ["runs", index], catalog, path, data)
    try:
        decoded = _runs_adapter.validate_python(runs)
    except pydantic.ValidationError as error:
        first = error.errors(include_url=False)[0]
        location = ["runs", *_file_location(first["loc"])]
        shown = repr(first.get("input"))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        missing = first["type"] == "missing"
        detail = f"missing field {location[-1]!r}" if missing else f"{first['msg']} (got {shown})"
        _fail(path, data, location, detail)
    first_index: dict[str, int] = {}
    for index, run in enumerate(decoded):
        if run.id in first_index:
            _fail(path, data, ["runs", index, "id"], f"duplicate run id {run.id!r} (also runs[{first_index[run.id]}])")
        first_index[run.id] = index
    return decoded


def _check_header(document: dict[str, Any], path: Path, data: bytes) -> None:
    if document.get("format") != CASSETTE_FORMAT:
        _fail(
            path,
            data,
            ["format"],
            f"not an agentkit cassette: 'format' must be {CASSETTE_FORMAT!r}, got {document.get('format')!r}",
        )
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        _fail(path, data, ["version"], f"'version' must be an integer, got {version!r}")
    if version != CASSETTE_VERSION:
        newer = " (written by a newer agentkit; upgrade agentkit to read it)" if version > CASSETTE_VERSION else ""
        _fail(
            path,
            data,
            ["version"],
            f"unsupported cassette version {version}{newer}; this agentkit reads version {CASSETTE_VERSION}",
        )
    if document.get("end_of_cassette") is not True:
        last_line = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        raise CassetteFormatError(
            f"{path}:{last_line}: cassette is truncated: it ends (line {last_line}) without the final "
            "'end_of_cassette: true'. Restore it from version control or record it again.",
            path=path,
            line=last_line,
            field="end_of_cassette",
        )


def _decode_catalog(entries: Any, path: Path, data: bytes) -> dict[str, ToolDefinition]:
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        _fail(path, data, ["tool_definitions"], "'tool_definitions' must be a mapping of tool ids to definitions")
    catalog: dict[str, ToolDefinition] = {}
    for identity, entry in entries.items():
        where = ["tool_definitions", identity]
        if not isinstance(entry, dict):
            _fail(path, data, where, f"tool definition {identity!r} must be a mapping")
        try:
            catalog[str(identity)] = _tools_adapter.validate_python({"name": identity, **entry})
        except pydantic.ValidationError as error:
            first = error.errors(include_url=False)[0]
            _fail(path, data, [*where, *_file_location(first["loc"])], first["msg"])
    return catalog


def _prepare_run(run: Any, where: list[str | int], catalog: dict[str, ToolDefinition], path: Path, data: bytes) -> None:
    """Turn the file's encodings (tool ids, `args_json`) back into what the records hold, in place."""
    if not isinstance(run, dict):
        _fail(path, data, where, f"a run must be a mapping, got {type(run).__name__}")
    for name in ("message_history", "closing_messages"):
        _prepare_messages(run.get(name), [*where, name], path, data)
    requests = run.get("requests")
    for index, request in enumerate(requests if isinstance(requests, list) else ()):
        at: list[str | int] = [*where, "requests", index]
        if not isinstance(request, dict):
            continue
        _prepare_messages(request.get("messages"), [*at, "messages"], path, data)
        response = request.get("response")
        if isinstance(response, dict):
            _prepare_parts(response.get("parts"), [*at, "response", "parts"], path, data)
        for name, target in (("tools", "function_tools"), ("result_tools", "result_tools")):
            if name in request:
                request[target] = _resolve_tools(request.pop(name), [*at, name], catalog, path, data)
        for position, event in enumerate(request.get("stream") or ()):
            if isinstance(event, dict) and isinstance(event.get("part"), dict):
                _prepare_args(event["part"], [*at, "stream", position, "part"], path, data)
    calls = run.get("tool_calls")
    for index, call in enumerate(calls if isinstance(calls, list) else ()):
        if isinstance(call, dict):
            _prepare_args(call, [*where, "tool_calls", index], path, data)
            result = call.get("result")
            if isinstance(result, dict):
                for key in ("tool_name", "tool_call_id"):
                    if key in call:
                        result.setdefault(key, call[key])


def _prepare_messages(messages: Any, where: list[str | int], path: Path, data: bytes) -> None:
    for index, message in enumerate(messages if isinstance(messages, list) else ()):
        if isinstance(message, dict):
            _prepare_parts(message.get("parts"), [*where, index, "parts"], path, data)


def _prepare_parts(parts: Any, where: list[str | int], path: Path, data: bytes) -> None:
    for index, part in enumerate(parts if isinstance(parts, list) else ()):
        if isinstance(part, dict) and part.get("part_kind") == "tool-call":
            _prepare_args(part, [*where, index], path, data)


def _prepare_args(mapping: dict[str, Any], where: list[str | int], path: Path, data: bytes) -> None:
    if "args_json" not in mapping:
        return
    value = mapping.pop("args_json")
    style = mapping.pop("args_json_style", "compact")
    if style not in _JSON_STYLES:
        _fail(
            path, data, [*where, "args_json_style"], f"unknown args_json_style {style!r}; one of {list(_JSON_STYLES)}"
        )
    if not isinstance(value, dict):
        _fail(path, data, [*where, "args_json"], f"'args_json' must be a mapping, got {type(value).__name__}")
    separators, ascii_only = _JSON_STYLES[style]
    mapping["args"] = json.dumps(value, separators=separators, ensure_ascii=ascii_only)


def _resolve_tools(
    names: Any, where: list[str | int], catalog: dict[str, ToolDefinition], path: Path, data: bytes
) -> list[Any]:
    if not isinstance(names, list):
        _fail(path, data, where, f"must be a list of tool ids, got {type(names).__name__}")
    resolved: list[Any] = []
    for index, name in enumerate(names):
        if isinstance(name, dict):
            resolved.append(name)  # an inline definition
        elif name in catalog:
            resolved.append(catalog[name])
        else:
            _fail(path, data, [*where, index], f"unknown tool id {name!r}: it is not in 'tool_definitions'")
    return resolved


_RENAMED = {"function_tools": "tools"}


def _file_location(location: Sequence[str | int]) -> list[str | int]:
    return [_RENAMED.get(element, element) if isinstance(element, str) else element for element in location]


def _fail(path: Path, data: bytes, location: list[str | int], detail: str) -> NoReturn:
    line, found = find_line(data, location)
    if len(found) < len(location) and location and not isinstance(location[-1], int):
        found = [*found, location[-1]]
    field = _format_field(found or location)
    where = f"{path}:{line}" if line is not None else str(path)
    raise CassetteFormatError(
        f"{where}: invalid cassette field {field}: {detail}", path=path, line=line, field=field
    ) from None


def _format_field(location: Sequence[str | int]) -> str:
    text = ""
    for element in location:
        text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else str(element))
    return text
