"""Tools: Python functions the model can call, described by a JSON schema."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias

from agentkit._context import AgentDepsT, RunContext
from agentkit._function_schema import DocstringFormat, FunctionSchema, build_function_schema, takes_run_context

__all__ = ("Tool", "ToolDefinition", "ToolPrepareFunc")


@dataclass
class ToolDefinition:
    """A tool as the model sees it: name, description and the JSON schema of its arguments."""

    name: str
    description: str
    parameters_json_schema: dict[str, Any]
    outer_typed_dict_key: str | None = None
    strict: bool | None = None


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
        max_retries: how many retries this tool allows in a row; the agent's `retries` when omitted.
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
        self.function = function
        self.takes_ctx = takes_run_context(function) if takes_ctx is None else takes_ctx
        self.max_retries = max_retries
        self.name = name or function.__name__
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
        self.description = self.schema.description if description is None else description
        self._definition = ToolDefinition(self.name, self.description, self.schema.json_schema)

    @property
    def definition(self) -> ToolDefinition:
        return self._definition

    async def prepared_definition(self, ctx: RunContext[Any]) -> ToolDefinition | None:
        """The definition to offer in this step, after the `prepare` hook (None hides the tool)."""
        base = ToolDefinition(self.name, self.description, self.schema.json_schema)
        if self.prepare is None:
            return base
        prepared = self.prepare(ctx, base)
        if inspect.isawaitable(prepared):
            prepared = await prepared
        return prepared
