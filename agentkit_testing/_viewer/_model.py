"""What the cassette page shows, as plain data: runs, their node timeline, and the rows of each node.

The HTML templates (`_viewer.py`) only lay these out; everything a reviewer reads is decided here,
so it can be tested without a browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from agentkit import (
    ModelMessage,
    ModelRequest,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
    ToolReturnPart,
    UserPromptPart,
)
from agentkit_testing._cassette._codec import to_plain
from agentkit_testing._cassette._records import RecordedRequest, RecordedRun

__all__ = ("NodeView", "Row", "RowKind", "RunView", "build_run_views", "pair_runs")

RowKind: TypeAlias = Literal[
    "system", "user", "tool-return", "retry", "text", "tool-call", "result", "error", "settings", "tools", "note"
]

_ONE_LINE = 100

FOLD_AT = 240
"""Values longer than this many characters are folded behind a toggle on the page."""


@dataclass(frozen=True)
class Row:
    """One line of a node: who said what (a prompt, a tool call, a return, a result)."""

    kind: RowKind
    label: str
    text: str
    note: str = ""
    """Shown beside the label but not compared between recordings (e.g. a tool-call id)."""

    @property
    def folded(self) -> bool:
        return len(self.text) > FOLD_AT or "\n" in self.text.strip()


@dataclass(frozen=True)
class NodeView:
    """One node of a run's timeline."""

    index: int
    kind: str
    title: str
    rows: tuple[Row, ...] = ()
    tokens_in: int | None = None
    tokens_out: int | None = None
    chunks: tuple[str, ...] | None = None
    """The streamed chunks of the response, with their boundaries, when it was streamed."""
    flagged: bool = False
    """Retries and errors are marked on the timeline."""

    def fingerprint(self) -> str:
        """What the node shows, for comparing it with its counterpart in another recording."""
        return json.dumps([self.kind, [(row.kind, row.label, row.text) for row in self.rows]], sort_keys=True)


@dataclass(frozen=True)
class RunView:
    """One run: a header and its nodes."""

    id: str
    agent: str | None
    model: str
    prompt: str
    label: str | None
    streamed: bool
    nodes: tuple[NodeView, ...]
    history: int = 0
    failed: bool = False
    forked_from: tuple[str, int] | None = None
    """(parent run id, fork node) of a run made by `fork`: its nodes before that node were replayed."""
    search_text: str = field(default="", repr=False)

    @property
    def max_tokens(self) -> int:
        counts = [count for node in self.nodes for count in (node.tokens_in, node.tokens_out) if count]
        return max(counts, default=0)


def build_run_views(runs: Sequence[RecordedRun]) -> list[RunView]:
    """The page's view of every run, in cassette order."""
    return [_run_view(run) for run in runs]


def pair_runs(old: Sequence[RunView], new: Sequence[RunView]) -> list[tuple[RunView | None, RunView | None]]:
    """Runs of two recordings side by side: by id first, the rest in order; missing sides are None."""
    new_by_id = {run.id: run for run in new}
    pairs: list[tuple[RunView | None, RunView | None]] = []
    used: set[str] = set()
    for run in old:
        match = new_by_id.get(run.id)
        if match is not None:
            used.add(match.id)
        pairs.append((run, match))
    pairs.extend((None, run) for run in new if run.id not in used)
    return pairs


def _run_view(run: RecordedRun) -> RunView:
    by_node = {request.node: request for request in run.requests}
    kinds = list(run.nodes) or [kind for _ in run.requests for kind in ("ModelRequestNode", "CallToolsNode")]
    nodes = [_node_view(run, index, kind, by_node) for index, kind in enumerate(kinds)]
    if run.error is not None:
        error = Row("error", run.error.type, run.error.message)
        nodes.append(NodeView(len(nodes), "Error", f"run failed: {run.error.type}", (error,), flagged=True))
    prompt = run.user_prompt
    words = [run.id, run.agent or "", run.model, prompt, run.label or ""]
    words.extend(row.text for node in nodes for row in node.rows)
    return RunView(
        id=run.id,
        agent=run.agent,
        model=run.model,
        prompt=prompt,
        label=run.label,
        streamed=run.streamed,
        nodes=tuple(nodes),
        history=len(run.message_history or ()),
        failed=run.error is not None,
        forked_from=(run.forked_from.run, run.forked_from.node) if run.forked_from is not None else None,
        search_text=" ".join(words).lower(),
    )


