"""OpenAI-compatible chat models on the official `openai` SDK (imported at the first request).

Works with OpenAI and with compatible servers such as llama.cpp's: pass `base_url` and any key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from agentkit.exceptions import UnexpectedModelBehavior, UserError
from agentkit.messages import (
    AudioUrl,
    BinaryContent,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
)
from agentkit.models._base import ModelRequestParameters, StreamedResponse, schema_for_provider
from agentkit.models._openai_stream import OpenAIStreamedResponse, completion_usage, dumped, text_field
from agentkit.models._provider import (
    ProviderModel,
    close_shielded,
    import_sdk,
    read_api_key,
    timestamp_from_unix,
    tool_choice_for,
    tools_for,
)
from agentkit.providers import Provider, infer_provider
from agentkit.providers.openai import KEY_PLACEHOLDER, OpenAICompatibleProvider, check_client_alone
from agentkit.settings import ModelSettings
from agentkit.usage import Usage

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ("OpenAIModel", "OpenAIModelName", "OpenAIModelSettings", "OpenAISystemPromptRole")

OpenAIModelName: TypeAlias = str
"""A chat model's name, e.g. `gpt-4o`; any name the server knows."""


class OpenAIModelSettings(ModelSettings, total=False):
    """Settings for an OpenAI request: the common `ModelSettings` and OpenAI's own."""

    openai_reasoning_effort: Literal["low", "medium", "high"]
    """How hard a reasoning model thinks: less effort answers sooner with fewer reasoning tokens."""


OpenAISystemPromptRole: TypeAlias = Literal["system", "developer", "user"]
"""The role system prompts are sent with; some models want `developer` or `user` instead of `system`."""

_SETTINGS_PASSED_AS_IS = (
    "max_tokens",
    "temperature",
    "top_p",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "timeout",
    "extra_body",
)


