"""Cassettes as text for people: a node tree per run (`show`), what changed between two (`diff`), a summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agentkit import (
    ModelMessage,
    ModelRequest,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolReturnPart,
    UserPromptPart,
)
from agentkit.messages import user_prompt_text
from agentkit_testing._cassette._codec import ToolCatalog, encode_run, to_plain
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._io import to_yaml_text
from agentkit_testing._cassette._records import CASSETTE_VERSION, RecordedRequest, RecordedRun
from agentkit_testing._divergence import unified_diff
from agentkit_testing._runtime_text import runtime_node_details

__all__ = ("diff_cassettes", "render_cassette", "render_run", "render_runs", "summarize", "summarize_runs")

_WIDTH = 100
_VOLATILE_KEYS = frozenset({"timestamp", "tool_call_id"})


def summarize(cassette: Cassette) -> str:
    """One line: the file, the format version, and how many runs, requests and tool calls it holds."""
    return summarize_runs(cassette.path, cassette.runs)


def summarize_runs(path: object, runs: Iterable[RecordedRun]) -> str:
    """`summarize` of the cassette file `path` holding `runs`, taken one at a time (none kept)."""
    count = requests = calls = 0
    for run in runs:
        count += 1
        requests += len(run.requests) + len(run.runtime_requests)
        calls += len(run.tool_calls) + len(run.runtime_tool_calls)
    return _summary(path, count, requests, calls)


def _summary(path: object, runs: int, requests: int, calls: int) -> str:
    return (
        f"{path}: agentkit cassette version {CASSETTE_VERSION}, "
        f"{_count(runs, 'run')}, {_count(requests, 'request')}, {_count(calls, 'tool call')}"
    )


def render_cassette(cassette: Cassette) -> str:
    """Every run of the cassette as a node tree."""
    return render_runs(cassette.path, cassette.runs)


def render_runs(path: object, runs: Iterable[RecordedRun]) -> str:
    """`render_cassette` of the file `path` holding `runs`, taken one at a time: only their text is kept."""
    blocks = [""]
    count = requests = calls = 0
    for run in runs:
        count += 1
        requests += len(run.requests) + len(run.runtime_requests)
        calls += len(run.tool_calls) + len(run.runtime_tool_calls)
        blocks.append("\n".join(render_run(run)))
    blocks[0] = _summary(path, count, requests, calls)
    return "\n\n".join(blocks) + "\n"


def render_run(run: RecordedRun) -> list[str]:
    """The lines of one run: a header, then a branch per node with what it sent, got or returned."""
    header = f"{run.id}  agent {run.agent!r}  model {run.model}  prompt {_short(run.user_prompt)}"
    if run.label:
        header += f"  [{run.label}]"
    lines = [header]
    if run.message_history:
        lines.append(f"  (continues a conversation of {_count(len(run.message_history), 'message')})")
    if run.forked_from is not None:
        parent, at = run.forked_from.run, run.forked_from.node
        replayed = f"nodes 0-{at - 1} replayed from it, " if at > 0 else ""
        lines.append(f"  (forked from {parent} at node {at}: {replayed}node {at} on live)")
    if run.runtime is not None:
        lines.append(f"  (recorded under {run.runtime})")
        described = runtime_node_details(run)
    else:
        nodes = list(run.nodes) or [kind for _ in run.requests for kind in ("ModelRequestNode", "CallToolsNode")]
        by_node = {request.node: request for request in run.requests}
        described = [_describe_node(run, index, kind, by_node) for index, kind in enumerate(nodes)]
    for index, (title, details) in enumerate(described):
        last = index == len(described) - 1 and run.error is None
        branch, stem = ("└─", "   ") if last else ("├─", "│  ")
        lines.append(f"{branch} {index} {title}")
        lines.extend(f"{stem}   {detail}" for detail in details)
    if run.error is not None:
        lines.append(f"└─ error: {run.error.type}: {_shorten(run.error.message)}")
    return lines


def _describe_node(
    run: RecordedRun, index: int, kind: str, by_node: dict[int, RecordedRequest]
) -> tuple[str, list[str]]:
    if kind == "ModelRequestNode":
        request = by_node.get(index)
        if request is None:
            return kind, ["(not sent)"]
        details = [line for message in request.messages for line in _message_lines(message)]
        tools = ", ".join(tool.name for tool in request.function_tools)
        details.append(f"tools: {tools or '(none)'}")
        if request.settings:
            details.append(f"settings: {to_plain(request.settings)}")
        return kind, details
    if kind == "CallToolsNode":
        request = by_node.get(index - 1)
        if request is None:
            return kind, []
        response = request.response
        usage = request.usage
        title = f"{kind}  response from {response.model_name}"
        if usage.request_tokens is not None or usage.response_tokens is not None:
            title += f" ({usage.request_tokens} tokens in, {usage.response_tokens} out)"
        if request.stream is not None:
            title += f", streamed in {_count(len(request.stream), 'chunk')}"
        details = []
        for part in response.parts:
            if isinstance(part, TextPart):
                details.append(f"text: {_short(part.content)}")
            else:
                call_id = f"  [{part.tool_call_id}]" if part.tool_call_id is not None else ""
                details.append(f"call {part.tool_name}({_shorten(part.args_as_json_str())}){call_id}")
        for call in run.tool_calls:
            if call.node == index:
                marker = " (external: not called on replay)" if call.external else ""
                details.append(f"→ {call.tool_name} returned {_result_text(call.result)}{marker}")
        return title, details
    if run.result is not None:
        via = f" via {run.result.tool_name}" if run.result.tool_name else ""
        return f"End  data={_shorten(repr(run.result.data))}{via}", []
    return kind, []


def _message_lines(message: ModelMessage) -> Iterable[str]:
    if not isinstance(message, ModelRequest):
        yield f"response: {len(message.parts)} part(s)"
        return
    for part in message.parts:
        if isinstance(part, SystemPromptPart):
            yield f"system prompt: {_short(part.content)}"
        elif isinstance(part, UserPromptPart):
            if isinstance(part.content, str):
                yield f"user prompt: {_short(part.content)}"
            else:  # one line an item; files as `[image-url https://...]`, `[binary image/png, 1234 bytes, ...]`
                for item in part.content:
                    yield f"user prompt: {_short(item) if isinstance(item, str) else user_prompt_text([item])}"
        elif isinstance(part, ToolReturnPart):
            yield f"return of {part.tool_name}: {_result_text(part)}"
        else:
            about = f" for {part.tool_name}" if part.tool_name else ""
            yield f"retry prompt{about}: {_shorten(part.model_response().splitlines()[0])}"


def _result_text(part: ToolReturnPart | RetryPromptPart) -> str:
    if isinstance(part, ToolReturnPart):
        return _shorten(repr(part.content))
    return f"a retry request: {_shorten(part.model_response().splitlines()[0])}"


def diff_cassettes(old: Cassette, new: Cassette, *, exact: bool = False) -> str:
    """What changed from `old` to `new`, run by run, as unified diffs; empty when nothing did.

    Runs are paired by identity (agent, model, prompt) in recording order. Timestamps and
    tool-call ids differ between any two recordings, so they are left out unless `exact`.
    """
    old_name, new_name = str(old.path), str(new.path)
    sections: list[str] = []
    old_catalog, new_catalog = ToolCatalog(), ToolCatalog()
    remaining = list(new.runs)
    for run in old.runs:
        partner = next((other for other in remaining if _identity(other) == _identity(run)), None)
        if partner is None:
            sections.append(f"only in {old_name}: {_title(run)}\n")
            continue
        remaining.remove(partner)
        before = _run_text(run, old_catalog, exact)
        after = _run_text(partner, new_catalog, exact)
        if before != after:
            diff = unified_diff(
                before, after, expected_name=f"{old_name} {run.id}", actual_name=f"{new_name} {partner.id}"
            )
            sections.append(f"{_title(run)} changed:\n{diff}")
    sections.extend(f"only in {new_name}: {_title(run)}\n" for run in remaining)
    tools_before = _clean(old_catalog.entries, exact)
    tools_after = _clean(new_catalog.entries, exact)
    if tools_before != tools_after:
        diff = unified_diff(
            to_yaml_text(tools_before), to_yaml_text(tools_after), expected_name=old_name, actual_name=new_name
        )
        sections.append(f"tool definitions changed:\n{diff}")
    return "\n".join(sections)


def _identity(run: RecordedRun) -> tuple[Any, ...]:
    return run.agent, run.model, run.user_prompt


def _title(run: RecordedRun) -> str:
    return f"run {run.id} (agent {run.agent!r}, model {run.model}, prompt {_short(run.user_prompt)})"


def _run_text(run: RecordedRun, catalog: ToolCatalog, exact: bool) -> str:
    encoded = encode_run(run, catalog)
    del encoded["id"]
    return to_yaml_text(_clean(encoded, exact))


def _clean(value: Any, exact: bool) -> Any:
    if exact:
        return value
    if isinstance(value, list):
        return type(value)(_clean(item, exact) for item in value)
    if isinstance(value, dict):
        cleaned = type(value)()
        for key, item in value.items():
            if key not in _VOLATILE_KEYS:
                cleaned[key] = _clean(item, exact)
        return cleaned
    return value


def _short(text: str) -> str:
    return _shorten(repr(text))


def _shorten(text: str) -> str:
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
