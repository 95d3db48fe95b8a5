"""`Agent.run_stream`: run until the final answer starts, then stream it to the caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar

from agentkit._context import AgentDepsT
from agentkit._graph._nodes import CallToolsNode, End, ModelRequestNode
from agentkit._graph._run import AgentRun
from agentkit._streaming._agent_stream import AgentStream
from agentkit._streaming._debounce import group_by_time
from agentkit.exceptions import AgentRunError, UnexpectedModelBehavior, UserError
from agentkit.messages import (
    FinalResultEvent,
    ModelMessage,
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    messages_to_json,
)
from agentkit.result import ResultDataT, ToolRetry
from agentkit.usage import Usage

__all__ = ("StreamedRunResult", "stream_final_result")

T = TypeVar("T")


class StreamedRunResult(Generic[AgentDepsT, ResultDataT]):
    """The final answer of a run, as it streams in.

    Read it with `stream()`, `stream_text()`, `stream_structured()` or `get_data()`; any of them,
    read to the end, completes the run. `debounce_by` (seconds, default 0.1; `None` for every
    chunk) groups chunks that arrive close together. Leaving `run_stream` before the end ends
    the run where it is, counting the usage of what was received.
    """

    def __init__(
        self,
        agent_run: AgentRun[AgentDepsT, ResultDataT],
        node: ModelRequestNode,
        stream: AgentStream,
        buffered: list[ModelResponseStreamEvent],
        final_event: FinalResultEvent,
    ) -> None:
        self._agent_run = agent_run
        self._node = node
        self._stream = stream
        self._buffered = buffered
        self._final_event = final_event
        self._messages = agent_run.ctx.state.message_history
        self._new_message_index = agent_run.ctx.deps.new_message_index
        self._open_generators: list[AsyncGenerator[Any, None]] = []
        self.is_complete = False
        """Whether the whole answer has been received and the run has reached its end."""

    # --- messages ------------------------------------------------------------------------------

    def all_messages(self, *, result_tool_return_content: str | None = None) -> list[ModelMessage]:
        """Every message of the conversation so far, including any `message_history` given to the run."""
        if result_tool_return_content is not None:
            raise NotImplementedError("Setting result tool return content is not supported for this result type.")
        return list(self._messages)

    def all_messages_json(self, *, result_tool_return_content: str | None = None) -> bytes:
        """`all_messages()` as JSON bytes."""
        return messages_to_json(self.all_messages(result_tool_return_content=result_tool_return_content))

    def new_messages(self, *, result_tool_return_content: str | None = None) -> list[ModelMessage]:
        """The messages made by this run."""
        return self.all_messages(result_tool_return_content=result_tool_return_content)[self._new_message_index :]

    def new_messages_json(self, *, result_tool_return_content: str | None = None) -> bytes:
        """`new_messages()` as JSON bytes."""
        return messages_to_json(self.new_messages(result_tool_return_content=result_tool_return_content))

    # --- reading the answer ---------------------------------------------------------------------

    def usage(self) -> Usage:
        """Usage of the run, counting the request being streamed and what it has reported so far."""
        usage = self._agent_run.usage()
        return usage if self._stream.is_complete else usage + self._stream.request_usage()

    def timestamp(self) -> datetime:
        """The timestamp of the streamed response."""
        return self._stream.get().timestamp

    def stream(self, *, debounce_by: float | None = 0.1) -> AsyncIterator[ResultDataT]:
        """The result as it grows, validated in partial mode; the last one is the complete result."""
        return self._track(self._stream_data(debounce_by))

    def stream_text(self, *, delta: bool = False, debounce_by: float | None = 0.1) -> AsyncIterator[str]:
        """The text answer as it grows (whole so far, or only the new piece with `delta=True`).

        Result validators run on each whole text, not on deltas.
        """
        if not self._agent_run.ctx.deps.result_schema.allow_text_result:
            raise UserError("stream_text() can only be used with text responses")
        return self._track(self._stream_text(delta, debounce_by))

    def stream_structured(self, *, debounce_by: float | None = 0.1) -> AsyncIterator[tuple[ModelResponse, bool]]:
        """The response as it grows, unvalidated, with whether it is the last (complete) one."""
        return self._track(self._stream_structured(debounce_by))

    async def get_data(self) -> ResultDataT:
        """Read the rest of the stream and return the validated result."""
        async for _ in self._events():
            pass
        await self._complete()
        result = self._agent_run.result
        assert result is not None
        return result.data

    async def validate_structured_result(self, message: ModelResponse, *, allow_partial: bool = False) -> ResultDataT:
        """Validate `message` (typically from `stream_structured()`) into result data.

        Raises pydantic's `ValidationError` when the data does not validate.
        """
        schema = self._agent_run.ctx.deps.result_schema
        data, call = schema.streamed_data(message.parts, self._final_event.tool_name, allow_partial=allow_partial)
        result: ResultDataT = await self._run_validators(data, call)
        return result

    # --- machinery ------------------------------------------------------------------------------

    def _track(self, generator: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        self._open_generators.append(generator)
        return generator

    async def _close(self) -> None:
        """Close the iterators handed out, so none is left for the garbage collector to finalize."""
        while self._open_generators:
            await self._open_generators.pop().aclose()

    def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        return _BufferedEvents(self._buffered, self._stream)

    async def _stream_structured(self, debounce_by: float | None) -> AsyncGenerator[tuple[ModelResponse, bool], None]:
        self._stream.check_tokens_per_event = False  # as in the reference: checked once the response is whole
        current = self._stream.get()
        self._buffered.clear()  # `current` already shows what the buffered events carried
        if any(part.has_content() for part in current.parts):
            yield current, False
        async with aclosing(group_by_time(self._events(), debounce_by)) as groups:
            async for _ in groups:
                yield self._stream.get(), False
        yield self._stream.get(), True
        await self._complete()

    async def _stream_data(self, debounce_by: float | None) -> AsyncGenerator[ResultDataT, None]:
        import pydantic  # a structured result's tool has imported it already

        async with aclosing(self._stream_structured(debounce_by)) as messages:
            async for message, is_last in messages:
                try:
                    data = await self.validate_structured_result(message, allow_partial=not is_last)
                except pydantic.ValidationError:
                    if is_last:
                        break  # completing the run raises the error
                    continue  # a partial answer that does not validate yet
                yield data
        await self._complete()

    async def _stream_text(self, delta: bool, debounce_by: float | None) -> AsyncGenerator[str, None]:
        self._stream.check_tokens_per_event = False  # as in the reference: checked once the response is whole
        pieces: list[str] = []
        text = ""
        # As in the reference: first the text received so far (the buffered events' text is in it),
        # so a second read, or one after get_data(), yields the whole answer rather than nothing.
        received = [part.content for part in self._stream.get().parts if isinstance(part, TextPart) and part.content]
        self._buffered.clear()
        if debounce_by is None:  # every chunk: no grouping layer in the way
            async for piece in _TextPieces(received, self._stream):
                if delta:
                    yield piece
                else:
                    text += piece
                    yield await self._validate_text(text)
        else:
            async with aclosing(group_by_time(_TextPieces(received, self._stream), debounce_by)) as groups:
                async for group in groups:
                    piece = "".join(group)
                    if delta:
                        yield piece
                    else:
                        pieces.append(piece)
                        yield await self._validate_text("".join(pieces))
        await self._complete()

    async def _validate_text(self, text: str) -> str:
        if not self._agent_run.ctx.deps.result_validators:
            return text
        validated: str = await self._run_validators(text, None)
        return validated

    async def _run_validators(self, data: Any, call: ToolCallPart | None) -> Any:
        """The result validators on `data`; a retry they ask for is an error, as the answer is already streaming."""
        ctx = self._agent_run.ctx
        run_context = ctx.run_context()
        try:
            for validator in ctx.deps.result_validators:
                data = await validator.validate(data, run_context, call)
        except ToolRetry as retry:
            raise UnexpectedModelBehavior(
                f"A result validator asked for a retry ({retry.retry_prompt.content!r}) of a streamed result, which "
                "cannot go back to the model once it streams to you. Validators run on each partial result "
                "(stream(), stream_text(), validate_structured_result()): let partial values through, or read "
                "the whole answer with get_data() (or stream_text(delta=True)) and check it there"
            ) from retry
        return data

    async def _complete(self) -> None:
        """Finish the streamed node, then run the remaining nodes to `End`."""
        if self.is_complete:
            return
        async for _ in self._stream:
            pass
        node: Any = await self._agent_run.next(self._node)
        if isinstance(node, CallToolsNode):
            node._streamed_final = self._final_event
        while not isinstance(node, End):
            node = await self._agent_run.next(node)
        self.is_complete = True


class _BufferedEvents:
    """Events already read while deciding the stream was final, then the rest of the stream's part events."""

    def __init__(self, buffered: list[ModelResponseStreamEvent], stream: AgentStream) -> None:
        self._buffered = buffered
        self._stream = stream

    def __aiter__(self) -> _BufferedEvents:
        return self

    async def __anext__(self) -> ModelResponseStreamEvent:
        if self._buffered:
            return self._buffered.pop(0)
        while True:
            event = await self._stream.__anext__()
            if not isinstance(event, FinalResultEvent):
                return event