class OpenAIModel(ProviderModel["AsyncOpenAI"]):
    """A chat-completions model of OpenAI or of any OpenAI-compatible server.

    Args:
        model_name: the model to ask for, e.g. `gpt-4o`.
        provider: where the API lives: `'openai'` (the default), `'deepseek'`, or a provider such as
            `OpenAIProvider(base_url='http://127.0.0.1:8080/v1')`.
        base_url: the API root (older form of `provider=OpenAIProvider(base_url=...)`); a server other
            than OpenAI's gets a placeholder key when none is given, as local servers need none.
        api_key: the key; read from `OPENAI_API_KEY` at the first request when omitted.
        openai_client: a ready `openai.AsyncOpenAI` to use instead of building one.
        http_client: an `httpx2.AsyncClient` for the SDK client to send its requests with.
        system_prompt_role: the role system prompts are sent with: `'system'` (the default when None),
            `'developer'` or `'user'`.
        system: the provider's name as observability tools see it; `'openai'` by default.
    """

    sdk_name = "openai"
    api_key_env_var = "OPENAI_API_KEY"
    provider_label = "OpenAI"
    base_url_env_var = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"

    def __init__(
        self,
        model_name: str,
        *,
        provider: Literal["openai", "deepseek"] | Provider[AsyncOpenAI] | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        openai_client: AsyncOpenAI | None = None,
        http_client: httpx2.AsyncClient | None = None,
        system_prompt_role: OpenAISystemPromptRole | None = None,
        system: str | None = "openai",
    ) -> None:
        client = openai_client
        self._placeholder_key = base_url is not None
        if provider is not None:
            given = {
                "base_url": base_url,
                "api_key": api_key,
                "openai_client": openai_client,
                "http_client": http_client,
            }
            for name, value in given.items():
                if value is not None:
                    raise UserError(f"Cannot provide both `provider` and `{name}`: pass {name} to the provider")
            base_url, client, self._provider_key = _provider_connection(provider)
        else:
            check_client_alone(openai_client, base_url=base_url, api_key=api_key, http_client=http_client)
            self._provider_key = None
            if http_client is not None:
                sdk = import_sdk("openai", "openai")
                client = sdk.AsyncOpenAI(base_url=base_url, api_key=self._key_for(api_key), http_client=http_client)
        super().__init__(model_name, base_url=base_url, api_key=api_key, client=client)
        self.system_prompt_role = system_prompt_role
        self._system = system
        self._server_takes_stream_options = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(system_prompt_role={self.system_prompt_role!r})"

    @property
    def system(self) -> str | None:
        return self._system

    def _key_for(self, api_key: str | None) -> str:
        if self._provider_key is not None:
            return self._provider_key()
        if api_key is None and not os.environ.get(self.api_key_env_var) and self._placeholder_key:
            return KEY_PLACEHOLDER
        return read_api_key(api_key, self.api_key_env_var, self.provider_label)

    def _read_api_key(self) -> str:
        return self._key_for(self._api_key)

    def _create_client(self, sdk: ModuleType, api_key: str) -> AsyncOpenAI:
        client: AsyncOpenAI = sdk.AsyncOpenAI(api_key=api_key, base_url=self._base_url)
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
            completion: ChatCompletion | str = await client.chat.completions.create(**arguments, stream=False)
        if isinstance(completion, str):  # the SDK hands over a body whose content type is not JSON as text
            raise self._not_json(client, completion)
        try:
            return self._response(completion), completion_usage(completion.usage)
        except (AttributeError, TypeError, ValueError) as error:
            # The SDK builds its objects without validating them: any field may hold any JSON value.
            raise _not_a_completion(self._target(client), str(error), dumped(completion)) from error

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
            stream = await self._create_stream(sdk, client, arguments)
        try:
            await self._check_event_stream(client, stream)
            translate = partial(self._translate_errors, sdk, client, streaming=True)
            yield OpenAIStreamedResponse(self._model_name, stream, translate, self._target(client))
        finally:
            await close_shielded(stream)

    async def _create_stream(
        self, sdk: ModuleType, client: AsyncOpenAI, arguments: dict[str, Any]
    ) -> AsyncStream[ChatCompletionChunk]:
        """Ask for a stream with usage; without `stream_options` for servers that refuse it."""
        if self._server_takes_stream_options:
            try:
                stream: AsyncStream[ChatCompletionChunk] = await client.chat.completions.create(
                    **arguments, stream=True, stream_options={"include_usage": True}
                )
                return stream
            except sdk.BadRequestError as error:
                if "stream_options" not in f"{error.message} {error.body}":
                    raise
                self._server_takes_stream_options = False
        stream = await client.chat.completions.create(**arguments, stream=True)
        return stream

    def _arguments(
        self, messages: list[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> dict[str, Any]:
        """The keyword arguments of `chat.completions.create`, but `stream`."""
        arguments: dict[str, Any] = {
            "model": self._model_name,
            "messages": _map_messages(messages, self.system_prompt_role),
        }
        tools = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": schema_for_provider(tool.parameters_json_schema),
                    **({"strict": tool.strict} if tool.strict is not None else {}),
                },
            }
            for tool in tools_for(parameters)
        ]
        if tools:
            arguments["tools"] = tools
            arguments["tool_choice"] = _map_tool_choice(tool_choice_for(settings, parameters), tools)
        given: dict[str, Any] = dict(settings or {})
        for name in _SETTINGS_PASSED_AS_IS:
            if name in given:
                arguments[name] = given[name]
        if "stop_sequences" in given:
            arguments["stop"] = given["stop_sequences"]
        if "openai_reasoning_effort" in given:
            arguments["reasoning_effort"] = given["openai_reasoning_effort"]
        if "parallel_tool_calls" in given and tools:
            arguments["parallel_tool_calls"] = given["parallel_tool_calls"]
        return arguments

    def _response(self, completion: ChatCompletion) -> ModelResponse:
        if not completion.choices:
            raise UnexpectedModelBehavior(
                f"OpenAI model {self._model_name!r} answered with no choices", completion.model_dump_json()
            )
        message = completion.choices[0].message
        parts: list[ModelResponsePart] = []
        content = text_field(message.content, "choices[0].message.content")
        if content:
            parts.append(TextPart(content))
        for index, call in enumerate(message.tool_calls or ()):
            if call.type == "function":
                where = f"choices[0].message.tool_calls[{index}].function"
                name = text_field(call.function.name, f"{where}.name")
                parts.append(ToolCallPart(name, text_field(call.function.arguments, f"{where}.arguments"), call.id))
        return ModelResponse(
            parts=parts, model_name=completion.model, timestamp=timestamp_from_unix(completion.created)
        )


