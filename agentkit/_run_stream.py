"""`Agent.run_stream`: run until the final answer starts, then stream it to the caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Generic, TypeVar

import pydantic

from agentkit._context import AgentDepsT
from agentkit._nodes import End, ModelRequestNode
from agentkit._run import AgentRun, _MessagesMixin
from agentkit._streaming import AgentStream
from agentkit.exceptions import UserError
from agentkit.messages import (
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
)
from agentkit.result import ResultDataT, ResultSchema, ResultTool
from agentkit.usage import Usage

__all__ = ("StreamedRunResult", "stream_final_result")

T = TypeVar("T")


class StreamedRunResult(_MessagesMixin, Generic[AgentDepsT, ResultDataT]):
    """The final answer of a run, as it streams in.

    Read it with `stream_text()`, `stream()` or `get_data()`; any of them, read to the end,
    completes the run. Leaving `run_stream` before that ends the run where it is, counting the
    usage of what was received.
    """

    def __init__(
        self,
        agent_run: AgentRun[AgentDepsT, ResultDataT],
        node: ModelRequestNode,
        stream: AgentStream,
        buffered: list[ModelResponseStreamEvent],
        result_tool: ResultTool | None,
        result_index: int,
    ) -> None:
        self._agent_run = agent_run
        self._node = node
        self._stream = stream
        self._buffered = buffered
        self._result_tool = result_tool
        self._result_index = result_index
        self._messages = agent_run.ctx.state.message_history
        self._new_message_index = agent_run.ctx.deps.new_message_index
        self._open_generators: list[AsyncGenerator[Any, None]] = []

    @property
    def is_complete(self) -> bool:
        """Whether the run has reached `End`."""
        return self._agent_run.result is not None

    def usage(self) -> Usage:
        """Usage of the run, including what the stream has reported so far."""
        usage = self._agent_run.usage()
        return usage if self._stream.is_complete else usage + self._stream.usage()

    def _events(self) -> _BufferedEvents:
        return _BufferedEvents(self._buffered, self._stream)

    def _track(self, generator: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        self._open_generators.append(generator)
        return generator

    async def _close(self) -> None:
        """Close the iterators handed out, so none is left for the garbage collector to finalize."""
        while self._open_generators:
            await self._open_generators.pop().aclose()

    def stream_text(self, *, delta: bool = False) -> AsyncIterator[str]:
        """The text answer as it grows (whole so far, or only the new piece with `delta=True`)."""
        return self._track(self._stream_text(delta))

    def stream(self) -> AsyncIterator[ResultDataT]:
        """Partial results as they grow, each validated; the last one is the complete result."""
        return self._track(self._stream_data())

    async def _stream_text(self, delta: bool) -> AsyncGenerator[str, None]:
        if self._result_tool is not None:
            raise UserError("stream_text() is for text results; this run ends through a result tool, use stream()")
        text = ""
        async for event in self._events():
            piece = _text_piece(event, self._result_index)
            if piece:
                text += piece
                yield piece if delta else text
        await self._complete()

    async def _stream_data(self) -> AsyncGenerator[ResultDataT, None]:
        if self._result_tool is None:
            async for text in self._stream_text(delta=False):
                yield text  # type: ignore[misc]
            return
        last: Any = None
        async for event in self._events():
            if getattr(event, "index", None) != self._result_index:
                continue
            partial = self._partial_data()
            if partial is not None and partial != last:
                last = partial
                yield partial
        await self._complete()

    async def get_data(self) -> ResultDataT:
        """Read the rest of the stream and return the validated result."""
        async for _ in self._events():
            pass
        await self._complete()
        result = self._agent_run.result
        assert result is not None
        return result.data

    def _partial_data(self) -> Any:
        assert self._result_tool is not None
        parts = self._stream.get().parts
        call = next(
            (p for p in parts if isinstance(p, ToolCallPart) and p.tool_name == self._result_tool.definition.name), None
        )
        if call is None:
            return None
        try:
            value = self._result_tool.adapter.validate_json(
                call.args_as_json_str() or "{}", experimental_allow_partial="trailing-strings"
            )
        except pydantic.ValidationError:
            return None
        return getattr(value, self._result_tool.wrapper_key) if self._result_tool.wrapper_key else value

    async def _complete(self) -> None:
        """Finish the streamed node, then run the remaining nodes to `End`."""
        if self.is_complete:
            return
        async for _ in self._stream:
            pass
        node: Any = await self._agent_run.next(self._node)
        while not isinstance(node, End):
            node = await self._agent_run.next(node)


class _BufferedEvents:
    """Events already read while deciding the stream was final, then the rest of the stream."""

    def __init__(self, buffered: list[ModelResponseStreamEvent], stream: AgentStream) -> None:
        self._buffered = buffered
        self._stream = stream

    def __aiter__(self) -> _BufferedEvents:
        return self

    async def __anext__(self) -> ModelResponseStreamEvent:
        if self._buffered:
            return self._buffered.pop(0)
        return await self._stream.__anext__()


def _text_piece(event: ModelResponseStreamEvent, index: int) -> str:
    if event.index != index:
        return ""
    if isinstance(event, PartStartEvent):
        return event.part.content if isinstance(event.part, TextPart) else ""
    return event.delta.content_delta if isinstance(event.delta, TextPartDelta) else ""


async def _find_final_start(
    stream: AgentStream, schema: ResultSchema, buffered: list[ModelResponseStreamEvent]
) -> int | None:
    """Read events until the first part shows whether this response is the final answer.

    Returns the index of the part carrying the final result, or `None` when it is not final.
    Events read are kept in `buffered` so the caller still sees them.
    """
    result_name = schema.tool.definition.name if schema.tool else None
    async for event in stream:
        buffered.append(event)
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart) and schema.allow_text_result:
                return event.index
            if isinstance(part, ToolCallPart):
                if part.tool_name == result_name:
                    return event.index
                return None
        elif isinstance(event, PartDeltaEvent):
            continue
    return None


@asynccontextmanager
async def stream_final_result(
    agent_run: AgentRun[AgentDepsT, Any],
) -> AsyncIterator[StreamedRunResult[AgentDepsT, Any]]:
    """Run `agent_run` node by node, streaming model requests, until one starts the final answer."""
    node: Any = agent_run.next_node
    schema = agent_run.ctx.deps.result_schema
    while True:
        if isinstance(node, End):
            raise UserError("The run ended before its final answer could be streamed")
        if not isinstance(node, ModelRequestNode):
            node = await agent_run.next(node)
            continue
        async with AsyncExitStack() as stack:
            stream = await stack.enter_async_context(node._stream(agent_run.ctx, complete_on_exit=False))
            buffered: list[ModelResponseStreamEvent] = []
            index = await _find_final_start(stream, schema, buffered)
            if index is not None:
                result_tool = None if _is_text(buffered, index) else schema.tool
                streamed = StreamedRunResult(agent_run, node, stream, buffered, result_tool, index)
                try:
                    yield streamed
                finally:
                    await streamed._close()
                return
            async for _ in stream:
                pass  # not the final answer: read it whole, then handle it like any other response
        node = await agent_run.next(node)


def _is_text(buffered: list[ModelResponseStreamEvent], index: int) -> bool:
    return any(
        isinstance(event, PartStartEvent) and event.index == index and isinstance(event.part, TextPart)
        for event in buffered
    )
