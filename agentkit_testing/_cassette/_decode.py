"""The cassette document back to recorded runs, validated; errors name the file, the line and the field."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import pydantic

from agentkit import ToolDefinition
from agentkit_testing._cassette._codec import JSON_STYLES
from agentkit_testing._cassette._io import find_line
from agentkit_testing._cassette._parse._limits import format_field
from agentkit_testing._cassette._records import (
    CASSETTE_FORMAT,
    CASSETTE_VERSION,
    RecordedRun,
    RecordedToolCall,
    derive_tool_calls,
)
from agentkit_testing._exceptions import CassetteFormatError

__all__ = ("check_header", "decode_catalog", "decode_document", "decode_one_run")


# The adapters are made at first use, not at import: building their schemas is most of this
# module's import cost, which a process that never reads a cassette should not pay.
@functools.cache
def _runs_adapter() -> pydantic.TypeAdapter[list[RecordedRun]]:
    return pydantic.TypeAdapter(list[RecordedRun])


@functools.cache
def _run_adapter() -> pydantic.TypeAdapter[RecordedRun]:
    return pydantic.TypeAdapter(RecordedRun)


@functools.cache
def _tools_adapter() -> pydantic.TypeAdapter[ToolDefinition]:
    return pydantic.TypeAdapter(ToolDefinition)


Location = list[str | int]

_TIMESTAMPED_KINDS = frozenset({"user-prompt", "tool-return", "retry-prompt", "response"})
"""The `part_kind` or `kind` of the parts and messages whose timestamp the file records."""


def decode_document(document: dict[str, Any], path: Path, data: bytes) -> list[RecordedRun]:
    """The runs of a parsed cassette document; `CassetteFormatError` naming the line and field if invalid."""
    check_header(document, path, data)
    catalog = decode_catalog(document.get("tool_definitions"), path, data)
    runs = document.get("runs")
    if not isinstance(runs, list):
        _fail(path, data, ["runs"], f"'runs' must be a list of runs, got {type(runs).__name__}")
    for index, run in enumerate(runs):
        _prepare_run(run, ["runs", index], catalog, path, data)
    try:
        decoded = _runs_adapter().validate_python(runs)
    except pydantic.ValidationError as error:
        _invalid_run(error, ["runs"], path, data)
    first_index: dict[str, int] = {}
    for index, run in enumerate(decoded):
        if run.id in first_index:
            _fail(path, data, ["runs", index, "id"], f"duplicate run id {run.id!r} (also runs[{first_index[run.id]}])")
        first_index[run.id] = index
    return [_with_derived_tool_calls(run) for run in decoded]


def decode_one_run(
    document: dict[str, Any], index: int, catalog: dict[str, ToolDefinition], path: Path, data: bytes
) -> RecordedRun:
    """Run `index` of a parsed document holding (at least) that run, validated; `data` is the document's text.

    Loading a cassette lazily decodes each run on its own, from its text in the file, this way.
    """
    runs = document.get("runs")
    if not isinstance(runs, list) or len(runs) <= index:
        _fail(path, data, ["runs"], f"'runs' must be a list of runs, got {type(runs).__name__}")
    run = runs[index]
    _prepare_run(run, ["runs", index], catalog, path, data)
    try:
        decoded = _run_adapter().validate_python(run)
    except pydantic.ValidationError as error:
        _invalid_run(error, ["runs", index], path, data)
    return _with_derived_tool_calls(decoded)


def _invalid_run(error: pydantic.ValidationError, prefix: Location, path: Path, data: bytes) -> NoReturn:
    first = error.errors(include_url=False)[0]
    location: Location = [*prefix, *(_RENAMED.get(str(item), item) for item in first["loc"])]
    shown = repr(first.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    missing = first["type"] == "missing"
    _fail(path, data, location, f"missing field {location[-1]!r}" if missing else f"{first['msg']} (got {shown})")


_RENAMED: dict[str, str | int] = {
    "function_tools": "tools",
    "runtime_history": "message_history",
    "runtime_requests": "requests",
    "runtime_tool_calls": "tool_calls",
}
"""Record fields spelled differently in the file, for error locations."""


def check_header(document: dict[str, Any], path: Path, data: bytes) -> None:
    """Refuse a document that is not an agentkit cassette of this version, or lacks its end marker."""
    if document.get("format") != CASSETTE_FORMAT:
        found = document.get("format")
        _fail(path, data, ["format"], f"not an agentkit cassette: 'format' must be {CASSETTE_FORMAT!r}, got {found!r}")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        _fail(path, data, ["version"], f"'version' must be an integer, got {version!r}")
    if version != CASSETTE_VERSION:
        newer = " (written by a newer agentkit: upgrade agentkit to read it)" if version > CASSETTE_VERSION else ""
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


def decode_catalog(entries: Any, path: Path, data: bytes) -> dict[str, ToolDefinition]:
    """The `tool_definitions` catalog: tool ids to definitions."""
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        _fail(path, data, ["tool_definitions"], "'tool_definitions' must be a mapping of tool ids to definitions")
    catalog: dict[str, ToolDefinition] = {}
    for identity, entry in entries.items():
        where: Location = ["tool_definitions", identity]
        if not isinstance(entry, dict):
            _fail(path, data, where, f"tool definition {identity!r} must be a mapping")
        try:
            catalog[str(identity)] = _tools_adapter().validate_python({"name": identity, **entry})
        except pydantic.ValidationError as error:
            first = error.errors(include_url=False)[0]
            _fail(path, data, [*where, *first["loc"]], first["msg"])
    return catalog


def _prepare_run(run: Any, where: Location, catalog: dict[str, ToolDefinition], path: Path, data: bytes) -> None:
    """Turn the file's encodings (tool ids, `args_json`, ...) back into what the records hold, in place."""
    if not isinstance(run, dict):
        _fail(path, data, where, f"a run must be a mapping, got {type(run).__name__}")
    if run.get("runtime") is not None:
        # Another runtime's run keeps its messages in that runtime's JSON shape: only renamed here.
        for name, target in (("message_history", "runtime_history"), ("requests", "runtime_requests")):
            if name in run:
                run[target] = run.pop(name)
        if "tool_calls" in run:
            run["runtime_tool_calls"] = run.pop("tool_calls")
        previous: dict[str, Any] = {}
        requests = run.get("runtime_requests")
        for request in requests if isinstance(requests, list) else ():
            for name in ("parameters", "settings") if isinstance(request, dict) else ():
                request[name] = previous[name] = request.get(name, previous.get(name)) or None
        return
    for name in ("message_history", "closing_messages"):
        _prepare_messages(run.get(name), [*where, name], path, data)
    requests = run.get("requests")
    for index, request in enumerate(requests if isinstance(requests, list) else ()):
        if isinstance(request, dict):
            _prepare_request(request, [*where, "requests", index], catalog, path, data)
    calls = run.get("tool_calls")
    for index, call in enumerate(calls if isinstance(calls, list) else ()):
        if not isinstance(call, dict):
            continue
        _prepare_args(call, [*where, "tool_calls", index], path, data)
        result = call.get("result")
        if isinstance(result, dict):
            _prepare_timestamp(result, [*where, "tool_calls", index, "result"], path, data)
            for key in ("tool_name", "tool_call_id"):
                if key in call:
                    result.setdefault(key, call[key])


