"""Registering what an agent offers its model: tools, system prompt functions, result validators.

`Agent` inherits these decorators; they are kept apart so the agent's module holds its runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, overload

from agentkit._function_schema import DocstringFormat, takes_run_context
from agentkit._graph._system_prompt import SystemPromptFunc, SystemPromptRunner
from agentkit.exceptions import UserError
from agentkit.result import ResultSchema, ResultValidator, ResultValidatorFunc
from agentkit.tools import Tool, ToolPrepareFunc

__all__ = ("AgentRegistry", "ToolFunc")

ToolFunc = Callable[..., Any]


@dataclass(frozen=True)
class _ToolOptions:
    name: str | None
    retries: int | None
    prepare: ToolPrepareFunc | None
    docstring_format: DocstringFormat
    require_parameter_descriptions: bool


class AgentRegistry:
    """The decorators of `Agent` that register tools, system prompts and result validators."""

    _default_retries: int
    _function_tools: dict[str, Tool[Any]]
    _result_schema: ResultSchema
    _system_prompt_functions: list[SystemPromptRunner]
    _system_prompt_dynamic_functions: dict[str, SystemPromptRunner]
    _result_validators: list[ResultValidator]

    @property
    def function_tools(self) -> Mapping[str, Tool[Any]]:
        """The function tools registered on this agent, by name (read-only; an agentkit addition for test tools)."""
        return MappingProxyType(self._function_tools)

    def _register(self, tool: Tool[Any]) -> None:
        if tool.max_retries is None:
            tool = tool.with_max_retries(self._default_retries)
        if tool.name in self._function_tools:
            raise UserError(f"Tool name conflicts with existing tool: {tool.name!r}")
        if tool.name in self._result_schema.tools:
            raise UserError(f"Tool name conflicts with result schema name: {tool.name!r}")
        self._function_tools[tool.name] = tool

    @overload
    def tool(self, function: ToolFunc, /) -> ToolFunc: ...
    @overload
    def tool(
        self,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Callable[[ToolFunc], ToolFunc]: ...

    def tool(
        self,
        function: ToolFunc | None = None,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Any:
        """Register a tool whose first parameter is the `RunContext`; usable bare or with options."""
        options = _ToolOptions(name, retries, prepare, docstring_format, require_parameter_descriptions)
        return self._tool_decorator(function, options, takes_ctx=True)

    @overload
    def tool_plain(self, function: ToolFunc, /) -> ToolFunc: ...
    @overload
    def tool_plain(
        self,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Callable[[ToolFunc], ToolFunc]: ...

    def tool_plain(
        self,
        function: ToolFunc | None = None,
        /,
        *,
        name: str | None = None,
        retries: int | None = None,
        prepare: ToolPrepareFunc | None = None,
        docstring_format: DocstringFormat = "auto",
        require_parameter_descriptions: bool = False,
    ) -> Any:
        """Register a tool that does not take the `RunContext`; usable bare or with options."""
        options = _ToolOptions(name, retries, prepare, docstring_format, require_parameter_descriptions)
        return self._tool_decorator(function, options, takes_ctx=False)

    def _tool_decorator(self, function: ToolFunc | None, options: _ToolOptions, *, takes_ctx: bool) -> Any:
        def register(func: ToolFunc) -> ToolFunc:
            if not takes_ctx and takes_run_context(func):
                raise UserError(
                    f"Tool {options.name or func.__name__!r} takes a RunContext; "
                    "register it with `tool`, not `tool_plain`"
                )
            self._register(
                Tool(
                    func,
                    takes_ctx=takes_ctx,
                    max_retries=options.retries,
                    name=options.name,
                    prepare=options.prepare,
                    docstring_format=options.docstring_format,
                    require_parameter_descriptions=options.require_parameter_descriptions,
                )
            )
            return func

        return register(function) if function is not None else register

    @overload
    def system_prompt(self, function: SystemPromptFunc, /) -> SystemPromptFunc: ...
    @overload
    def system_prompt(self, /, *, dynamic: bool = False) -> Callable[[SystemPromptFunc], SystemPromptFunc]: ...

    def system_prompt(self, function: SystemPromptFunc | None = None, /, *, dynamic: bool = False) -> Any:
        """Register a function (sync or async, taking the `RunContext` or nothing) that returns a system prompt.

        Usable bare (`@agent.system_prompt`) or called (`@agent.system_prompt(dynamic=True)`). A
        dynamic prompt's part carries `dynamic_ref` (the function's qualified name) and is
        evaluated again when a later run is given the messages that hold it.
        """
        if function is not None:
            if dynamic:
                raise UserError("dynamic=True is for the called form: use `@agent.system_prompt(dynamic=True)`")
            self._system_prompt_functions.append(SystemPromptRunner(function))
            return function

        def register(func: SystemPromptFunc) -> SystemPromptFunc:
            runner = SystemPromptRunner(func, dynamic=dynamic)
            self._system_prompt_functions.append(runner)
            if dynamic:
                self._system_prompt_dynamic_functions[runner.ref] = runner
            return func

        return register

    def result_validator(self, function: ResultValidatorFunc, /) -> ResultValidatorFunc:
        """Register a validator of the result; it may return a changed result or raise `ModelRetry`."""
        self._result_validators.append(ResultValidator.wrap(function))
        return function
