"""Reading Anthropic messages: the streamed response, and the checks that an answer is whole and usable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import UnexpectedModelBehavior
from agentkit.messages import ModelResponsePart, ModelResponseStreamEvent, TextPart, ToolCallPart
from agentkit.models._base import StreamedResponse
from agentkit.usage import Usage

if TYPE_CHECKING:
    from anthropic import AsyncStream
    from anthropic.types import ContentBlock, RawMessageStreamEvent, ToolUseBlock

__all__ = ("Answer", "AnthropicStreamedResponse", "message_usage")


class AnthropicStreamedResponse(StreamedResponse):
    """Turns raw message-stream events into part events, one part per content block.

    The stream must end with `message_stop` and a `stop_reason` that says the answer is whole:
    a stream that breaks off, or stops at a refusal, raises instead of leaving a partial answer.
    """

    def __init__(
        self,
        model_name: str,
        stream: AsyncStream[RawMessageStreamEvent],
        translate_errors: Callable[[], AbstractContextManager[None]],
    ) -> None:
        super().__init__(model_name)
        self._stream = stream
        self._translate_errors = translate_errors
        self._input_tokens = 0
        self._cache_tokens: tuple[int | None, int | None] = (None, None)
        self._answer = Answer(model_name, "the stream's message_delta event")
        self._stop_reason: str | None = None
        self._stopped = False
        self._received: list[str] = []

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        with self._translate_errors():
            async for event in self._stream:
                self._received.append(event.type)
                for part_event in self._handle(event):
                    yield part_event
        if not self._stopped:
            last = f"the last a {self._received[-1]!r}" if self._received else "none at all"
            raise UnexpectedModelBehavior(
                f"The stream of Anthropic model {self._answer.model_name!r} ended without its message_stop event "
                f"after {len(self._received)} events ({last}): the answer is incomplete and was not used; "
                "send the request again"
            )
        self._answer.parts = self._parts_manager.get_parts()
        self._answer.check_stop(self._stop_reason, None)

    def _handle(self, event: RawMessageStreamEvent) -> list[ModelResponseStreamEvent]:
        found: ModelResponseStreamEvent | None = None
        if event.type == "message_start":
            self.model_name = event.message.model
            usage = event.message.usage
            if usage is not None:
                self._input_tokens = usage.input_tokens
                self._cache_tokens = (usage.cache_creation_input_tokens, usage.cache_read_input_tokens)
                self._usage = message_usage(usage.input_tokens, usage.output_tokens, *self._cache_tokens)
        elif event.type == "message_delta":
            self._stop_reason = event.delta.stop_reason or self._stop_reason
            delta_usage = event.usage
            if delta_usage is not None:
                self._input_tokens = delta_usage.input_tokens or self._input_tokens
                self._usage = message_usage(self._input_tokens, delta_usage.output_tokens, *self._cache_tokens)
        elif event.type == "message_stop":
            self._stopped = True
        elif event.type == "content_block_start":
            block = event.content_block
            self._answer.add_block(event.index, block.type, None)
            if block.type == "text":
                found = self._text_delta(event.index, block.text)
            elif block.type == "tool_use":
                arguments = _tool_input(self._answer.model_name, f"content block {event.index}", block)
                # Empty JSON text, not None: the call starts now, with its name, and arguments follow as text.
                args = json.dumps(arguments) if arguments else ""
                found = self._tool_call_delta(event.index, tool_name=block.name, args=args, tool_call_id=block.id)
        elif event.type == "content_block_delta" and event.index not in self._answer.skipped:
            delta = event.delta
            if delta.type == "text_delta":
                found = self._text_delta(event.index, delta.text)
            elif delta.type == "input_json_delta":
                found = self._tool_call_delta(event.index, args=delta.partial_json)
            else:
                raise UnexpectedModelBehavior(
                    f"Anthropic model {self._answer.model_name!r} sent a {delta.type!r} delta for content block "
                    f"{event.index} (a content_block_delta event), which agentkit cannot read: the answer would "
                    "be incomplete without it"
                )
        # Other events (ping, content_block_stop, types added later) carry nothing of the answer.
        return [] if found is None else [found]


_SKIPPED_BLOCKS = ("thinking", "redacted_thinking")
"""The model's reasoning: not part of the answer, and the messages of pydantic-ai 0.0.39 have no part for it."""
_KNOWN_STOP_REASONS = ("end_turn", "stop_sequence", "tool_use", "max_tokens", "refusal")