def _prepare_request(
    request: dict[str, Any], at: Location, catalog: dict[str, ToolDefinition], path: Path, data: bytes
) -> None:
    if "request" in request:
        request["messages"] = [{"kind": "request", "parts": request.pop("request")}]
        _prepare_parts(request["messages"][0]["parts"], [*at, "request"], path, data)
    else:
        _prepare_messages(request.get("messages"), [*at, "messages"], path, data)
    response = request.get("response")
    if isinstance(response, dict):
        response.setdefault("kind", "response")
        _prepare_timestamp(response, [*at, "response"], path, data)
        _prepare_parts(response.get("parts"), [*at, "response", "parts"], path, data)
    for name, target in (("tools", "function_tools"), ("result_tools", "result_tools")):
        if name in request:
            request[target] = _resolve_tools(request.pop(name), [*at, name], catalog, path, data)
    stream = request.get("stream")
    for position, event in enumerate(stream if isinstance(stream, list) else ()):
        if isinstance(event, dict) and isinstance(event.get("part"), dict):
            _prepare_args(event["part"], [*at, "stream", position, "part"], path, data)


def _prepare_messages(messages: Any, where: Location, path: Path, data: bytes) -> None:
    for index, message in enumerate(messages if isinstance(messages, list) else ()):
        if isinstance(message, dict):
            _prepare_timestamp(message, [*where, index], path, data)
            _prepare_parts(message.get("parts"), [*where, index, "parts"], path, data)


