"""Runs of another runtime (pydantic-ai) as text, from their JSON messages: `cassette show` trees and snapshots.

Works on the recorded JSON data only (pydantic-ai's message shape: `part_kind`, `content`,
`tool_name`, `args`, ...), so neither `cassette show` nor this module imports pydantic-ai. Each
request is a `ModelRequestNode` (what it sent) followed by a `CallToolsNode` (what came back and
which tools ran), as for agentkit runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agentkit_testing._cassette._records import RecordedRun, RuntimeRequest

__all__ = ("runtime_node_details", "serialize_runtime_messages")

_WIDTH = 100


def runtime_node_details(run: RecordedRun) -> list[tuple[str, list[str]]]:
    """(title, detail lines) for each node of a runtime run: two per request, then `End` if it ended in text."""
    nodes: list[tuple[str, list[str]]] = []
    for request in run.runtime_requests:
        sent = [line for message in request.messages for line in _part_lines(message.get("parts", ()))]
        tools = [tool.get("name", "?") for tool in (request.parameters or {}).get("function_tools", ())]
        sent.append(f"tools: {', '.join(tools) or '(none)'}")
        if request.settings:
            sent.append(f"settings: {request.settings}")
        nodes.append(("ModelRequestNode", sent))
        nodes.append((_response_title(request), _response_lines(run, request)))
    if run.runtime_requests:
        final = run.runtime_requests[-1]
        outputs = {tool.get("name") for tool in (final.parameters or {}).get("output_tools", ())}
        calls = [part for part in final.response.get("parts", ()) if part.get("part_kind") == "tool-call"]
        if final.response.get("parts") and all(call.get("tool_name") in outputs for call in calls):
            nodes.append(("End", []))  # answered in text, or by an output tool
    return nodes


def _response_title(request: RuntimeRequest) -> str:
    response = request.response
    title = f"CallToolsNode  response from {response.get('model_name')}"
    usage = response.get("usage") or {}
    if "input_tokens" in usage or "output_tokens" in usage:
        title += f" ({usage.get('input_tokens')} tokens in, {usage.get('output_tokens')} out)"
    if request.stream is not None:
        deltas = sum(1 for event in request.stream if event.get("event_kind") == "part_delta")
        title += f", streamed in {len(request.stream)} events ({deltas} deltas)"
    return title


def _response_lines(run: RecordedRun, request: RuntimeRequest) -> list[str]:
    lines = list(_part_lines(request.response.get("parts", ())))
    for call in run.runtime_tool_calls:
        if call.node == request.node:
            marker = " (external: not called on replay)" if call.external else ""
            lines.append(f"→ {call.tool_name} returned {_shorten(json.dumps(call.result))}{marker}")
    return lines


def _part_lines(parts: Iterable[dict[str, Any]]) -> Iterable[str]:
    for part in parts:
        kind = part.get("part_kind")
        if kind in ("system-prompt", "user-prompt", "text", "thinking"):
            content = part.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            yield f"{kind.replace('-', ' ')}: {_shorten(repr(text))}"
        elif kind in ("tool-call", "builtin-tool-call", "native-tool-call"):
            args = part.get("args")
            shown = args if isinstance(args, str) else json.dumps(args)
            yield f"call {part.get('tool_name')}({_shorten(shown)})  [{part.get('tool_call_id')}]"
        elif kind in ("tool-return", "builtin-tool-return", "native-tool-return"):
            yield f"return of {part.get('tool_name')}: {_shorten(json.dumps(part.get('content')))}"
        elif kind == "retry-prompt":
            about = f" for {part['tool_name']}" if part.get("tool_name") else ""
            yield f"retry prompt{about}: {_shorten(json.dumps(part.get('content')))}"
        else:
            yield f"{kind} part"


def serialize_runtime_messages(messages: Sequence[dict[str, Any]], output: Any, usage: dict[str, Any] | None) -> str:
    """A runtime run's messages as snapshot text, in the form of agentkit runs' (`_run_text.serialize_run`).

    One block per node, each line prefixed with the node index; tool-call ids renumbered in order
    of appearance and timestamps left out, so two recordings of the same run give the same text.
    """
    ids: dict[str, str] = {}
    lines: list[str] = []

    def call_id(value: Any) -> str:
        return ids.setdefault(str(value), f"call_{len(ids) + 1}")

    index = 0
    for message in messages:
        request = message.get("kind") == "request"
        model = "" if request else f"  model={message.get('model_name')}"
        lines.append(f"[{index}] {'ModelRequestNode' if request else 'CallToolsNode'}{model}")
        for part in message.get("parts", ()):
            kind = part.get("part_kind")
            head = f"{kind}:"
            if "tool_name" in part:
                head += f" {part['tool_name']}"
            if "tool_call_id" in part:
                head += f"  id={call_id(part['tool_call_id'])}"
            body = part.get("args", part.get("content"))
            if isinstance(body, str) and kind in ("tool-call", "builtin-tool-call", "native-tool-call"):
                body = _maybe_json(body)
            lines.append(f" {index} | {head}")
            lines.extend(
                f" {index} |     {line}" for line in json.dumps(body, indent=2, ensure_ascii=False).splitlines()
            )
        index += 1
    lines.append(f"[{index}] End")
    lines.extend(f" {index} | data: {line}" for line in json.dumps(output, indent=2, ensure_ascii=False).splitlines())
    if usage:
        lines.append("usage: " + " ".join(f"{key}={value}" for key, value in usage.items()))
    return "\n".join(lines) + "\n"


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _shorten(text: str) -> str:
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."
