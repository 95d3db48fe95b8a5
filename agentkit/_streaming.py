"""Streams seen by users: the events of a model request inside `iter`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentkit.messages import ModelResponse, ModelResponseStreamEvent
from agentkit.models._base import StreamedResponse
from agentkit.usage import Usage

if TYPE_CHECKING:
    from agentkit._nodes import GraphRunContext

__all__ = ("AgentStream",)


class AgentStream:
    """The part start / part delta events of one streamed model request."""

    def __init__(
        self,
        streamed: StreamedResponse,
        ctx: GraphRunContext,
        on_complete: Callable[[], object],
    ) -> None:
        self._streamed = streamed
        self._on_complete = on_complete
        self._ctx = ctx
        self._iterator = streamed.__aiter__()
        self.is_complete = False
        """True once every event has been read."""

    def __aiter__(self) -> AgentStream:
        return self

    async def __anext__(self) -> ModelResponseStreamEvent:
        if self.is_complete:
            raise StopAsyncIteration
        try:
            event = await self._iterator.__anext__()
        except StopAsyncIteration:
            self.is_complete = True
            self._on_complete()
            raise
        limits = self._ctx.deps.usage_limits
        if limits.has_token_limits():
            limits.check_tokens(self._ctx.state.usage + self._streamed.usage())
        return event

    def get(self) -> ModelResponse:
        """The response as received so far."""
        return self._streamed.get()

    def usage(self) -> Usage:
        """The usage of this request as reported so far."""
        return self._streamed.usage()
