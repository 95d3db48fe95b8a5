"""`FunctionModel`: the test author's function decides every response."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from agentkit._sources import now
from agentkit.exceptions import UserError
from agentkit.messages import ModelMessage, ModelResponse, ModelResponseStreamEvent
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models.test import estimate_usage
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition
from agentkit.usage import Usage

__all__ = ("AgentInfo", "DeltaToolCall", "DeltaToolCalls", "FunctionDef", "FunctionModel", "StreamFunctionDef")


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
        model_name: the name to report; `function:<function name>` by default.
    """

    sends_real_requests: ClassVar[bool] = False

    function: FunctionDef | None
    stream_function: StreamFunctionDef | None
    _name: str = field(repr=False)

    def __init__(
        self,
        function: FunctionDef | None = None,
        *,
        stream_function: StreamFunctionDef | None = None,
        model_name: str | None = None,
    ) -> None:
        if function is None and stream_function is None:
            raise UserError("FunctionModel needs a `function`, a `stream_function`, or both")
        self.function = function
        self.stream_function = stream_function
        source = function if function is not None else stream_function
        self._name = model_name or f"function:{getattr(source, '__name__', 'anonymous')}"

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def system(self) -> str:
        return "function"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        if self.function is None:
            raise UserError(
                f"FunctionModel {self._name!r} has only a stream_function; use run_stream or give it a function"
            )
        info = _agent_info(model_settings, model_request_parameters)
        response = self.function(messages, info)
        if inspect.isawaitable(response):
            response = await response
        if not isinstance(response, ModelResponse):
            raise UserError(
                f"FunctionModel {self._name!r}: the function must return a ModelResponse, got {type(response).__name__}"
            )
        if response.model_name is None:
            response.model_name = self._name
        return response, estimate_usage(messages, response)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        if self.stream_function is None:
            async with super().request_stream(messages, model_settings, model_request_parameters) as stream:
                yield stream
            return
        info = _agent_info(model_settings, model_request_parameters)
        yield _FunctionStreamedResponse(self._name, self.stream_function(messages, info), messages)


def _agent_info(settings: ModelSettings | None, parameters: ModelRequestParameters) -> AgentInfo:
    return AgentInfo(parameters.function_tools, parameters.allow_text_result, parameters.result_tools, settings)


class _FunctionStreamedResponse(StreamedResponse):
    def __init__(
        self, model_name: str, chunks: AsyncIterator[str | DeltaToolCalls], messages: list[ModelMessage]
    ) -> None:
        super().__init__(model_name, now())
        self._chunks = chunks
        self._messages = messages

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        try:
            async for chunk in self._chunks:
                for event in self._chunk_events(chunk):
                    yield event
        finally:
            close = getattr(self._chunks, "aclose", None)
            if close is not None:
                await close()

    def _chunk_events(self, chunk: object) -> list[ModelResponseStreamEvent]:
        if isinstance(chunk, str):
            event = self._text_delta("text", chunk)
            return [event] if event is not None else []
        if isinstance(chunk, dict):
            events: list[ModelResponseStreamEvent] = []
            for index, piece in chunk.items():
                event = self._tool_call_delta(
                    ("tool", index), tool_name=piece.name, args=piece.json_args, tool_call_id=piece.tool_call_id
                )
                if event is not None:
                    events.append(event)
            return events
        raise UserError(
            f"FunctionModel {self.model_name!r}: stream_function must yield str or "
            f"dict[int, DeltaToolCall], got {type(chunk).__name__}"
        )

    def usage(self) -> Usage:
        return estimate_usage(self._messages, self.get())
