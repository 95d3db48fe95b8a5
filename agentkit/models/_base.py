"""The `Model` interface every backend implements, and the streamed-response machinery."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from agentkit._sources import now
from agentkit._streaming._parts_manager import ManagedPart, ModelResponsePartsManager
from agentkit.messages import ModelMessage, ModelResponse, ModelResponseStreamEvent, TextPart
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition
from agentkit.usage import Usage

__all__ = ("Model", "ModelRequestParameters", "StreamedResponse", "schema_for_provider")


def schema_for_provider(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool schema as sent to a provider API: a copy without the `title` keys pydantic adds.

    The titles (`'title': 'City'` for a parameter `city`) tell a model nothing the property
    name does not, so requests leave them out; the `ToolDefinition` keeps them.
    """
    cleaned = {key: value for key, value in schema.items() if key != "title"}
    if isinstance(properties := schema.get("properties"), dict):
        cleaned["properties"] = {
            name: {key: value for key, value in prop.items() if key != "title"} if isinstance(prop, dict) else prop
            for name, prop in properties.items()
        }
    if isinstance(definitions := schema.get("$defs"), dict):
        cleaned["$defs"] = {
            name: schema_for_provider(definition) if isinstance(definition, dict) else definition
            for name, definition in definitions.items()
        }
    return cleaned


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
    def system(self) -> str | None:
        """The provider of the model, e.g. `openai`, `anthropic`; None for `TestModel` and `FunctionModel`."""

    @property
    def base_url(self) -> str | None:
        """The API root requests go to; None for models that send no HTTP requests."""
        return None

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

    Subclasses implement `_events`, feeding vendor chunks to `_parts_manager` (a
    `ModelResponsePartsManager`), which keeps the parts and turns each chunk into an event.
    """

    def __init__(self, model_name: str, timestamp: datetime | None = None) -> None:
        self.model_name = model_name
        self.timestamp = timestamp or now()
        self._parts_manager = ModelResponsePartsManager()
        self._usage = Usage()
        self._iterator: AsyncIterator[ModelResponseStreamEvent] | None = None

    @property
    def _parts(self) -> list[ManagedPart]:
        """The parts being built, in order (a tool call missing its name is still a delta)."""
        return self._parts_manager._parts

    @abstractmethod
    def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        """Yield the events of this stream, updating the parts manager and `_usage` along the way."""

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
        parts = self._parts_manager.get_parts()
        return ModelResponse(parts=parts, model_name=self.model_name, timestamp=self.timestamp)

    def usage(self) -> Usage:
        """The usage reported so far (providers often report it with the last chunk)."""
        return self._usage

    def _text_delta(self, vendor_id: Any, content: str) -> ModelResponseStreamEvent | None:
        """Add a chunk of text to the part `vendor_id` names; empty chunks cause no event."""
        if not content:
            return None
        return self._parts_manager.handle_text_delta(vendor_part_id=vendor_id, content=content)

    def _tool_call_delta(
        self,
        vendor_id: Any,
        *,
        tool_name: str | None = None,
        args: str | dict[str, Any] | None = None,
        tool_call_id: str | None = None,
    ) -> ModelResponseStreamEvent | None:
        """Add a piece of the tool call `vendor_id` names; a piece with nothing in it causes no event."""
        if tool_name is None and not args and tool_call_id is None and vendor_id in self._known_vendor_ids():
            return None
        return self._parts_manager.handle_tool_call_delta(
            vendor_part_id=vendor_id, tool_name=tool_name, args=args, tool_call_id=tool_call_id
        )

    def _known_vendor_ids(self) -> dict[Any, int]:
        return self._parts_manager._vendor_id_to_part_index


class CompleteStreamedResponse(StreamedResponse):
    """A stream over a response that is already complete: one start event per part."""

    def __init__(self, response: ModelResponse, usage: Usage) -> None:
        super().__init__(response.model_name or "", response.timestamp)
        self._response = response
        self._final_usage = usage

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        for part in self._response.parts:
            if isinstance(part, TextPart):
                yield self._parts_manager.handle_text_delta(vendor_part_id=object(), content=part.content)
            else:
                yield self._parts_manager.handle_tool_call_part(
                    vendor_part_id=None, tool_name=part.tool_name, args=part.args, tool_call_id=part.tool_call_id
                )
        self._usage = self._final_usage
