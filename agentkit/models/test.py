"""`TestModel`: answers without any network by calling every tool, then giving a result."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from agentkit.exceptions import UserError
from agentkit.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
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

__all__ = ("TestModel", "TestStreamedResponse", "estimate_string_tokens", "estimate_usage")

_WORD_SEPARATORS = re.compile(r'[\s",.:]+')


def estimate_string_tokens(content: str | Sequence[UserContent]) -> int:
    """A rough token count: the pieces of the text split on whitespace and `",.:` (0 for nothing)."""
    if not content:
        return 0
    if isinstance(content, str):
        return len(_WORD_SEPARATORS.split(content.strip()))
    tokens = 0
    for item in content:
        if isinstance(item, str):
            tokens += len(_WORD_SEPARATORS.split(item.strip()))
        elif isinstance(data := getattr(item, "data", None), bytes):
            tokens += len(data)  # binary content: the reference release's rough figure; URLs count nothing
    return tokens


def estimate_usage(messages: Iterable[ModelMessage], response: ModelResponse | None = None) -> Usage:
    """Plausible token counts for models with no tokenizer: 50 + the words of every request part
    as request tokens, the words of every response in `messages` (and `response`) as response tokens.
    """
    request_tokens = 50
    response_tokens = 0
    for message in [*messages, response] if response is not None else messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    request_tokens += estimate_string_tokens(part.model_response_str())
                elif isinstance(part, RetryPromptPart):
                    request_tokens += estimate_string_tokens(part.model_response())
                else:
                    request_tokens += estimate_string_tokens(part.content)
        elif message is not None:
            for response_part in message.parts:
                if isinstance(response_part, TextPart):
                    response_tokens += estimate_string_tokens(response_part.content)
                else:
                    response_tokens += 1 + estimate_string_tokens(response_part.args_as_json_str())
    return Usage(
        request_tokens=request_tokens, response_tokens=response_tokens, total_tokens=request_tokens + response_tokens
    )


@dataclass
class TestModel(Model):
    """A model for tests: calls tools with arguments made from their schemas, then answers.

    On the first request of a run (no response in the history yet) it calls every tool, or
    those named in `call_tools`, once. A tool that got a retry prompt is called again with the
    same arguments. Then it answers: with `custom_result_text`, or with `custom_result_args` for
    the result tool, or else with text when the result may be text (the JSON of what each tool
    returned, or `success (no tool calls)`), or with arguments made up for the result tool.

    Args:
        call_tools: 'all', or the names of the tools to call.
        custom_result_text: the text answer; needs a result type that allows text.
        custom_result_args: the arguments for the result tool.
        seed: varies the generated arguments (the same seed always gives the same ones).
        stream_chunk_size: (agentkit) when set, stream text in chunks of this many characters
            instead of word by word.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class
    sends_real_requests: ClassVar[bool] = False

    call_tools: list[str] | Literal["all"] = "all"
    custom_result_text: str | None = None
    custom_result_args: Any | None = None
    seed: int = 0
    stream_chunk_size: int | None = field(default=None, repr=False)
    last_model_request_parameters: ModelRequestParameters | None = field(default=None, init=False)
    _model_name: str = field(default="test", repr=False)
    _argument_cache: dict[tuple[str, int], tuple[dict[str, Any], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str | None:
        return None

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
        yield TestStreamedResponse(response, messages, self.stream_chunk_size)

    def gen_tool_args(self, tool_def: ToolDefinition) -> Any:
        """Arguments for `tool_def` made from its JSON schema and this model's seed."""
        schema = tool_def.parameters_json_schema
        cached = self._argument_cache.get((tool_def.name, self.seed))
        if cached is not None and cached[0] is schema:  # the same schema object: the same arguments
            return _copy_json(cached[1])
        value = SchemaValueGenerator(schema, self.seed).generate()
        self._argument_cache[(tool_def.name, self.seed)] = (schema, value)
        return _copy_json(value)

    def _tools_to_call(self, parameters: ModelRequestParameters) -> list[ToolDefinition]:
        if self.call_tools == "all":
            return list(parameters.function_tools)
        offered = {tool.name: tool for tool in parameters.function_tools}
        unknown = [name for name in self.call_tools if name not in offered]
        if unknown:
            raise UserError(
                f"TestModel(call_tools={self.call_tools!r}) names tools the agent does not offer in this "
                f"request: {unknown}; the tools offered are {sorted(offered)}"
            )
        return [offered[name] for name in self.call_tools]

    def _check_options(self, parameters: ModelRequestParameters) -> None:
        if self.custom_result_text is not None:
            if not parameters.allow_text_result:
                names = [tool.name for tool in parameters.result_tools]
                raise UserError(
                    f"TestModel(custom_result_text={self.custom_result_text!r}) cannot answer this agent: its "
                    f"result type is structured (result tools {names}), so a plain text answer is not allowed; "
                    "use custom_result_args for a structured result"
                )
            if self.custom_result_args is not None:
                raise UserError("TestModel: set custom_result_text or custom_result_args, not both")
        elif self.custom_result_args is not None and not parameters.result_tools:
            raise UserError(
                f"TestModel(custom_result_args={self.custom_result_args!r}) cannot answer this agent: its result "
                "type is str, so there is no result tool to call; use custom_result_text for a text answer"
            )

    def _custom_args(self, parameters: ModelRequestParameters) -> Any:
        """`custom_result_args`, wrapped under the result tool's outer key when it has one."""
        key = parameters.result_tools[0].outer_typed_dict_key
        return {key: self.custom_result_args} if key else self.custom_result_args

    def _respond(self, messages: list[ModelMessage], parameters: ModelRequestParameters) -> ModelResponse:
        self._check_options(parameters)
        to_call = self._tools_to_call(parameters)
        if to_call and not any(isinstance(message, ModelResponse) for message in messages):
            return self._response([ToolCallPart(tool.name, self.gen_tool_args(tool)) for tool in to_call])

        last = messages[-1] if messages else None
        if isinstance(last, ModelRequest):
            retried = {part.tool_name for part in last.parts if isinstance(part, RetryPromptPart)}
            if retried:
                parts: list[ModelResponsePart] = [
                    ToolCallPart(tool.name, self.gen_tool_args(tool)) for tool in to_call if tool.name in retried
                ]
                for tool in parameters.result_tools:
                    if tool.name in retried:
                        custom = self.custom_result_args is not None
                        args = self._custom_args(parameters) if custom else self.gen_tool_args(tool)
                        parts.append(ToolCallPart(tool.name, args))
                return self._response(parts)

        if self.custom_result_text is not None:
            return self._response([TextPart(self.custom_result_text)])
        if self.custom_result_args is not None:
            tool = parameters.result_tools[self.seed % len(parameters.result_tools)]
            return self._response([ToolCallPart(tool.name, self._custom_args(parameters))])
        if parameters.allow_text_result or not parameters.result_tools:
            return self._response([TextPart(_tool_returns_text(messages))])
        tool = parameters.result_tools[self.seed % len(parameters.result_tools)]
        return self._response([ToolCallPart(tool.name, self.gen_tool_args(tool))])

    def _response(self, parts: list[ModelResponsePart]) -> ModelResponse:
        return ModelResponse(parts=parts, model_name=self._model_name)


def _copy_json(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, scalars): callers may change the arguments they get."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _tool_returns_text(messages: list[ModelMessage]) -> str:
    """The JSON object of what each tool returned (by tool name), or `success (no tool calls)`."""
    returns: dict[str, Any] = {}
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    returns[part.tool_name] = part.content
    if not returns:
        return "success (no tool calls)"
    import pydantic_core

    try:
        return pydantic_core.to_json(returns, fallback=str).decode()
    except ValueError:  # a return no model could be sent (one that holds itself): the error names the tool
        for message in messages:
            if isinstance(message, ModelRequest):
                for returned in message.parts:
                    if isinstance(returned, ToolReturnPart):
                        returned.model_response_str()
        raise


def _chunks(text: str, size: int | None) -> list[str]:
    """`text` in streaming chunks: word by word with the spaces kept, or in two halves for one long word.

    With `size`, in pieces of that many characters instead.
    """
    if size is not None:
        step = max(size, 1)
        return [text[start : start + step] for start in range(0, len(text), step)]
    *words, last = text.split(" ")
    chunks = [f"{word} " for word in words]
    chunks.append(last)
    if len(chunks) == 1 and len(text) > 2:
        middle = len(text) // 2
        chunks = [text[:middle], text[middle:]]
    return chunks


class TestStreamedResponse(StreamedResponse):
    """Streams a complete response: each text part word by word, each tool call whole."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    def __init__(self, response: ModelResponse, messages: list[ModelMessage], chunk_size: int | None = None) -> None:
        super().__init__(response.model_name or "test")
        self._response = response
        self._chunk_size = chunk_size
        self._usage = estimate_usage(messages)
        self._streamed_tokens = 0
        """Response tokens of the chunks streamed so far (added to `_usage` when asked, not at every chunk)."""

    def usage(self) -> Usage:
        """The request's estimate plus the tokens of every chunk streamed so far."""
        if not self._streamed_tokens:
            return self._usage
        return self._usage + Usage(response_tokens=self._streamed_tokens, total_tokens=self._streamed_tokens)

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        manager = self._parts_manager
        for index, part in enumerate(self._response.parts):
            if isinstance(part, TextPart):
                if self._chunk_size is None:  # the reference release opens each text part empty
                    yield manager.handle_text_delta(vendor_part_id=index, content="")
                for word in _chunks(part.content, self._chunk_size):
                    self._streamed_tokens += estimate_string_tokens(word)
                    yield manager.handle_text_delta(vendor_part_id=index, content=word)
            else:
                yield manager.handle_tool_call_part(
                    vendor_part_id=index, tool_name=part.tool_name, args=part.args, tool_call_id=part.tool_call_id
                )