def _node_view(run: RecordedRun, index: int, kind: str, by_node: dict[int, RecordedRequest]) -> NodeView:
    if kind == "ModelRequestNode":
        request = by_node.get(index)
        if request is None:
            return NodeView(index, kind, "request (not sent)")
        rows = [row for message in request.messages for row in _message_rows(message)]
        tools = ", ".join(tool.name for tool in (*request.function_tools, *request.result_tools))
        rows.append(Row("tools", "tools offered", tools or "(none)"))
        if request.settings:
            rows.append(Row("settings", "settings", _json(request.settings)))
        flagged = any(row.kind == "retry" for row in rows)
        return NodeView(index, kind, "request", tuple(rows), flagged=flagged)
    if kind == "CallToolsNode":
        request = by_node.get(index - 1)
        if request is None:
            return NodeView(index, kind, "response")
        rows = list(_response_rows(request))
        for call in run.tool_calls:
            if call.node == index:
                label = f"{call.tool_name} returned" + (" (external)" if call.external else "")
                rows.append(_result_row(call.result, label))
        return NodeView(
            index,
            kind,
            f"response from {request.response.model_name or run.model}",
            tuple(rows),
            tokens_in=request.usage.request_tokens,
            tokens_out=request.usage.response_tokens,
            chunks=_chunks(request),
            flagged=any(row.kind == "retry" for row in rows),
        )
    if run.result is not None:
        via = f" via {run.result.tool_name}" if run.result.tool_name else ""
        return NodeView(index, kind, f"end{via}", (Row("result", "result", _json(run.result.data)),))
    return NodeView(index, kind, "end")


def _message_rows(message: ModelMessage) -> Iterable[Row]:
    if not isinstance(message, ModelRequest):
        yield Row("note", "response", f"{len(message.parts)} part(s)")
        return
    for part in message.parts:
        if isinstance(part, SystemPromptPart):
            yield Row("system", "system prompt", part.content)
        elif isinstance(part, UserPromptPart):
            yield Row("user", "user prompt", _user_content(part.content))
        else:
            yield _result_row(part, f"return of {part.tool_name}" if part.tool_name else "tool result")


def _result_row(part: ToolReturnPart | RetryPromptPart, label: str) -> Row:
    if isinstance(part, ToolReturnPart):
        return Row("tool-return", label, _json(to_plain(part.content)))
    about = f"retry request for {part.tool_name}" if part.tool_name else "retry request"
    return Row("retry", about, part.model_response())


def _response_rows(request: RecordedRequest) -> Iterable[Row]:
    for part in request.response.parts:
        if isinstance(part, TextPart):
            yield Row("text", "text", part.content)
        elif isinstance(part, ToolCallPart):
            arguments = _json_text(part.args_as_json_str())
            yield Row("tool-call", f"call {part.tool_name}", arguments, part.tool_call_id or "")
        else:
            yield Row("note", type(part).__name__, repr(part))


def _chunks(request: RecordedRequest) -> tuple[str, ...] | None:
    if request.stream is None:
        return None
    chunks: list[str] = []
    for event in request.stream:
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart):
                chunks.append(part.content)
            elif isinstance(part, ToolCallPart):
                chunks.append(part.args_as_json_str() if part.args else part.tool_name)
        elif isinstance(event, PartDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextPartDelta):
                chunks.append(delta.content_delta)
            elif isinstance(delta, ToolCallPartDelta):
                chunks.append(str(delta.args_delta or delta.tool_name_delta or ""))
    return tuple(chunks)


def _user_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(item if isinstance(item, str) else _describe_content(item) for item in content)


def _describe_content(item: Any) -> str:
    url = getattr(item, "url", None)
    if url is not None:
        return f"[{getattr(item, 'kind', 'url')} {url}]"
    data = getattr(item, "data", None)
    if isinstance(data, bytes):
        return f"[binary {getattr(item, 'media_type', '?')}, {len(data)} bytes]"
    return repr(item)


def _json(value: Any) -> str:
    """Short values on one line, longer ones indented for reading."""
    if isinstance(value, str):
        return value
    try:
        plain = to_plain(value)
        compact = json.dumps(plain, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
    return compact if len(compact) <= _ONE_LINE else json.dumps(plain, indent=2, ensure_ascii=False)


def _json_text(text: str) -> str:
    try:
        return _json(json.loads(text))
    except ValueError:
        return text
