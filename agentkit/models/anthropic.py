"""Anthropic messages models on the official `anthropic` SDK (imported at the first request)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from typing_extensions import TypedDict

from agentkit.exceptions import UnexpectedModelBehavior, UserError
from agentkit.messages import (
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from agentkit.models._base import ModelRequestParameters, StreamedResponse, schema_for_provider
from agentkit.models._provider import (
    ProviderModel,
    close_shielded,
    import_sdk,
    refuse_long_retry_waits,
    tool_choice_for,
    tools_for,
)
from agentkit.settings import ModelSettings
from agentkit.usage import Usage

if TYPE_CHECKING:
    import httpx2
    from anthropic import AsyncAnthropic, AsyncStream
    from anthropic.types import ContentBlock, Message, RawMessageStreamEvent, ToolUseBlock

__all__ = ("AnthropicModel", "AnthropicModelName", "AnthropicModelSettings")

AnthropicModelName: TypeAlias = str
"""A Claude model's name, e.g. `claude-3-5-sonnet-latest`."""


class AnthropicMetadata(TypedDict, total=False):
    """What Anthropic's `metadata` request field holds."""

    user_id: str | None
    """An opaque id of the end user the request is made for (never a name, email or phone number)."""


class AnthropicModelSettings(ModelSettings, total=False):
    """Settings for an Anthropic request: the common `ModelSettings` and Anthropic's own."""

    anthropic_metadata: AnthropicMetadata
    """Metadata about the request, such as the `user_id` it is made for."""


DEFAULT_MAX_TOKENS = 1024
"""The messages API requires `max_tokens`; this is sent when the settings give none."""

_SETTINGS_PASSED_AS_IS = ("max_tokens", "stop_sequences", "timeout")
_SETTINGS_IN_BODY = ("temperature", "top_p")
"""Sent through `extra_body`: recent SDKs have no keyword for them, though the API takes them."""


