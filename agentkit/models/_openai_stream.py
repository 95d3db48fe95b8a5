"""Reading OpenAI chat completions: the streamed response, and checks on the SDK's unvalidated fields."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentkit._sources import new_id
from agentkit.exceptions import UnexpectedModelBehavior
from agentkit.messages import (
    ModelResponseStreamEvent,
    TextPart,
    ToolCallPart,
    ToolCallPartDelta,
    messages_to_json,
)
from agentkit.models._base import StreamedResponse
from agentkit.models._provider import MAX_BODY_IN_ERROR, timestamp_from_unix
from agentkit.usage import Usage

if TYPE_CHECKING:
    from openai import AsyncStream
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletionChunk

__all__ = ("OpenAIStreamedResponse", "completion_usage", "dumped", "text_field")


class OpenAIStreamedResponse(StreamedResponse):
    """Turns chat-completion chunks into part events: text deltas and tool-call deltas by index.

    The stream must end with a `finish_reason`: a stream without one broke off, and its answer is
    refused rather than passed on as a whole one; so is one the server filtered or cut inside a tool call.
    """

    def __init__(
        self,
        model_name: str,
        stream: AsyncStream[ChatCompletionChunk],
        translate_errors: Callable[[], AbstractContextManager[None]],
        target: str = "the OpenAI model",
    ) -> None:
        super().__init__(model_name)
        self._stream = stream
        self._translate_errors = translate_errors
        self._target = target
        self._requested_model = model_name
        self._chunks = 0
        self._finish_reason: str | None = None
        self._last_call: tuple[str, object] | None = None

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        with self._translate_errors():
            async for chunk in self._stream:
                self._chunks += 1
                try:
                    if self._chunks == 1:
                        self.model_name = chunk.model or self.model_name
                        self.timestamp = timestamp_from_unix(chunk.created)
                    if chunk.usage is not None:
                        self._usage = completion_usage(chunk.usage)
                    events = self._chunk_events(chunk)
                except (AttributeError, TypeError, ValueError) as error:  # unvalidated SDK objects, as above
                    raise UnexpectedModelBehavior(
                        f"{self._target} sent a stream chunk that is not a chat completion chunk ({error})",
                        dumped(chunk),
                    ) from error
                for event in events:
                    yield event
        if self._finish_reason is None:
            # A stream cut short (a dropped connection, a server that stopped) would otherwise pass for
            # a complete answer; what did arrive is kept in the error.
            raise UnexpectedModelBehavior(
                f"The stream from {self._target} ended before the model finished (no chunk carried a "
                "finish_reason): the connection was cut, the server stopped early, or it did not stream; "
                "what arrived is in this error's body",
                messages_to_json([self.get()]).decode(),
            )
        self._check_finished()

    def _chunk_events(self, chunk: ChatCompletionChunk) -> list[ModelResponseStreamEvent]:
        if not chunk.choices:
            return []
        choice = chunk.choices[0]
        if choice.index not in (0, None) or len(chunk.choices) > 1:
            raise UnexpectedModelBehavior(
                f"OpenAI model {self._requested_model!r} streamed choice {choice.index} (chunk {self._chunks}), "
                "but one answer was asked for (n=1): the pieces of several answers cannot be told apart"
            )
        self._finish_reason = choice.finish_reason or self._finish_reason
        delta = choice.delta
        if delta is None:  # some servers send the last chunk with a finish_reason only
            return []
        events: list[ModelResponseStreamEvent | None] = []
        content = text_field(delta.content, "choices[0].delta.content")
        if content:
            events.append(self._text_delta("content", content))
        for call in delta.tool_calls or ():
            key = self._call_key(call.index, call.id)
            index = self._known_vendor_ids().get(key)
            current = self._parts[index] if index is not None else None
            function = call.function
            name = function.name if function else None
            # Some servers repeat the name on every chunk; it is only ever sent whole, so take it once.
            if isinstance(current, ToolCallPart) and current.tool_name:
                name = None
            events.append(
                self._tool_call_delta(
                    key, tool_name=name, args=function.arguments if function else None, tool_call_id=call.id
                )
            )
        return [event for event in events if event is not None]

    def _call_key(self, index: int | None, call_id: str | None) -> tuple[str, object]:
        """Which tool call a delta belongs to: its index; without one, its id, else the call before it."""
        if index is not None:
            key: tuple[str, object] = ("tool_call", index)
        elif call_id is not None:
            key = ("tool_call_id", call_id)
        elif self._last_call is not None:
            key = self._last_call
        else:
            raise UnexpectedModelBehavior(
                f"OpenAI model {self._requested_model!r} sent a tool-call delta with neither an index nor an id, "
                f"and no tool call before it to continue (chunk {self._chunks})"
            )
        self._last_call = key
        return key

    def _check_finished(self) -> None:
        """Refuse an answer filtered or cut inside a tool call; give tool calls sent without an id one."""
        model = self._requested_model
        last = self._parts[-1] if self._parts else None
        if self._finish_reason == "length" and isinstance(last, ToolCallPart | ToolCallPartDelta):
            raise UnexpectedModelBehavior(
                f"OpenAI model {model!r} reached its token limit in the middle of tool call "
                f"{last.tool_name if isinstance(last, ToolCallPart) else last.tool_name_delta!r} (finish_reason "
                "'length' in the stream's last choice): its arguments are cut off; raise the max_tokens setting",
                last.args_as_json_str() if isinstance(last, ToolCallPart) else None,
            )
        if self._finish_reason == "content_filter":
            text = "".join(part.content for part in self._parts if isinstance(part, TextPart))
            raise UnexpectedModelBehavior(
                f"OpenAI model {model!r} had its answer withheld by the server's content filter (finish_reason "
                "'content_filter' in the stream's last choice)",
                text or None,
            )
        for index, part in enumerate(self._parts):
            if isinstance(part, ToolCallPartDelta):
                raise UnexpectedModelBehavior(
                    f"The stream of OpenAI model {model!r} never named the tool of tool call {index} (arguments "
                    f"{part.args_delta!r}): the call cannot be made"
                )
            if isinstance(part, ToolCallPart) and part.tool_call_id is None:
                # The id goes back with the call's return; the API refuses a tool message without one.
                self._parts[index] = replace(part, tool_call_id=new_id())


def dumped(value: Any) -> str | None:
    """An SDK object as JSON for an error's body, whatever its fields hold."""
    try:
        text: str = value.model_dump_json(warnings=False)
    except (TypeError, ValueError):  # fields pydantic cannot serialize: the error shows the repr instead
        text = repr(value)
    return text[:MAX_BODY_IN_ERROR]


def text_field(value: Any, where: str) -> Any:
    """`value` if it is text or None; the SDK does not validate, so a field at `where` may hold any JSON."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{where} is {type(value).__name__} {value!r}, not text")
    return value


def _token_count(value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"usage.{where} is {type(value).__name__} {value!r}, not an integer")
    return value


def completion_usage(usage: CompletionUsage | None) -> Usage:
    """The `Usage` a completion or a stream chunk reports; an empty `Usage` when it reports none."""
    if usage is None:
        return Usage()
    details: dict[str, int] = {}
    if usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens:
        details["cached_tokens"] = usage.prompt_tokens_details.cached_tokens
    if usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens:
        details["reasoning_tokens"] = usage.completion_tokens_details.reasoning_tokens
    return Usage(
        request_tokens=_token_count(usage.prompt_tokens, "prompt_tokens"),
        response_tokens=_token_count(usage.completion_tokens, "completion_tokens"),
        total_tokens=_token_count(usage.total_tokens, "total_tokens"),
        details=details or None,
    )
