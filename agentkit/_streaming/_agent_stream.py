"""Streams seen by users: the events of a model request inside `iter` (`AgentStream`)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from agentkit._streaming._debounce import group_by_time
from agentkit.exceptions import UsageLimitExceeded
from agentkit.messages import (
    FinalResultEvent,
    ModelResponse,
    ModelResponseStreamEvent,
    PartStartEvent,
    TextPart,
    ToolCallPart,
)
from agentkit.models._base import StreamedResponse
from agentkit.usage import Usage

if TYPE_CHECKING:
    from agentkit._graph._graph_context import GraphRunContext

__all__ = ("AgentStream", "final_result_event")


def final_result_event(event: ModelResponseStreamEvent, ctx: GraphRunContext) -> FinalResultEvent | None:
    """The `FinalResultEvent` to emit after `event`, if the part it starts carries the final result."""
    if not isinstance(event, PartStartEvent):
        return None
    part = event.part
    schema = ctx.deps.result_schema
    if isinstance(part, ToolCallPart):
        if part.tool_name in schema.tools:
            return FinalResultEvent(part.tool_name, part.tool_call_id)
    elif isinstance(part, TextPart) and schema.allow_text_result:
        return FinalResultEvent(None, None)
    return None


class AgentStream:
    """The events of one streamed model request: part starts and deltas, and one `FinalResultEvent`
    right after the part that carries the final result starts (if any does)."""

    def __init__(self, streamed: StreamedResponse, ctx: GraphRunContext, on_complete: Callable[[], object]) -> None:
        self._streamed = streamed
        self._on_complete = on_complete
        self._ctx = ctx
        self._initial_usage = copy.copy(ctx.state.usage)
        self._limits = ctx.deps.usage_limits if ctx.deps.usage_limits.has_token_limits() else None
        self.check_tokens_per_event = True
        """Whether token limits are checked at each event (they always are when the response is complete)."""
        self._deferred: UsageLimitExceeded | None = None
        self._iterator = streamed.__aiter__()
        self._pending: FinalResultEvent | None = None
        self._final_result_event: FinalResultEvent | None = None
        self.is_complete = False
        """True once every event has been read."""

    def __aiter__(self) -> AgentStream:
        return self

    async def __anext__(self) -> ModelResponseStreamEvent | FinalResultEvent:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        if self._deferred is not None:
            self.raise_deferred()
        if self.is_complete:
            raise StopAsyncIteration
        try:
            event = await self._iterator.__anext__()
        except StopAsyncIteration:
            self.is_complete = True
            try:
                self._on_complete()
            except UsageLimitExceeded as error:
                if self.check_tokens_per_event:
                    raise
                # the reader sees the end of the stream first (its last chunk), then the breach
                self._deferred = error
            raise
        if self._limits is not None and self.check_tokens_per_event:
            self._limits.check_tokens(self._ctx.state.usage + self._streamed.usage())
        if self._final_result_event is None:
            self._final_result_event = self._pending = final_result_event(event, self._ctx)
        return event

    async def stream_responses(self, *, debounce_by: float | None = 0.1) -> AsyncIterator[ModelResponse]:
        """The response as received so far, after each group of events (unvalidated)."""
        current = self.get()
        if any(part.has_content() for part in current.parts):
            yield current
        async for _ in group_by_time(self, debounce_by):
            yield self.get()

    async def stream_output(self, *, debounce_by: float | None = 0.1) -> AsyncIterator[Any]:
        """The final result as it grows, validated in partial mode; the last one is complete."""
        async for response in self.stream_responses(debounce_by=debounce_by):
            if self._final_result_event is not None:
                yield await self._validate(response, allow_partial=True)
        if self._final_result_event is not None:
            yield await self._validate(self.get(), allow_partial=False)

    async def _validate(self, response: ModelResponse, *, allow_partial: bool) -> Any:
        assert self._final_result_event is not None
        schema = self._ctx.deps.result_schema
        validators = self._ctx.deps.result_validators
        run_context = self._ctx.run_context()
        name = self._final_result_event.tool_name
        data, call = schema.streamed_data(response.parts, name, allow_partial=allow_partial)
        for validator in validators:
            data = await validator.validate(data, run_context, call)
        return data

    def raise_deferred(self) -> None:
        """Raise the token-limit breach found when the stream completed, if it was put off."""
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error

    def get(self) -> ModelResponse:
        """The response as received so far."""
        return self._streamed.get()

    def usage(self) -> Usage:
        """Usage of the run including this request as reported so far."""
        return self._initial_usage + self._streamed.usage()

    def request_usage(self) -> Usage:
        """The usage of this request alone, as reported so far."""
        return self._streamed.usage()