def _provider_connection(
    provider: Literal["openai", "deepseek"] | Provider[AsyncOpenAI],
) -> tuple[str | None, AsyncOpenAI | None, Callable[[], str] | None]:
    """The base URL, the client every request must use (None: build per loop) and the key source of `provider`."""
    if isinstance(provider, str):
        provider = infer_provider(provider)
    if isinstance(provider, OpenAICompatibleProvider):
        return provider.base_url, provider.fixed_client(), provider.api_key
    return provider.base_url, provider.client, None


def _map_tool_choice(choice: str | None, tools: list[dict[str, Any]]) -> str | dict[str, Any]:
    # Always explicit: llama-cpp-python's server ignores the tools when `tool_choice` is omitted,
    # and refuses 'required', so one required tool is named instead (the same thing for OpenAI).
    if choice == "required" and len(tools) == 1:
        choice = tools[0]["function"]["name"]
    if choice is None or choice in ("auto", "none", "required"):
        return choice or "auto"
    return {"type": "function", "function": {"name": choice}}


def _map_messages(messages: list[ModelMessage], system_role: OpenAISystemPromptRole | None) -> list[dict[str, Any]]:
    """The chat-completions `messages` for a history."""
    mapped: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            mapped.extend(_map_request_part(part, system_role or "system") for part in message.parts)
        else:
            mapped.append(_map_response(message))
    return mapped


def _map_request_part(
    part: SystemPromptPart | UserPromptPart | ToolReturnPart | RetryPromptPart, system_role: OpenAISystemPromptRole
) -> dict[str, Any]:
    if isinstance(part, SystemPromptPart):
        return {"role": system_role, "content": part.content}
    if isinstance(part, UserPromptPart):
        if isinstance(part.content, str):
            return {"role": "user", "content": part.content}
        return {"role": "user", "content": [_map_user_content(item) for item in part.content]}
    if isinstance(part, ToolReturnPart):
        return {"role": "tool", "tool_call_id": part.tool_call_id, "content": part.model_response_str()}
    if part.tool_name is None:
        return {"role": "user", "content": part.model_response()}
    return {"role": "tool", "tool_call_id": part.tool_call_id, "content": part.model_response()}


def _map_user_content(item: UserContent) -> dict[str, Any]:
    """One item of a user prompt as a chat-completions content part: text, `image_url` or `input_audio`."""
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, ImageUrl):
        return {"type": "image_url", "image_url": {"url": item.url}}
    if isinstance(item, BinaryContent):
        encoded = base64.b64encode(item.data).decode("ascii")
        if item.is_image:
            return {"type": "image_url", "image_url": {"url": f"data:{item.media_type};base64,{encoded}"}}
        if item.media_type in ("audio/wav", "audio/mpeg"):
            return {"type": "input_audio", "input_audio": {"data": encoded, "format": item.format}}
        raise UserError(
            f"OpenAI chat models take images and wav or mp3 audio as binary content, not {item.media_type!r} "
            "(BinaryContent in the user prompt); send documents to a model that reads them (AnthropicModel "
            "takes PDFs), or their text as a str"
        )
    if isinstance(item, AudioUrl):
        raise UserError(
            f"OpenAI chat models take audio as data, not as a URL: download {item.url} and pass "
            f"BinaryContent(data, media_type={item.media_type!r}) in the user prompt instead of AudioUrl"
        )
    raise UserError(
        f"OpenAI chat models cannot read documents (DocumentUrl {item.url} in the user prompt), as in "
        "pydantic-ai v0.0.39: send its text as a str, or use a model that reads PDFs (AnthropicModel)"
    )


def _map_response(response: ModelResponse) -> dict[str, Any]:
    # Always a string: llama.cpp's server rejects `content: null` beside `tool_calls`.
    text = "\n\n".join(part.content for part in response.parts if isinstance(part, TextPart))
    message: dict[str, Any] = {"role": "assistant", "content": text}
    calls = [
        {
            "id": part.tool_call_id,
            "type": "function",
            "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
        }
        for part in response.parts
        if isinstance(part, ToolCallPart)
    ]
    if calls:
        message["tool_calls"] = calls
    return message


def _not_a_completion(target: str, what: str, body: str | None) -> UnexpectedModelBehavior:
    return UnexpectedModelBehavior(
        f"{target} answered with a body that is not a chat completion ({what}); check that the base_url is the "
        "API root of an OpenAI-compatible server",
        body,
    )
