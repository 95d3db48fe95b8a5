"""Tools: Python functions the model can call, described by a JSON schema."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, TypeAlias, Union

from typing_extensions import ParamSpec

from agentkit._context import AgentDepsT, RunContext
from agentkit._function_schema import DocstringFormat, FunctionSchema, build_function_schema, takes_run_context
from agentkit.exceptions import UserError

__all__ = (
    "AgentDepsT",
    "DocstringFormat",
    "ObjectJsonSchema",
    "RunContext",
    "SystemPromptFunc",
    "Tool",
    "ToolDefinition",
    "ToolFuncContext",
    "ToolFuncEither",
    "ToolFuncPlain",
    "ToolParams",
    "ToolPrepareFunc",
)

_TOOL_NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""What model providers accept as a tool name (OpenAI's rule; Anthropic's is the same)."""

ObjectJsonSchema: TypeAlias = dict[str, Any]
"""The JSON schema of an object (`"type": "object"`), as used for tool parameters."""


@dataclass
class ToolDefinition:
    """A tool as the model sees it: name, description and the JSON schema of its arguments.

    `outer_typed_dict_key` is set only for result tools whose type is not an object and is
    therefore wrapped in one under that key.
    """

    name: str
    description: str
    parameters_json_schema: ObjectJsonSchema
    outer_typed_dict_key: str | None = None

    @property
    def strict(self) -> bool | None:
        """Strict-schema mode for providers that have one; not set by this release (always `None`)."""
        return None


ToolParams = ParamSpec("ToolParams", default=...)
"""The parameters of a tool function."""

# `Union[...]` rather than `|`: these aliases are evaluated at run time and hold string annotations.
SystemPromptFunc = Union[  # noqa: UP007
    Callable[[RunContext[AgentDepsT]], str],
    Callable[[RunContext[AgentDepsT]], Awaitable[str]],
    Callable[[], str],
    Callable[[], Awaitable[str]],
]
"""A system prompt function: taking `RunContext` or nothing, sync or async, returning the prompt text."""

ToolFuncContext = Callable[Concatenate[RunContext[AgentDepsT], ToolParams], Any]
"""A tool function whose first parameter is `RunContext`: `ToolFuncContext[AgentDepsT, ToolParams]`."""

ToolFuncPlain = Callable[ToolParams, Any]
"""A tool function without `RunContext`: `ToolFuncPlain[ToolParams]`."""

ToolFuncEither = Union[ToolFuncContext[AgentDepsT, ToolParams], ToolFuncPlain[ToolParams]]  # noqa: UP007
"""Either kind of tool function: `ToolFuncEither[AgentDepsT, ToolParams]`."""

ToolPrepareFunc: TypeAlias = Callable[
    [RunContext[Any], ToolDefinition], "Awaitable[ToolDefinition | None] | ToolDefinition | None"
]
"""Called before each model request; returns the definition to offer (maybe changed), or `None` to hide the tool."""


@dataclass(init=False)
class Tool(Generic[AgentDepsT]):
    """A function the model can call.

    Args:
        function: the Python function; sync functions run in a worker thread.
        takes_ctx: whether the first parameter is a `RunContext`; inferred from the annotation when omitted.
        max_retries: how many retries this tool allows in a row; the agent sets its `retries` when omitted.
        name: the name the model sees; the function's name when omitted.
        description: what the model is told the tool does; the docstring when omitted.
        prepare: hook to change or hide the tool before each request.
        docstring_format: how to read parameter descriptions from the docstring.
        require_parameter_descriptions: raise `UserError` if a parameter has no description.
    """

    function: Callable[..., Any]
    takes_ctx: bool
    max_retries: int | None
    name: str
    description: str
    prepare: ToolPrepareFunc | None
    docstring_format: DocstringFormat
    require_parameter_descriptions: bool
    schema: FunctionSchema = field(repr=False)

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        takes_ctx: bool | None = None,
        max_retries: int | None = None,
        name: str | None = None,
        description: str | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> None:
        self.name = _check_tool_name(name, function)
        self.function = function
        self.takes_ctx = takes_run_context(function) if takes_ctx is None else takes_ctx
        self.max_retries = max_retries
        self.prepare = prepare
        self.docstring_format = docstring_format
        self.require_parameter_descriptions = require_parameter_descriptions
        self.schema = build_function_schema(
            function,
            tool_name=self.name,
            takes_ctx=self.takes_ctx,
            docstring_format=docstring_format,
            require_parameter_descriptions=require_parameter_descriptions,
        )
        self.description = description or self.schema.description

    @property
    def definition(self) -> ToolDefinition:
        """The definition before any `prepare` hook."""
        return ToolDefinition(self.name, self.description, self.schema.json_schema)

    async def prepare_tool_def(self, ctx: RunContext[AgentDepsT]) -> ToolDefinition | None:
        """The definition to offer in this step: the `prepare` hook's answer if there is one (`None` hides the tool).

        Subclasses may override this to change or hide the tool per step.
        """
        definition = self.definition
        if self.prepare is None:
            return definition
        prepared = self.prepare(ctx, definition)
        if inspect.isawaitable(prepared):
            prepared = await prepared
        return prepared

    async def prepared_definition(self, ctx: RunContext[Any]) -> ToolDefinition | None:
        """What the run offers the model for this tool in this step (goes through `prepare_tool_def`)."""
        return await self.prepare_tool_def(ctx)

    def with_max_retries(self, max_retries: int) -> Tool[AgentDepsT]:
        """A copy of this tool with `max_retries` set (the agent uses it for tools that left it unset)."""
        copied = copy.copy(self)
        copied.max_retries = max_retries
        return copied


def _check_tool_name(name: str | None, function: Callable[..., Any]) -> str:
    """The tool's name (`name`, else the function's), refused at once when providers would reject it."""
    chosen = name or getattr(function, "__name__", None)
    if chosen is None:
        raise UserError(
            f"Tool {function!r} has no name (a {type(function).__name__} has no __name__): "
            "give it one with Tool(function, name='...') or agent.tool_plain(name='...')"
        )
    if _TOOL_NAME_RULE.match(chosen):
        return chosen
    if chosen == "<lambda>":
        raise UserError(
            "Tool '<lambda>': a lambda has no name a model can call; give it one with "
            "Tool(function, name='...') or agent.tool_plain(name='...'), or define it with `def` "
            f"(tool names must match {_TOOL_NAME_RULE.pattern})"
        )
    if len(chosen) > 64:
        problem = f"it has {len(chosen)} characters, over 64"
    elif not chosen:
        problem = "it is empty"
    else:
        refused = sorted({char for char in chosen if not _TOOL_NAME_RULE.match(char)})
        problem = "it contains " + ", ".join(repr(char) for char in refused)
    raise UserError(
        f"Tool name {chosen!r} is refused by model providers: {problem}. Tool names must match "
        f"{_TOOL_NAME_RULE.pattern} (letters, digits, '_' and '-', 1 to 64 characters); pick another "
        "with name='...'"
    )
