"""A run as stable, readable text: one block per node, ids renumbered, timestamps left out.

Used by the syrupy extension in `_snapshot`, and useful on its own (printing, diffing). Two runs
that differ only in tool-call ids and timestamps give the same text. Each line inside a node
starts with the node's index, so a diff always says which node changed::

    [0] ModelRequestNode
     0 | user-prompt: "What is the weather in Paris?"
    [1] CallToolsNode  model=function:weather
     1 | tool-call: get_weather  id=call_1
     1 |     {
     1 |       "city": "Paris"
     1 |     }
    [2] ModelRequestNode
     2 | tool-return: get_weather  id=call_1
     2 |     "sunny"
    [3] CallToolsNode  model=function:weather
     3 | text: "It is sunny."
    [4] End
     4 | data: "It is sunny."
    usage: requests=2 request_tokens=108 response_tokens=5 total_tokens=113
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pydantic_core

from agentkit import (
    AgentRun,
    CallToolsNode,
    End,
    FinalResult,
    ModelMessage,
    ModelRequest,
    ModelRequestNode,
    ModelResponse,
    RetryPromptPart,
    RunResult,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    Usage,
    UserContent,
    UserError,
    UserPromptPart,
)
from agentkit.messages import user_prompt_text

__all__ = ("NODE_HEADER", "TOP_LEVEL_LINE", "serialize_run")

INDENT = "    "
NODE_HEADER = re.compile(r"^\[(\d+)\] (\w+)", re.MULTILINE)
"""Matches the first line of each node's block: its index and kind."""
TOP_LEVEL_LINE = re.compile(r"^(?:\[\d+\] |usage: |\(not finished)", re.MULTILINE)
"""Matches the lines that start a block: node headers, the usage line, the unfinished-run note."""

RunLike = AgentRun[Any, Any] | RunResult[Any] | Sequence[Any]


def serialize_run(run: RunLike) -> str:
    """The text of a run: an `AgentRun`, a `RunResult`, a list of nodes, or a list of messages.

    From a run or a result the blocks are rebuilt from `new_messages()`, with the final result
    and the usage; a list of nodes shows exactly what the nodes hold.
    """
    writer = _Writer()
    if isinstance(run, AgentRun):
        end = run.next_node if isinstance(run.next_node, End) else None
        writer.messages(run.new_messages(), end.data if end else None, finished=run.result is not None)
        if run.result is None:
            writer.line(f"(not finished; next node: {type(run.next_node).__name__})")
        writer.usage(run.usage())
    elif isinstance(run, RunResult):
        writer.messages(run.new_messages(), FinalResult(run.data), finished=True)
        writer.usage(run.usage())
    elif isinstance(run, Sequence) and not isinstance(run, str | bytes):
        if all(isinstance(item, ModelRequest | ModelResponse) for item in run):
            writer.messages(list(run), None, finished=False)
        else:
            writer.nodes(run)
    else:
        raise UserError(
            f"serialize_run expected an AgentRun, a RunResult, or a list of nodes or messages, got {type(run).__name__}"
        )
    return writer.text()


def _json(value: Any) -> str:
    plain = pydantic_core.to_jsonable_python(value, fallback=repr)
    return json.dumps(plain, indent=2, ensure_ascii=False)


