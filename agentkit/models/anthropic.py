"""Anthropic messages models on the official `anthropic` SDK (imported at the first request)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from typing_extensions import TypedDict

from agentkit.exceptions import UserError
from agentkit.messages import (
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolReturnPart,
    UserPromptPart,
)
from agentkit.models._anthropic_stream import Answer, AnthropicStreamedResponse, message_usage
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
    from anthropic.types import Message, RawMessageStreamEvent

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
        answer = Answer(self._model_name, "the response")
        for index, block in enumerate(message.content or ()):
            answer.add_block(index, block.type, block)
        answer.check_stop(message.stop_reason, message.model_dump_json)
        usage = message.usage
        if usage is None:
            return ModelResponse(parts=answer.parts, model_name=message.model), Usage()
        return ModelResponse(parts=answer.parts, model_name=message.model), message_usage(
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
