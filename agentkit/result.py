"""The typed result of a run: how it is offered to the model and validated on the way back."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, Union

from typing_extensions import TypedDict, TypeVar, is_typeddict

from agentkit._context import RunContext
from agentkit._function_schema import takes_run_context
from agentkit.exceptions import ModelRetry, UnexpectedModelBehavior, UserError
from agentkit.messages import ModelResponsePart, RetryPromptPart, TextPart, ToolCallPart
from agentkit.tools import ToolDefinition

if TYPE_CHECKING:  # pydantic itself is imported where used, by result types other than `str`
    from pydantic import TypeAdapter

__all__ = (
    "DEFAULT_RESULT_TOOL_DESCRIPTION",
    "DEFAULT_RESULT_TOOL_NAME",
    "FinalResult",
    "ResultDataT",
    "ResultSchema",
    "ResultTool",
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


def _is_model_like(tp: Any) -> bool:
    """Whether `tp` is a JSON object with named fields (so the model's arguments need no wrapping)."""
    import pydantic

    return isinstance(tp, type) and (
        issubclass(tp, pydantic.BaseModel) or dataclasses.is_dataclass(tp) or is_typeddict(tp)
    )


def _member_name(tp: Any) -> str:
    return str(getattr(tp, "__name__", None) or repr(tp))


@dataclass
class ResultTool:
    """One result tool: its definition and the validator for its arguments."""

    definition: ToolDefinition
    adapter: TypeAdapter[Any]

    @property
    def wrapper_key(self) -> str | None:
        """Set when a non-object result type is wrapped as `{"response": ...}` for the model."""
        return self.definition.outer_typed_dict_key

    @classmethod
    def build(cls, result_type: Any, name: str, description: str | None, *, multiple: bool) -> ResultTool:
        """Describe `result_type` as a tool; a type that is not an object is wrapped under `response`."""
        import pydantic  # only result types other than `str` need it

        try:
            if _is_model_like(result_type):
                adapter: TypeAdapter[Any] = pydantic.TypeAdapter(result_type)
                wrapper_key = None
                schema = adapter.json_schema()
            else:
                response_data_typed_dict = TypedDict("response_data_typed_dict", {"response": result_type})  # noqa: UP013
                adapter = pydantic.TypeAdapter(response_data_typed_dict)
                wrapper_key = "response"
                schema = adapter.json_schema()
                schema.pop("title", None)  # the wrapper's name tells the model nothing
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as error:
            raise UserError(f"result_type {result_type!r} cannot be turned into a JSON schema: {error}") from error
        if schema.get("type") != "object":
            raise UserError(f"result_type {result_type!r}: the result tool schema must be a JSON object, got {schema}")
        schema_description = schema.pop("description", None)
        if schema_description:
            text = schema_description if description is None else f"{description}. {schema_description}"
        else:
            text = description or DEFAULT_RESULT_TOOL_DESCRIPTION
            if multiple:
                text = f"{_member_name(result_type)}: {text}"
        return cls(ToolDefinition(name, text, schema, outer_typed_dict_key=wrapper_key), adapter)

    def validate(self, call: ToolCallPart, *, allow_partial: bool = False, wrap_errors: bool = True) -> Any:
        """Validate a call's arguments into result data.

        Raises `ToolRetry` on invalid input, or the pydantic `ValidationError` itself with `wrap_errors=False`.
        """
        import pydantic

        partial: typing.Literal["off", "trailing-strings"] = "trailing-strings" if allow_partial else "off"
        try:
            if isinstance(call.args, str):
                value = self.adapter.validate_json(call.args or "{}", experimental_allow_partial=partial)
            else:
                value = self.adapter.validate_python(call.args, experimental_allow_partial=partial)
        except pydantic.ValidationError as error:
            if not wrap_errors:
                raise
            raise ToolRetry(
                RetryPromptPart(
                    content=error.errors(include_url=False),
                    tool_name=call.tool_name,
                    tool_call_id=call.tool_call_id,
                )
            ) from error
        return value[self.wrapper_key] if self.wrapper_key else value


@dataclass
class ResultSchema:
    """How a run may end: on plain text, through one of the result tools, or either.

    A union result type gets one tool per member (`final_result_Foo`, `final_result_Bar`); `str`
    in the union allows a plain text answer as well.
    """

    result_type: Any
    allow_text_result: bool
    tools: dict[str, ResultTool]

    @classmethod
    def build(
        cls, result_type: Any, *, name: str = DEFAULT_RESULT_TOOL_NAME, description: str | None = None
    ) -> ResultSchema:
        members = _union_members(result_type)
        allow_text = str in members
        others = [member for member in members if member is not str]
        tools: dict[str, ResultTool] = {}
        if len(others) == 1:
            tools[name] = ResultTool.build(others[0], name, description, multiple=False)
        else:
            for index, member in enumerate(others, start=1):
                tool_name = f"{name}_{_member_name(member)}"
                while tool_name in tools:
                    tool_name = f"{tool_name}_{index}"
                tools[tool_name] = ResultTool.build(member, tool_name, description, multiple=True)
        return cls(result_type, allow_text_result=allow_text or not tools, tools=tools)

    @property
    def tool(self) -> ResultTool | None:
        """The first result tool, if any (the only one unless the result type is a union)."""
        return next(iter(self.tools.values()), None)

    def tool_names(self) -> list[str]:
        return list(self.tools)

    def tool_definitions(self) -> list[ToolDefinition]:
        return [tool.definition for tool in self.tools.values()]

    def find_calls(self, calls: Sequence[ModelResponsePart]) -> Iterator[tuple[ToolCallPart, ResultTool]]:
        """The calls to a result tool among `calls`, in order, each with its tool."""
        for call in calls:
            if isinstance(call, ToolCallPart):
                tool = self.tools.get(call.tool_name)
                if tool is not None:
                    yield call, tool

    def find_named_call(self, parts: Sequence[ModelResponsePart], name: str) -> tuple[ToolCallPart, ResultTool] | None:
        """The first call to the result tool `name` among `parts`."""
        return next(((call, tool) for call, tool in self.find_calls(parts) if call.tool_name == name), None)

    def streamed_data(
        self, parts: Sequence[ModelResponsePart], tool_name: str | None, *, allow_partial: bool
    ) -> tuple[Any, ToolCallPart | None]:
        """The result data of a streamed response, before the result validators, and the call that carried it.

        `tool_name` is the final result's: None when the result is the response's text, else the result
        tool whose call's arguments are validated (`allow_partial` for a response still arriving).
        """
        if tool_name is None:
            return "\n\n".join(part.content for part in parts if isinstance(part, TextPart)), None
        match = self.find_named_call(parts, tool_name)
        if match is None:
            raise UnexpectedModelBehavior(f"Invalid response, unable to find tool: {self.tool_names()}")
        call, tool = match
        return tool.validate(call, allow_partial=allow_partial, wrap_errors=False), call


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
