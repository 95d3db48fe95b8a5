"""What a cassette holds: recorded runs, their requests, tool calls and nodes, as frozen data.

These are the in-memory form of the format described in docs/cassette-format.md; the codec
(`_codec`) turns them into the file's document and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeAlias

import pydantic

from agentkit import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryPromptPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    Usage,
)
from agentkit.models import FunctionModel, Model, TestModel, WrapperModel

__all__ = (
    "CASSETTE_FORMAT",
    "CASSETTE_VERSION",
    "ForkPoint",
    "NodeKind",
    "RecordMode",
    "RecordedError",
    "RecordedRequest",
    "RecordedResult",
    "RecordedRun",
    "RecordedToolCall",
    "RuntimeRequest",
    "RuntimeToolCall",
    "ToolResultPart",
    "derive_tool_calls",
    "model_id",
    "split_model_id",
)

CASSETTE_FORMAT = "agentkit-cassette"
CASSETTE_VERSION = 1
"""The version this harness writes and the only one it reads."""

RecordMode: TypeAlias = Literal["none", "once", "new_episodes", "all", "rewrite"]
"""When to replay and when to record, with vcrpy / pytest-recording's meanings (see `cassette`)."""

NodeKind: TypeAlias = Literal["ModelRequestNode", "CallToolsNode", "End"]

ToolResultPart: TypeAlias = Annotated[ToolReturnPart | RetryPromptPart, pydantic.Discriminator("part_kind")]
"""What running a tool gives back to the model: its return, or a request to retry."""


@dataclass(frozen=True)
class RecordedRequest:
    """One model request of a run and the response it got.

    `messages` are the messages new in this request (normally one `ModelRequest`): the messages
    before them are the run's history and the earlier requests and responses of the run.
    """

    node: int
    """Index, in the run's node sequence, of the `ModelRequestNode` that sent the request."""
    messages: tuple[ModelMessage, ...]
    response: ModelResponse
    usage: Usage = field(default_factory=Usage)
    settings: dict[str, Any] | None = None
    function_tools: tuple[ToolDefinition, ...] = ()
    allow_text_result: bool = True
    result_tools: tuple[ToolDefinition, ...] = ()
    stream: tuple[ModelResponseStreamEvent, ...] | None = None
    """The events, chunk by chunk, when the request was streamed."""


@dataclass(frozen=True)
class RecordedToolCall:
    """A tool call made by a run, its arguments and what it returned."""

    node: int
    """Index of the `CallToolsNode` that ran the tool."""
    tool_name: str
    tool_call_id: str | None
    args: str | dict[str, Any]
    result: ToolResultPart
    external: bool = False
    """External tools (side effects, network) are not called on replay: `result` is used."""


@dataclass(frozen=True)
class RuntimeRequest:
    """A model request of a run recorded under another runtime (`RecordedRun.runtime`), in its own JSON shape.

    `messages` are the messages new in this request and `response` the answer, as that runtime's
    message TypeAdapter dumps them (e.g. pydantic-ai's `ModelMessagesTypeAdapter`, `mode='json'`).
    """

    node: int
    """Index of the request in the run (0, 1, ...)."""
    messages: tuple[dict[str, Any], ...]
    response: dict[str, Any]
    parameters: dict[str, Any] | None = None
    """What the runtime sent beside the messages (tool definitions, output mode), as JSON data."""
    settings: dict[str, Any] | None = None
    streamed: bool = False
    stream: tuple[dict[str, Any], ...] | None = None
    """A streamed response's events as the run saw them, in that runtime's JSON shape (None: not recorded)."""


@dataclass(frozen=True)
class RuntimeToolCall:
    """A tool call of a run recorded under another runtime: its arguments and return as JSON data."""

    node: int
    """Index of the request whose response made the call."""
    tool_name: str
    tool_call_id: str | None
    args: Any
    result: Any
    external: bool = False
    """Not called on replay: `result` is served instead."""


@dataclass(frozen=True)
class RecordedResult:
    """The final result of a run, as JSON-compatible data."""

    data: Any
    tool_name: str | None = None
    tool_call_id: str | None = None


@dataclass(frozen=True)
class RecordedError:
    """The error that ended a run, by type name and message (for reading, not for re-raising)."""

    type: str
    message: str


@dataclass(frozen=True)
class ForkPoint:
    """Where a forked run left its parent: the parent run's id and the node from which it ran live."""

    run: str
    node: int
    """Index of the parent's `ModelRequestNode` whose request the fork sent live; the nodes before it
    were replayed from the parent's recording."""