class AnthropicModel(ProviderModel["AsyncAnthropic"]):
    """A Claude model on the Anthropic messages API.

    Args:
        model_name: the model to ask for, e.g. `claude-3-5-sonnet-latest`.
        api_key: the key; read from `ANTHROPIC_API_KEY` at the first request when omitted.
        anthropic_client: a ready `anthropic.AsyncAnthropic` to use instead of building one; then
            `api_key` and `http_client` must be None.
        http_client: an `httpx2.AsyncClient` for the SDK client to send its requests with.
        base_url: the API root; Anthropic's by default.

    The client it builds does not wait out a `retry-after` over a minute (the SDK would, an hour if
    told so): that error status is raised at once as `ModelHTTPError`. A client you pass is used as it is.
    """

    sdk_name = "anthropic"
    api_key_env_var = "ANTHROPIC_API_KEY"
    provider_label = "Anthropic"
    base_url_env_var = "ANTHROPIC_BASE_URL"
    default_base_url = "https://api.anthropic.com"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        anthropic_client: AsyncAnthropic | None = None,
        http_client: httpx2.AsyncClient | None = None,
        base_url: str | None = None,
    ) -> None:
        if anthropic_client is not None:
            for name, value in {"api_key": api_key, "http_client": http_client, "base_url": base_url}.items():
                if value is not None:
                    raise UserError(f"Cannot provide both `anthropic_client` and `{name}`: the client has its own")
        super().__init__(model_name, base_url=base_url, api_key=api_key, client=anthropic_client)
        if http_client is not None:
            sdk = import_sdk(self.sdk_name, self.sdk_name)
            self._given_client = sdk.AsyncAnthropic(
                api_key=self._read_api_key(), base_url=base_url, http_client=http_client
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _create_client(self, sdk: ModuleType, api_key: str) -> AsyncAnthropic:
        http_client = sdk.DefaultAsyncHttpxClient(event_hooks={"response": [refuse_long_retry_waits]})
        client: AsyncAnthropic = sdk.AsyncAnthropic(api_key=api_key, base_url=self._base_url, http_client=http_client)
        return client

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        sdk, client = self._start_request()
        arguments = self._arguments(messages, model_settings, model_request_parameters)
        with self._translate_errors(sdk, client):
            message: Message | str = await client.messages.create(**arguments, stream=False)
        if isinstance(message, str):
            raise self._not_json(client, message)
        answer = _Answer(self._model_name, "the response")
        for index, block in enumerate(message.content or ()):
            answer.add_block(index, block.type, block)
        answer.check_stop(message.stop_reason, message.model_dump_json)
        usage = message.usage
        if usage is None:
            return ModelResponse(parts=answer.parts, model_name=message.model), Usage()
        return ModelResponse(parts=answer.parts, model_name=message.model), _usage(
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        sdk, client = self._start_request()
        arguments = self._arguments(messages, model_settings, model_request_parameters)
        with self._translate_errors(sdk, client):
            stream: AsyncStream[RawMessageStreamEvent] = await client.messages.create(**arguments, stream=True)
        try:
            await self._check_event_stream(client, stream)
            translate = partial(self._translate_errors, sdk, client, streaming=True)
            yield AnthropicStreamedResponse(self._model_name, stream, translate)
        finally:
            await close_shielded(stream)

    def _arguments(
        self, messages: list[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> dict[str, Any]:
        """The keyword arguments of `messages.create`, but `stream`."""
        system, mapped = _map_messages(messages)
        arguments: dict[str, Any] = {"model": self._model_name, "messages": mapped, "max_tokens": DEFAULT_MAX_TOKENS}
        if system:
            arguments["system"] = system
        given: dict[str, Any] = dict(settings or {})
        for name in _SETTINGS_PASSED_AS_IS:
            if name in given:
                arguments[name] = given[name]
        if "anthropic_metadata" in given:
            arguments["metadata"] = given["anthropic_metadata"]
        extra_body = {name: given[name] for name in _SETTINGS_IN_BODY if name in given} | given.get("extra_body", {})
        if extra_body:
            arguments["extra_body"] = extra_body
        tools = [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": schema_for_provider(tool.parameters_json_schema),
            }
            for tool in tools_for(parameters)
        ]
        if tools:
            arguments["tools"] = tools
            tool_choice = _map_tool_choice(tool_choice_for(settings, parameters), given.get("parallel_tool_calls"))
            if tool_choice is not None:
                arguments["tool_choice"] = tool_choice
        return arguments


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
        self._answer = _Answer(model_name, "the stream's message_delta event")
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
                self._usage = _usage(usage.input_tokens, usage.output_tokens, *self._cache_tokens)
        elif event.type == "message_delta":
            self._stop_reason = event.delta.stop_reason or self._stop_reason
            delta_usage = event.usage
            if delta_usage is not None:
                self._input_tokens = delta_usage.input_tokens or self._input_tokens
                self._usage = _usage(self._input_tokens, delta_usage.output_tokens, *self._cache_tokens)
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


class _Answer:
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


def _map_messages(messages: list[ModelMessage]) -> tuple[str, list[dict[str, Any]]]:
    """The `system` text and the alternating user/assistant `messages` for a history."""
    system: list[str] = []
    mapped: list[dict[str, Any]] = []

    def add(role: Literal["user", "assistant"], blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return  # the API refuses empty messages
        if mapped and mapped[-1]["role"] == role:
            mapped[-1]["content"].extend(blocks)  # the API wants roles to alternate
        else:
            mapped.append({"role": role, "content": blocks})

    for message in messages:
        if isinstance(message, ModelRequest):
            results: list[dict[str, Any]] = []
            texts: list[dict[str, Any]] = []
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    system.append(part.content)
                elif isinstance(part, UserPromptPart):
                    texts.extend(_map_user_prompt(part))
                else:
                    (texts if _is_text(part) else results).append(_map_request_part(part))
            # Tool results must open the user message that answers the tool calls.
            add("user", [*results, *(block for block in texts if block["type"] != "text" or block["text"])])
        else:
            add("assistant", [_map_response_part(part) for part in message.parts if part.has_content()])
    return "\n\n".join(system), mapped


def _is_text(part: UserPromptPart | ToolReturnPart | RetryPromptPart) -> bool:
    return isinstance(part, UserPromptPart) or (isinstance(part, RetryPromptPart) and part.tool_name is None)


def _map_user_prompt(part: UserPromptPart) -> list[dict[str, Any]]:
    """A user prompt as content blocks: one per item, files as `image` and `document` blocks."""
    if isinstance(part.content, str):
        return [{"type": "text", "text": part.content}]
    blocks: list[dict[str, Any]] = []
    for item in part.content:
        if isinstance(item, str):
            blocks.append({"type": "text", "text": item})
        elif isinstance(item, ImageUrl):
            blocks.append({"type": "image", "source": {"type": "url", "url": item.url}})
        elif isinstance(item, DocumentUrl) and item.media_type == "application/pdf":
            blocks.append({"type": "document", "source": {"type": "url", "url": item.url}})
        elif isinstance(item, BinaryContent) and (item.is_image or item.media_type == "application/pdf"):
            encoded = base64.b64encode(item.data).decode("ascii")
            source = {"type": "base64", "media_type": item.media_type, "data": encoded}
            blocks.append({"type": "image" if item.is_image else "document", "source": source})
        else:
            raise UserError(_unsupported_content(item))
    return blocks


def _unsupported_content(item: AudioUrl | DocumentUrl | BinaryContent) -> str:
    if isinstance(item, AudioUrl):
        return f"Anthropic models cannot take audio (AudioUrl {item.url} in the user prompt)"
    if isinstance(item, DocumentUrl):
        return (
            f"Anthropic models take PDF documents by URL, not {item.media_type!r} (DocumentUrl {item.url} in the "
            "user prompt): send its text as a str"
        )
    return (
        f"Anthropic models take images and PDFs as binary content, not {item.media_type!r} (BinaryContent in "
        "the user prompt): send text documents as a str"
    )


def _map_request_part(part: ToolReturnPart | RetryPromptPart) -> dict[str, Any]:
    if isinstance(part, ToolReturnPart):
        return {"type": "tool_result", "tool_use_id": part.tool_call_id, "content": part.model_response_str()}
    if part.tool_name is None:
        return {"type": "text", "text": part.model_response()}
    return {"type": "tool_result", "tool_use_id": part.tool_call_id, "content": part.model_response(), "is_error": True}


def _map_response_part(part: ModelResponsePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.content}
    try:
        arguments = part.args_as_dict()
    except ValueError:
        arguments = {}  # the model sent broken JSON; its retry prompt says so
    return {"type": "tool_use", "id": part.tool_call_id, "name": part.tool_name, "input": arguments}


def _map_tool_choice(choice: str | None, parallel_tool_calls: bool | None) -> dict[str, Any] | None:
    mapped: dict[str, Any]
    if choice is None or choice == "auto":
        mapped = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        mapped = {"type": "any"}
    else:
        mapped = {"type": "tool", "name": choice}
    if parallel_tool_calls is False:
        mapped["disable_parallel_tool_use"] = True
    elif choice is None:
        return None  # the API's default is auto
    return mapped


def _usage(input_tokens: int, output_tokens: int, cache_creation: int | None, cache_read: int | None) -> Usage:
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