def _prepare_parts(parts: Any, where: Location, path: Path, data: bytes) -> None:
    for index, part in enumerate(parts if isinstance(parts, list) else ()):
        if not isinstance(part, dict):
            continue
        if part.get("part_kind") == "tool-call":
            _prepare_args(part, [*where, index], path, data)
        else:
            _prepare_timestamp(part, [*where, index], path, data)


def _prepare_timestamp(mapping: dict[str, Any], where: Location, path: Path, data: bytes) -> None:
    """Parse an ISO timestamp here, so a UTC one gets `datetime.timezone.utc` as the live run's do.

    A message or part that carries a timestamp must have one in the file: left out, validation
    would fill in the clock's time, a different one on every load, and a saved copy of the
    cassette would no longer load to the same runs.
    """
    kind = mapping.get("part_kind", mapping.get("kind"))
    if "timestamp" not in mapping and isinstance(kind, str) and kind in _TIMESTAMPED_KINDS:
        _fail(path, data, where, "missing 'timestamp' (an ISO 8601 time such as '2025-03-15T12:00:00Z')")
    value = mapping.get("timestamp")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # else left for validation to report, with its place
            mapping["timestamp"] = datetime.fromisoformat(value)


def _prepare_args(mapping: dict[str, Any], where: Location, path: Path, data: bytes) -> None:
    if "args_json" not in mapping:
        return
    value = mapping.pop("args_json")
    style = mapping.pop("args_json_style", "compact")
    if not isinstance(style, str) or style not in JSON_STYLES:
        _fail(path, data, [*where, "args_json_style"], f"unknown args_json_style {style!r}; one of {list(JSON_STYLES)}")
    if not isinstance(value, dict):
        _fail(path, data, [*where, "args_json"], f"'args_json' must be a mapping, got {type(value).__name__}")
    separators, ascii_only = JSON_STYLES[style]
    try:
        mapping["args"] = json.dumps(value, separators=separators, ensure_ascii=ascii_only)
    except TypeError as error:  # e.g. !!binary bytes: JSON text has no such value
        _fail(path, data, [*where, "args_json"], f"'args_json' must hold JSON data only ({error})")


def _resolve_tools(
    names: Any, where: Location, catalog: dict[str, ToolDefinition], path: Path, data: bytes
) -> list[Any]:
    if not isinstance(names, list):
        _fail(path, data, where, f"must be a list of tool ids, got {type(names).__name__}")
    resolved: list[Any] = []
    for index, name in enumerate(names):
        if isinstance(name, dict):
            resolved.append(name)  # an inline definition
        elif isinstance(name, str) and name in catalog:
            resolved.append(catalog[name])
        else:
            _fail(path, data, [*where, index], f"unknown tool id {name!r}: it is not in 'tool_definitions'")
    return resolved


def _with_derived_tool_calls(run: RecordedRun) -> RecordedRun:
    """The run with the tool calls its requests show, besides those written out in `tool_calls`."""
    derived = derive_tool_calls(run)
    if not derived:
        return run
    explicit = {call.tool_call_id: call for call in run.tool_calls}
    calls: list[RecordedToolCall] = [explicit.pop(call.tool_call_id, call) for call in derived]
    for call in explicit.values():
        position = next((i for i, known in enumerate(calls) if known.node > call.node), len(calls))
        calls.insert(position, call)
    return dataclasses.replace(run, tool_calls=tuple(calls))


def _fail(path: Path, data: bytes, location: Sequence[str | int], detail: str) -> NoReturn:
    line, found = find_line(data, location)
    for index in range(len(location) - 2):
        if list(location[index : index + 3]) == ["messages", 0, "parts"]:
            # A request of one message is written as `request: [parts]`.
            variant = [*location[:index], "request", *location[index + 3 :]]
            variant_line, variant_found = find_line(data, variant)
            if len(variant_found) > len(found):
                line, found, location = variant_line, variant_found, variant
            break
    if location and found[-1:] != [location[-1]] and not isinstance(location[-1], int):
        found = [*found, location[-1]]  # a missing field: name it under its parent
    field = format_field(found or location)
    where = f"{path}:{line}" if line is not None else str(path)
    raise CassetteFormatError(
        f"{where}: invalid cassette field {field}: {detail}", path=path, line=line, field=field
    ) from None
