"""`TestModel`: answers without any network by calling every tool, then giving a result."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pydantic_core

from agentkit.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
)
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._schema_values import SchemaValueGenerator
from agentkit.settings import ModelSettings
from agentkit.tools import ToolDefinition
from agentkit.usage import Usage

__all__ = ("TestModel", "estimate_usage")

_WORD = re.compile(r"[\s\",.:]+")


def _count_words(text: str) -> int:
    return len([word for word in _WORD.split(text) if word])


def _count_user_content(item: UserContent) -> int:
    """Words of text; as pydantic-ai v0.0.39 counted them, a byte a token for binary content, URLs nothing."""
    if isinstance(item, str):
        return _count_words(item)
    return len(item.data) if isinstance(item, BinaryContent) else 0


def estimate_usage(messages: list[ModelMessage], response: ModelResponse) -> Usage:
    """A rough, deterministic token count for models that have no tokenizer: 50 + words in, words out."""
    request_tokens = 50
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    request_tokens += _count_words(part.model_response_str())
                elif isinstance(part, RetryPromptPart):
                    request_tokens += _count_words(part.model_response())
                elif isinstance(part.content, str):
                    request_tokens += _count_words(part.content)
                else:
                    request_tokens += sum(_count_user_content(item) for item in part.content)
    response_tokens = 0
    for response_part in response.parts:
        if isinstance(response_part, TextPart):
            response_tokens += _count_words(response_part.content)
        else:
            response_tokens += 1 + _count_words(response_part.args_as_json_str())
    return Usage(
        requests=0,
        request_tokens=request_tokens,
        response_tokens=response_tokens,
        total_tokens=request_tokens + response_tokens,
    )


@dataclass
class TestModel(Model):
    """A model for tests: calls tools with arguments made from their schemas, then answers.

    On its first request it calls every tool (or those named in `call_tools`) once; after the
    tools have returned it answers with text, or calls the result tool with valid arguments.
    A tool that got a retry prompt is called again with other arguments.

    Args:
        call_tools: 'all', or the names of the tools to call.
        custom_result_text: the text answer; by default a JSON summary of the tool returns.
        custom_result_args: the arguments for the result tool; by default made from its schema.
        seed: varies the generated arguments.
        stream_chunk_size: characters per chunk when streaming text (and tool arguments).
    """

    __test__: ClassVar[bool] = False  # not a pytest test class
    sends_real_requests: ClassVar[bool] = False

    call_tools: list[str] | Literal["all"] = "all"
    custom_result_text: str | None = None
    custom_result_args: Any | None = None
    seed: int = 0
    stream_chunk_size: int = 4
    last_model_request_parameters: ModelRequestParameters | None = field(default=None, repr=False)
    _model_name: str = field(default="test", repr=False)
    _argument_cache: dict[tuple[str, int], tuple[dict[str, Any], str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "test"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        self.last_model_request_parameters = model_request_parameters
        response = self._respond(messages, model_request_parameters)
        return response, estimate_usage(messages, response)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        self.last_model_request_parameters = model_request_parameters
        response = self._respond(messages, model_request_parameters)
        yield _ChunkedStream(response, messages, self.stream_chunk_size)

    def _tools_to_call(self, parameters: ModelRequestParameters) -> list[ToolDefinition]:
        if self.call_tools == "all":
            return list(parameters.function_tools)
        wanted = set(self.call_tools)
        return [tool for tool in parameters.function_tools if tool.name in wanted]

    def _arguments(self, tool: ToolDefinition, seed: int) -> str:
        schema = tool.parameters_json_schema
        cached = self._argument_cache.get((tool.name, seed))
        if cached is not None and cached[0] is schema:  # the same schema object: same arguments
            return cached[1]
        value = SchemaValueGenerator(schema, seed).generate()
        arguments = json.dumps(value if isinstance(value, dict) else {}, separators=(",", ":"))
        self._argument_cache[(tool.name, seed)] = (schema, arguments)
        return arguments

    def _respond(self, messages: list[ModelMessage], parameters: ModelRequestParameters) -> ModelResponse:
        tools = {tool.name: tool for tool in parameters.function_tools}
        last = messages[-1] if messages else None
        called_tools = any(
            isinstance(part, ToolCallPart)
            for message in messages
            if message.kind == "response"
            for part in message.parts
        )

        if isinstance(last, ModelRequest):
            retries = [part for part in last.parts if isinstance(part, RetryPromptPart) and part.tool_name in tools]
            if retries:
                return ModelResponse(
                    parts=[
                        ToolCallPart(part.tool_name, self._arguments(tools[part.tool_name], self.seed + 1))
                        for part in retries
                        if part.tool_name is not None
                    ],
                    model_name=self.model_name,
                )

        if not called_tools:
            to_call = self._tools_to_call(parameters)
            if to_call:
                return ModelResponse(
                    parts=[ToolCallPart(tool.name, self._arguments(tool, self.seed)) for tool in to_call],
                    model_name=self.model_name,
                )

        if parameters.result_tools and (not parameters.allow_text_result or self.custom_result_args is not None):
            result_tool = parameters.result_tools[0]
            if self.custom_result_args is not None:
                wrapped = self.custom_result_args
                if result_tool.outer_typed_dict_key:
                    wrapped = {result_tool.outer_typed_dict_key: wrapped}
                args = pydantic_core.to_json(wrapped).decode()
            else:
                args = self._arguments(result_tool, self.seed)
            return ModelResponse(parts=[ToolCallPart(result_tool.name, args)], model_name=self.model_name)
        return ModelResponse(parts=[TextPart(self._result_text(messages))], model_name=self.model_name)

    def _result_text(self, messages: list[ModelMessage]) -> str:
        if self.custom_result_text is not None:
            return self.custom_result_text
        returns: dict[str, Any] = {}
        for message in messages:
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, ToolReturnPart):
                        returns[part.tool_name] = part.model_response_object().get("return_value", part.content)
        if not returns:
            return "success (no tool calls)"
        return json.dumps(returns, separators=(",", ":"), default=str)


class _ChunkedStream(StreamedResponse):
    """Streams a complete response in fixed-size chunks: text by characters, tool args by JSON text."""

    def __init__(self, response: ModelResponse, messages: list[ModelMessage], chunk_size: int) -> None:
        super().__init__(response.model_name or "test", response.timestamp)
        self._response = response
        self._messages = messages
        self._chunk_size = max(chunk_size, 1)

    def usage(self) -> Usage:
        return estimate_usage(self._messages, self.get())

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        size = self._chunk_size
        for index, part in enumerate(self._response.parts):
            event: Any
            if isinstance(part, TextPart):
                for start in range(0, max(len(part.content), 1), size):
                    event = self._text_delta(("text", index), part.content[start : start + size])
                    if event is not None:
                        yield event
            else:
                args = part.args_as_json_str()
                yield self._tool_call_delta(
                    ("tool", index), tool_name=part.tool_name, args=args[:size], tool_call_id=part.tool_call_id
                )  # type: ignore[misc]
                for start in range(size, len(args), size):
                    event = self._tool_call_delta(("tool", index), args=args[start : start + size])
                    if event is not None:
                        yield event