class _Writer:
    """Accumulates lines, renumbering tool-call ids in order of appearance."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._ids: dict[str, str] = {}
        self._index = 0

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"

    def line(self, text: str, depth: int = 0) -> None:
        # Every line inside a node carries the node's index in a gutter, so that any diff of two
        # run texts shows which node a changed line belongs to, whatever context the diff keeps.
        gutter = f"{self._index - 1:>2} | " if depth else ""
        self._lines.append(gutter + INDENT * (depth - 1) + text if depth else text)

    def block(self, text: str, depth: int) -> None:
        for line in text.splitlines() or [""]:
            self.line(line, depth)

    def call_id(self, original: str | None) -> str:
        if original is None:
            return "-"
        return self._ids.setdefault(original, f"call_{len(self._ids) + 1}")

    def header(self, kind: str, extra: str = "") -> None:
        self.line(f"[{self._index}] {kind}{extra}")
        self._index += 1

    # --- sources ---------------------------------------------------------------------------

    def nodes(self, nodes: Sequence[Any]) -> None:
        for node in nodes:
            if isinstance(node, ModelRequestNode):
                self.request(node.request)
            elif isinstance(node, CallToolsNode):
                self.response(node.model_response)
            elif isinstance(node, End):
                self.end(node.data, None)
            else:
                raise UserError(
                    f"serialize_run: item {self._index} is a {type(node).__name__}, expected a node "
                    "(ModelRequestNode, CallToolsNode, End) or a message (ModelRequest, ModelResponse)"
                )

    def messages(self, messages: list[ModelMessage], final: FinalResult[Any] | None, *, finished: bool) -> None:
        # A run that ends through a result tool sends the tool's return in one last request that
        # no ModelRequestNode carries: it belongs to the End block.
        folded = messages[-1] if finished and messages and isinstance(messages[-1], ModelRequest) else None
        for message in messages[:-1] if folded else messages:
            if isinstance(message, ModelRequest):
                self.request(message)
            else:
                self.response(message)
        if finished and final is not None:
            self.end(final, folded)

    def usage(self, usage: Usage) -> None:
        fields = ("requests", "request_tokens", "response_tokens", "total_tokens")
        self.line("usage: " + " ".join(f"{name}={getattr(usage, name)}" for name in fields))

    # --- blocks ----------------------------------------------------------------------------

    def request(self, request: ModelRequest) -> None:
        self.header("ModelRequestNode")
        self.request_parts(request)

    def request_parts(self, request: ModelRequest) -> None:
        for part in request.parts:
            if isinstance(part, SystemPromptPart):
                dynamic = f"  (dynamic: {part.dynamic_ref})" if part.dynamic_ref else ""
                self.text_field(f"system-prompt{dynamic}", part.content, 1)
            elif isinstance(part, UserPromptPart):
                self.text_field("user-prompt", part.content, 1)
            elif isinstance(part, ToolReturnPart):
                self.line(f"tool-return: {part.tool_name}  id={self.call_id(part.tool_call_id)}", 1)
                self.block(_json(part.content), 2)
            else:
                self.retry(part)

    def retry(self, part: RetryPromptPart) -> None:
        tool = f" {part.tool_name}" if part.tool_name else ""
        self.line(f"retry-prompt:{tool}  id={self.call_id(part.tool_call_id)}", 1)
        if isinstance(part.content, str):
            self.text_field("", part.content, 2)
            return
        for error in part.content:
            where = ".".join(str(item) for item in error.get("loc", ())) or "arguments"
            given = json.dumps(pydantic_core.to_jsonable_python(error.get("input"), fallback=repr), ensure_ascii=False)
            self.line(f"- {where}: {error.get('msg')} ({error.get('type')}, input={given})", 2)

    def response(self, response: ModelResponse) -> None:
        self.header("CallToolsNode", f"  model={response.model_name}" if response.model_name else "")
        if not response.parts:
            self.line("(no parts)", 1)
        for part in response.parts:
            if isinstance(part, TextPart):
                self.text_field("text", part.content, 1)
            else:
                self.tool_call(part)

    def tool_call(self, part: ToolCallPart) -> None:
        self.line(f"tool-call: {part.tool_name}  id={self.call_id(part.tool_call_id)}", 1)
        try:
            args: Any = json.loads(part.args) if isinstance(part.args, str) else part.args
        except ValueError:
            self.line(f"(not JSON) {json.dumps(part.args, ensure_ascii=False)}", 2)
            return
        self.block(_json(args), 2)

    def end(self, final: FinalResult[Any], folded: ModelRequest | None) -> None:
        self.header("End")
        self.block("data: " + _json(final.data), 1)
        tool_name, tool_call_id = final.tool_name, final.tool_call_id
        if tool_name is None and folded is not None:  # a RunResult: the result call's return comes first
            first = folded.parts[0] if folded.parts else None
            if isinstance(first, ToolReturnPart):
                tool_name, tool_call_id = first.tool_name, first.tool_call_id
        if tool_name is not None:
            self.line(f"result-tool: {tool_name}  id={self.call_id(tool_call_id)}", 1)
        if folded is not None:
            self.request_parts(folded)

    def text_field(self, label: str, content: str | Sequence[UserContent], depth: int) -> None:
        prefix = f"{label}: " if label else ""
        if not isinstance(content, str):
            items = [item if isinstance(item, str) else user_prompt_text([item]) for item in content]
            self.line(f"{prefix}{json.dumps(items, ensure_ascii=False)}", depth)
        elif "\n" in content:
            self.line(f"{prefix}|", depth)
            self.block(content, depth + 1)
        else:
            self.line(f"{prefix}{json.dumps(content, ensure_ascii=False)}", depth)
