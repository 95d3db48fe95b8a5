"""pydantic-ai tools for `tool_arguments`: a `Tool`, `(agent, 'name')`, or a function registered on an agent.

`agentkit_testing._tool_resolution.resolve_tool` hands these forms here (only then is pydantic_ai
imported). The definition is the JSON schema pydantic-ai offers the model; arguments are turned
into the function's Python values by the tool's own pydantic validator, so `book(**args)` works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_ai import Agent, Tool
from pydantic_ai.toolsets import FunctionToolset

from agentkit import ToolDefinition, UserError
from agentkit_testing._hypothesis._tool_resolution import ResolvedTool

__all__ = ("resolve_pydantic_ai_tool", "tools_registered_as")


def resolve_pydantic_ai_tool(target: object) -> ResolvedTool:
    """A `pydantic_ai.Tool` or `(pydantic_ai.Agent, 'name')` as a `ResolvedTool`."""
    if isinstance(target, Tool):
        return _resolved(target)
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], Agent):
        agent, name = target
        tools = _function_tools(agent)
        if not isinstance(name, str) or name not in tools:
            known = ", ".join(repr(known) for known in tools) or "none"
            raise UserError(
                f"tool_arguments(({agent.name or 'agent'}, {name!r})): the pydantic-ai agent has no such tool; "
                f"it has {known}"
            )
        return _resolved(tools[name])
    raise UserError(f"tool_arguments: {target!r} is not a pydantic-ai Tool or (agent, 'name')")


def tools_registered_as(function: Callable[..., Any], agents: dict[str, Any]) -> list[tuple[str, ResolvedTool]]:
    """The pydantic-ai tools, among the `agents` (module globals by name), whose function is `function`."""
    return [
        (variable, _resolved(tool))
        for variable, agent in agents.items()
        if isinstance(agent, Agent)
        for tool in _function_tools(agent).values()
        if tool.function == function
    ]


def _function_tools(agent: Agent[Any, Any]) -> dict[str, Tool[Any]]:
    tools: dict[str, Tool[Any]] = {}
    for toolset in agent.toolsets:
        if isinstance(toolset, FunctionToolset):
            tools.update(toolset.tools)
    return tools


def _resolved(tool: Tool[Any]) -> ResolvedTool:
    schema = tool.function_schema
    definition = ToolDefinition(
        name=tool.name, description=tool.description or "", parameters_json_schema=schema.json_schema
    )

    def to_python(arguments: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = schema.validator.validate_python(arguments)
        return values

    return ResolvedTool(definition, to_python)