@dataclass(frozen=True)
class RecordedRun:
    """One agent run: its identity, the model it ran against, and everything it did."""

    id: str
    """Unique within the cassette, e.g. `run-3`."""
    agent: str | None
    model: str
    """`system:model_name` of the model the run was recorded against, e.g. `openai:gpt-4o`."""
    user_prompt: str
    nodes: tuple[NodeKind, ...] = ()
    requests: tuple[RecordedRequest, ...] = ()
    tool_calls: tuple[RecordedToolCall, ...] = ()
    label: str | None = None
    """Free text naming where the run was recorded, e.g. a test id; not used for matching."""
    streamed: bool = False
    """Started with `run_stream()`; part of the run's identity."""
    message_history: tuple[ModelMessage, ...] | None = None
    closing_messages: tuple[ModelMessage, ...] = ()
    """Messages the run added after its last response (e.g. the result tool's return)."""
    result: RecordedResult | None = None
    error: RecordedError | None = None
    deps: str | None = None
    """The identity of the run's deps (`"<type> sha256:<digest>"`, `"None"`; see `_deps_identity`).

    `None` when unknown (cassettes written before deps were recorded): matching then ignores deps."""
    concurrent: bool = False
    """Recorded while another run with the same identity was running, so the recording order of
    such runs does not say which live run each one belongs to."""
    runtime: str | None = None
    """`None` for agentkit's own runtime; else the runtime and version that recorded the run, e.g.
    `pydantic-ai 2.68.0`. Such a run keeps its messages in `runtime_history`, `runtime_requests`
    and `runtime_tool_calls` (its `requests`, `tool_calls`, `nodes` are empty) and only that
    runtime's adapter replays it."""
    runtime_history: tuple[dict[str, Any], ...] | None = None
    runtime_requests: tuple[RuntimeRequest, ...] = ()
    runtime_tool_calls: tuple[RuntimeToolCall, ...] = ()
    forked_from: ForkPoint | None = None
    """Set on a run made by `agentkit_testing.fork`: its parent run and the fork point."""


def model_id(model: Model) -> str:
    """`system:model_name`, e.g. `openai:gpt-4o`, `test:test`, `function:function:answer`.

    `TestModel` and `FunctionModel` have no `system` (None, as in the reference release); their
    ids use `test` and `function`, which is what cassettes have always held for them, also when a
    `WrapperModel` wraps them.
    """
    system = model.system
    inner = model
    while system is None and isinstance(inner, WrapperModel):
        inner = inner.wrapped
    if system is None:
        system = "test" if isinstance(inner, TestModel) else "function" if isinstance(inner, FunctionModel) else "model"
    return f"{system}:{model.model_name}"


def split_model_id(identity: str) -> tuple[str, str]:
    """(`system`, `model_name`) from `system:model_name`: the inverse of `model_id`."""
    system, _, name = identity.partition(":")
    return (system, name) if name else ("replay", identity)


def derive_tool_calls(run: RecordedRun) -> tuple[RecordedToolCall, ...]:
    """The tool calls a run's requests show: a call in one response, its return in the next request.

    Only calls of the request's function tools count (not the result tool, nor unknown tools),
    and only in runs recorded through the hooks (`nodes` known). The file leaves these out of
    `tool_calls`, which holds only the calls that cannot be read off the requests.
    """
    if not run.nodes:
        return ()
    calls: list[RecordedToolCall] = []
    requests = run.requests
    for index, request in enumerate(requests[:-1]):
        names = {tool.name for tool in request.function_tools}
        wanted = [part for part in request.response.parts if isinstance(part, ToolCallPart) and part.tool_name in names]
        if not wanted:
            continue
        answers = [
            part
            for message in requests[index + 1].messages
            if isinstance(message, ModelRequest)
            for part in message.parts
            if isinstance(part, ToolReturnPart | RetryPromptPart)
        ]
        returns = {part.tool_call_id: part for part in answers if part.tool_call_id is not None}
        # Calls without an id (TestModel, FunctionModel) pair with the answers of the same tool in order.
        unnamed: dict[str, list[ToolReturnPart | RetryPromptPart]] = {}
        for part in answers:
            if part.tool_call_id is None and part.tool_name is not None:
                unnamed.setdefault(part.tool_name, []).append(part)
        for call in wanted:
            if call.tool_call_id is None:
                queue = unnamed.get(call.tool_name)
                result = queue.pop(0) if queue else None
            else:
                result = returns.get(call.tool_call_id)
            if result is not None and result.tool_name == call.tool_name:
                calls.append(RecordedToolCall(request.node + 1, call.tool_name, call.tool_call_id, call.args, result))
    return tuple(calls)
