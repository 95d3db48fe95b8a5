"""The typed result of a run: how it is offered to the model and validated on the way back."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, Union

import pydantic
from typing_extensions import TypeVar

from agentkit._context import RunContext
from agentkit._function_schema import strip_titles, takes_run_context
from agentkit.exceptions import ModelRetry, UserError
from agentkit.messages import RetryPromptPart, ToolCallPart
from agentkit.tools import ToolDefinition

__all__ = (
    "DEFAULT_RESULT_TOOL_NAME",
    "FinalResult",
    "ResultSchema",
    "ResultValidator",
    "ResultValidatorFunc",
    "ToolRetry",
)

ResultDataT = TypeVar("ResultDataT", default=str)
DEFAULT_RESULT_TOOL_NAME = "final_result"
DEFAULT_RESULT_TOOL_DESCRIPTION = "The final response which ends this conversation"

ResultValidatorFunc: TypeAlias = (
    Callable[[RunContext[Any], Any], Any | Awaitable[Any]] | Callable[[Any], Any | Awaitable[Any]]
)


@dataclass
class FinalResult(Generic[ResultDataT]):
    """The validated result that ends a run, and the tool call that carried it, if any."""

    data: ResultDataT
    tool_name: str | None = None
    tool_call_id: str | None = None


class ToolRetry(Exception):
    """Internal: a tool call or result must go back to the model as `retry_prompt`."""

    def __init__(self, retry_prompt: RetryPromptPart) -> None:
        self.retry_prompt = retry_prompt
        super().__init__(retry_prompt.model_response())


def _union_members(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(tp)
    return (tp,)


def _is_object_schema(schema: dict[str, Any]) -> bool:
    """Whether a schema describes a JSON object with named fields (so needs no wrapping)."""
    return schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema


@dataclass
class ResultTool:
    """The `final_result` tool: its definition and the validator for its arguments."""

    definition: ToolDefinition
    adapter: pydantic.TypeAdapter[Any]
    wrapper_key: str | None
    """Set when a non-object result type is wrapped as `{"response": ...}` for the model."""

    def validate(self, call: ToolCallPart) -> Any:
        """Validate a call's arguments into result data; raises `ToolRetry` on invalid input."""
        try:
            if isinstance(call.args, str):
                value = self.adapter.validate_json(call.args or "{}")
            else:
                value = self.adapter.validate_python(call.args)
        except pydantic.ValidationError as error:
            raise ToolRetry(
                RetryPromptPart(
                    content=error.errors(include_url=False, include_context=False),
                    tool_name=call.tool_name,
                    tool_call_id=call.tool_call_id,
                )
            ) from error
        return getattr(value, self.wrapper_key) if self.wrapper_key else value


@dataclass
class ResultSchema:
    """How a run may end: on plain text, through the `final_result` tool, or either."""

    result_type: Any
    allow_text_result: bool
    tool: ResultTool | None

    @classmethod
    def build(cls, result_type: Any, *, name: str = DEFAULT_RESULT_TOOL_NAME) -> ResultSchema:
        members = _union_members(result_type)
        allow_text = str in members
        others = tuple(member for member in members if member is not str)
        if not others:
            return cls(result_type, allow_text_result=True, tool=None)
        tool_type: Any = others[0] if len(others) == 1 else Union[others]  # noqa: UP007
        try:
            adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(tool_type)
            schema = adapter.json_schema()
            wrapper_key = None
            if len(others) > 1 or not _is_object_schema(schema):
                adapter = pydantic.TypeAdapter(pydantic.create_model(name, response=(tool_type, ...)))
                schema = adapter.json_schema()
                wrapper_key = "response"
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as error:
            raise UserError(f"result_type {result_type!r} cannot be turned into a JSON schema: {error}") from error
        description = schema.pop("description", None) or DEFAULT_RESULT_TOOL_DESCRIPTION
        strip_titles(schema)
        definition = ToolDefinition(name, description, schema, outer_typed_dict_key=wrapper_key)
        return cls(result_type, allow_text_result=allow_text, tool=ResultTool(definition, adapter, wrapper_key))

    def tool_definitions(self) -> list[ToolDefinition]:
        return [self.tool.definition] if self.tool else []

    def find_call(self, calls: list[ToolCallPart]) -> ToolCallPart | None:
        """The first call to the result tool among `calls`, if any."""
        if self.tool is None:
            return None
        name = self.tool.definition.name
        return next((call for call in calls if call.tool_name == name), None)


@dataclass
class ResultValidator:
    """A function that checks (and may change) the result; raise `ModelRetry` to ask again."""

    function: ResultValidatorFunc
    takes_ctx: bool
    is_async: bool

    @classmethod
    def wrap(cls, function: ResultValidatorFunc) -> ResultValidator:
        return cls(function, takes_run_context(function), inspect.iscoroutinefunction(function))

    async def validate(self, data: Any, ctx: RunContext[Any], tool_call: ToolCallPart | None) -> Any:
        args = (ctx, data) if self.takes_ctx else (data,)
        try:
            value = self.function(*args)
            if self.is_async:
                value = await value
        except ModelRetry as retry:
            prompt = RetryPromptPart(retry.message)
            if tool_call is not None:
                prompt.tool_name = tool_call.tool_name
                prompt.tool_call_id = tool_call.tool_call_id
            raise ToolRetry(prompt) from retry
        return value
