"""`FunctionModel`: the test author's function decides every response."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from agentkit._graph._threads import run_in_worker_thread
from agentkit._sources import now
from agentkit.exceptions import UnexpectedModelBehavior, UserError
from agentkit.messages import ModelMessage, ModelResponse, ModelResponseStreamEvent
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models.test import estimate_string_tokens, estimate_usage
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition
from agentkit.usage import Usage

__all__ = (
    "AgentInfo",
    "DeltaToolCall",
    "DeltaToolCalls",
    "FunctionDef",
    "FunctionModel",
    "FunctionStreamedResponse",
    "StreamFunctionDef",
)


@dataclass(frozen=True)
class AgentInfo:
    """What the agent offers the model in this request, given to the function of a `FunctionModel`."""

    function_tools: list[ToolDefinition]
    allow_text_result: bool
    result_tools: list[ToolDefinition]
    model_settings: ModelSettings | None


@dataclass
class DeltaToolCall:
    """A piece of a streamed tool call: any of its name, its JSON arguments, its id."""

    name: str | None = None
    json_args: str | None = None
    tool_call_id: str | None = None


DeltaToolCalls: TypeAlias = dict[int, DeltaToolCall]
"""Pieces of tool calls in one chunk, keyed by the index of the call."""

FunctionDef: TypeAlias = Callable[[list[ModelMessage], AgentInfo], ModelResponse | Awaitable[ModelResponse]]
StreamFunctionDef: TypeAlias = Callable[[list[ModelMessage], AgentInfo], AsyncIterator[str | DeltaToolCalls]]


@dataclass(init=False)
class FunctionModel(Model):
    """A model whose answers come from `function` (and, when streaming, from `stream_function`).

    Args:
        function: called with the messages and an `AgentInfo`; returns a `ModelResponse`.
        stream_function: an async generator yielding text deltas (`str`) or `DeltaToolCalls`.
        model_name: the name to report; `function:<function name>:<stream function name>` by default.
    """

    sends_real_requests: ClassVar[bool] = False

    function: FunctionDef | None
    stream_function: StreamFunctionDef | None
    _model_name: str = field(repr=False)

    def __init__(
        self,
        function: FunctionDef | None = None,
        *,
        stream_function: StreamFunctionDef | None = None,
        model_name: str | None = None,
    ) -> None:
        if function is None and stream_function is None:
            raise TypeError("Either `function` or `stream_function` must be provided")
        self.function = function
        self.stream_function = stream_function
        function_name = getattr(function, "__name__", "") if function is not None else ""
        stream_name = getattr(stream_function, "__name__", "") if stream_function is not None else ""
        self._model_name = model_name or f"function:{function_name}:{stream_name}"

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str | None:
        return None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        if self.function is None:
            raise UserError(
                f"FunctionModel {self._model_name!r} has only a stream_function, so it can only answer streamed "
                "requests (run_stream); give it a `function` for run, run_sync and iter"
            )
        info = _agent_info(model_settings, model_request_parameters)
        if inspect.iscoroutinefunction(self.function):
            response = await self.function(messages, info)
        else:
            function = self.function
            response = await run_in_worker_thread(lambda: function(messages, info))
            if inspect.isawaitable(response):
                response = await response
        if not isinstance(response, ModelResponse):
            raise UserError(
                f"FunctionModel {self._model_name!r}: the function must return a ModelResponse, "
                f"got {type(response).__name__}"
            )
        response.model_name = self._model_name
        return response, estimate_usage(messages, response)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        if self.stream_function is None:  # stream the plain function's answer, one event per part
            async with super().request_stream(messages, model_settings, model_request_parameters) as stream:
                yield stream
            return
        info = _agent_info(model_settings, model_request_parameters)
        chunks = aiter(self.stream_function(messages, info))
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            raise UnexpectedModelBehavior(
                f"FunctionModel {self._model_name!r}: the stream function "
                f"{getattr(self.stream_function, '__name__', self.stream_function)!r} yielded nothing; "
                "it must yield at least one text chunk or DeltaToolCalls"
            ) from None
        yield FunctionStreamedResponse(self._model_name, first, chunks)


def _agent_info(settings: ModelSettings | None, parameters: ModelRequestParameters) -> AgentInfo:
    return AgentInfo(parameters.function_tools, parameters.allow_text_result, parameters.result_tools, settings)


class FunctionStreamedResponse(StreamedResponse):
    """Turns what a stream function yields into part events: text chunks, and tool-call pieces by index."""

    def __init__(self, model_name: str, first: str | DeltaToolCalls, rest: AsyncIterator[str | DeltaToolCalls]) -> None:
        super().__init__(model_name, now())
        self._first: list[str | DeltaToolCalls] = [first]
        self._chunks = rest
        self._usage = estimate_usage([])

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        try:
            for chunk in self._first:
                for event in self._chunk_events(chunk):
                    yield event
            self._first = []
            async for chunk in self._chunks:
                for event in self._chunk_events(chunk):
                    yield event
        finally:
            close = getattr(self._chunks, "aclose", None)
            if close is not None:
                await close()

    def _count(self, text: str) -> None:
        tokens = estimate_string_tokens(text)
        self._usage = self._usage + Usage(response_tokens=tokens, total_tokens=tokens)

    def _chunk_events(self, chunk: object) -> list[ModelResponseStreamEvent]:
        manager = self._parts_manager
        if isinstance(chunk, str):
            self._count(chunk)
            return [manager.handle_text_delta(vendor_part_id="content", content=chunk)]
        if isinstance(chunk, dict):
            events: list[ModelResponseStreamEvent] = []
            for index, piece in chunk.items():
                if piece.json_args:
                    self._count(piece.json_args)
                event = manager.handle_tool_call_delta(
                    vendor_part_id=index, tool_name=piece.name, args=piece.json_args, tool_call_id=piece.tool_call_id
                )
                if event is not None:
                    events.append(event)
            return events
        raise UserError(
            f"FunctionModel {self.model_name!r}: stream_function must yield str or "
            f"dict[int, DeltaToolCall], got {type(chunk).__name__}"
        )
