"""The `Model` interface every backend implements, and the streamed-response machinery."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from agentkit._sources import new_id, now
from agentkit.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition
from agentkit.usage import Usage

__all__ = ("Model", "ModelRequestParameters", "StreamedResponse")


@dataclass
class ModelRequestParameters:
    """What the run offers the model in one request: its tools and how it may answer."""

    function_tools: list[ToolDefinition] = field(default_factory=list)
    allow_text_result: bool = True
    result_tools: list[ToolDefinition] = field(default_factory=list)


class Model(ABC):
    """A backend that answers a list of messages with a `ModelResponse`.

    Implementations return the request's `Usage` beside the response. `request_stream` has a
    default that streams the whole answer of `request` as one event per part.
    """

    sends_real_requests: ClassVar[bool] = True
    """Whether requests leave the process; such models refuse to run while requests are blocked."""

    @property
    @abstractmethod
    def model_name(self) -> str:
        """The model's name, e.g. `gpt-4o`."""

    @property
    @abstractmethod
    def system(self) -> str:
        """The provider or kind of model, e.g. `openai`, `test`, `function`."""

    @abstractmethod
    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        """Send `messages` and return the response with the usage of this one request."""

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        """Send `messages` and stream the response as it arrives."""
        response, usage = await self.request(messages, model_settings, model_request_parameters)
        yield CompleteStreamedResponse(response, usage)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_name={self.model_name!r})"


class StreamedResponse(ABC):
    """A response being streamed: iterate it for part events, then `get()` the whole response.

    Subclasses implement `_events`, typically by feeding vendor chunks to `_text_delta` and
    `_tool_call_delta`, which keep the parts and turn each chunk into an event.
    """

    def __init__(self, model_name: str, timestamp: datetime | None = None) -> None:
        self.model_name = model_name
        self.timestamp = timestamp or now()
        self._parts: list[ModelResponsePart] = []
        self._vendor_ids: dict[Any, int] = {}
        self._usage = Usage()
        self._iterator: AsyncIterator[ModelResponseStreamEvent] | None = None

    @abstractmethod
    def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        """Yield the events of this stream, updating `_parts` and `_usage` along the way."""

    def __aiter__(self) -> AsyncIterator[ModelResponseStreamEvent]:
        if self._iterator is None:
            self._iterator = self._events()
        return self._iterator

    async def aclose(self) -> None:
        """Stop receiving: close the underlying event generator (used when a consumer leaves early)."""
        close = getattr(self._iterator, "aclose", None)
        if close is not None:
            await close()

    def get(self) -> ModelResponse:
        """The response as received so far."""
        parts = [part for part in self._parts if part.has_content()]
        return ModelResponse(parts=parts, model_name=self.model_name, timestamp=self.timestamp)

    def usage(self) -> Usage:
        """The usage reported so far (providers often report it with the last chunk)."""
        return self._usage

    def _new_part(self, vendor_id: Any, part: ModelResponsePart) -> PartStartEvent:
        index = len(self._parts)
        self._parts.append(part)
        if vendor_id is not None:
            self._vendor_ids[vendor_id] = index
        return PartStartEvent(index, part)

    def _text_delta(self, vendor_id: Any, content: str) -> PartStartEvent | PartDeltaEvent | None:
        """Add text; starts a new text part unless the part for `vendor_id` (or the last part) is text."""
        index = self._vendor_ids.get(vendor_id) if vendor_id is not None else None
        if index is None and vendor_id is None and self._parts and isinstance(self._parts[-1], TextPart):
            index = len(self._parts) - 1
        if index is None or not isinstance(self._parts[index], TextPart):
            if not content:
                return None
            return self._new_part(vendor_id, TextPart(content))
        if not content:
            return None
        delta = TextPartDelta(content)
        self._parts[index] = delta.apply(self._parts[index])
        return PartDeltaEvent(index, delta)

    def _tool_call_delta(
        self,
        vendor_id: Any,
        *,
        tool_name: str | None = None,
        args: str | dict[str, Any] | None = None,
        tool_call_id: str | None = None,
    ) -> PartStartEvent | PartDeltaEvent | None:
        """Add to the tool call for `vendor_id`, starting it when new."""
        index = self._vendor_ids.get(vendor_id)
        if index is None or not isinstance(self._parts[index], ToolCallPart):
            part = ToolCallPart(tool_name or "", args if args is not None else "", tool_call_id or new_id())
            return self._new_part(vendor_id, part)
        if not (tool_name or args or tool_call_id):
            return None
        delta = ToolCallPartDelta(tool_name_delta=tool_name, args_delta=args, tool_call_id=tool_call_id)
        self._parts[index] = delta.apply(self._parts[index])
        return PartDeltaEvent(index, delta)


class CompleteStreamedResponse(StreamedResponse):
    """A stream over a response that is already complete: one start event per part."""

    def __init__(self, response: ModelResponse, usage: Usage) -> None:
        super().__init__(response.model_name or "", response.timestamp)
        self._response = response
        self._final_usage = usage

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        for part in self._response.parts:
            yield self._new_part(None, part)
        self._usage = self._final_usage