class _TextPieces:
    """The text received so far, part by part, then the non-empty text pieces of the stream's events.

    One layer rather than a filter over `_BufferedEvents`: it is read at every chunk.
    """

    def __init__(self, received: list[str], stream: AgentStream) -> None:
        self._received = received
        self._stream = stream

    def __aiter__(self) -> _TextPieces:
        return self

    async def __anext__(self) -> str:
        if self._received:
            return self._received.pop(0)
        while True:
            piece = _text_piece(await self._stream.__anext__())  # a FinalResultEvent has no text
            if piece:
                return piece


def _text_piece(event: ModelResponseStreamEvent | FinalResultEvent) -> str:
    if isinstance(event, PartStartEvent):
        return event.part.content if isinstance(event.part, TextPart) else ""
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return ""


@asynccontextmanager
async def stream_final_result(
    agent_run: AgentRun[AgentDepsT, Any],
) -> AsyncIterator[StreamedRunResult[AgentDepsT, Any]]:
    """Run `agent_run` node by node, streaming model requests, until one starts the final answer."""
    node: Any = agent_run.next_node
    while True:
        if isinstance(node, End):
            raise AgentRunError("Agent run finished without producing a final result")
        if not isinstance(node, ModelRequestNode):
            node = await agent_run.next(node)
            continue
        async with AsyncExitStack() as stack:
            stream = await stack.enter_async_context(node._stream(agent_run.ctx, complete_on_exit=False))
            buffered: list[ModelResponseStreamEvent] = []
            final_event: FinalResultEvent | None = None
            async for event in stream:
                if isinstance(event, FinalResultEvent):
                    final_event = event
                    break
                buffered.append(event)
            if final_event is not None:
                streamed = StreamedRunResult(agent_run, node, stream, buffered, final_event)
                try:
                    yield streamed
                finally:
                    await streamed._close()
                return
        node = await agent_run.next(node)