class Answer:
    """The parts of one answer, block by block, and the checks that it is whole and usable."""

    def __init__(self, model_name: str, stop_source: str) -> None:
        self.model_name = model_name
        self.parts: list[ModelResponsePart] = []
        self.skipped: set[int] = set()
        self._stop_source = stop_source

    def add_block(self, index: int, kind: str, block: ContentBlock | None) -> None:
        """Take content block `index`; `block` is None for a streamed block, whose content comes in deltas."""
        if kind in _SKIPPED_BLOCKS:
            self.skipped.add(index)
            return
        if kind not in ("text", "tool_use"):
            raise UnexpectedModelBehavior(
                f"Anthropic model {self.model_name!r} answered with a {kind!r} content block (content block "
                f"{index}), which agentkit cannot read (it reads text and tool_use, and skips thinking): the "
                "answer would be incomplete without it"
            )
        if block is None:
            return
        if block.type == "text" and block.text:
            self.parts.append(TextPart(block.text))
        elif block.type == "tool_use":
            arguments = _tool_input(self.model_name, f"content[{index}]", block)
            self.parts.append(ToolCallPart(block.name, arguments, block.id))

    def check_stop(self, stop_reason: str | None, body: Callable[[], str] | None) -> None:
        """Raise unless `stop_reason` says the answer is whole, or is text cut at the `max_tokens` the caller set."""
        if stop_reason in ("end_turn", "stop_sequence", "tool_use"):
            return
        where = f"stop_reason {stop_reason!r} in {self._stop_source}"
        text = "".join(part.content for part in self.parts if isinstance(part, TextPart))
        if stop_reason is None:
            raise UnexpectedModelBehavior(
                f"Anthropic model {self.model_name!r} gave no stop_reason ({self._stop_source} has none), so "
                "whether its answer is whole is unknown, and it was not used",
                body() if body else text or None,
            )
        if stop_reason == "max_tokens":
            last = self.parts[-1] if self.parts else None
            if isinstance(last, ToolCallPart):
                raise UnexpectedModelBehavior(
                    f"Anthropic model {self.model_name!r} reached max_tokens in the middle of tool call "
                    f"{last.tool_name!r} ({where}): its arguments are cut off; raise the max_tokens setting",
                    body() if body else last.args_as_json_str(),
                )
            if not self.parts:
                raise UnexpectedModelBehavior(
                    f"Anthropic model {self.model_name!r} reached max_tokens before it answered anything "
                    f"({where}); raise the max_tokens setting",
                    body() if body else None,
                )
            return  # text cut at the caller's limit is the answer, as in pydantic-ai
        if stop_reason == "refusal":
            raise UnexpectedModelBehavior(
                f"Anthropic model {self.model_name!r} declined to answer ({where})",
                body() if body else text or None,
            )
        raise UnexpectedModelBehavior(
            f"Anthropic model {self.model_name!r} stopped for a reason agentkit does not know ({where}; it knows "
            f"{', '.join(_KNOWN_STOP_REASONS)}), so the answer may be incomplete and was not used",
            body() if body else text or None,
        )


def _tool_input(model_name: str, where: str, block: ToolUseBlock) -> dict[str, Any]:
    """The `input` of a tool_use block, which the API documents as a JSON object."""
    value: object = block.input
    if isinstance(value, dict):
        return value
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    kind = "null" if value is None else kinds.get(type(value), type(value).__name__)
    raise UnexpectedModelBehavior(
        f"Anthropic model {model_name!r} called tool {block.name!r} ({where}) with an `input` that is {kind}, not "
        "a JSON object of arguments",
        json.dumps(value, default=repr),
    )


def message_usage(input_tokens: int, output_tokens: int, cache_creation: int | None, cache_read: int | None) -> Usage:
    """The `Usage` of a message from its token counts; the cache counts go in `details` when nonzero."""
    details = {
        name: value
        for name, value in (("cache_creation_input_tokens", cache_creation), ("cache_read_input_tokens", cache_read))
        if value
    }
    return Usage(
        request_tokens=input_tokens,
        response_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        details=details or None,
    )
