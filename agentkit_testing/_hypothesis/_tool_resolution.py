"""What `tool_arguments` accepts as a tool, turned into one shape: a definition and a way to call the function.

`resolve_tool` is the one place that knows the forms: a `ToolDefinition`, a `Tool`, `(agent, 'name')`,
or the function itself as decorated with `@agent.tool` / `@agent.tool_plain` (or listed in
`Agent(tools=[...])`). Another runtime's tools are one more branch here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentkit import Agent, Tool, ToolDefinition, UserError

__all__ = ("ResolvedTool", "resolve_tool")

_FORMS = (
    "a Tool, a ToolDefinition, (agent, 'tool_name'), or a function registered with @agent.tool / @agent.tool_plain "
    "(agentkit's or pydantic-ai's)"
)


@dataclass(frozen=True)
class ResolvedTool:
    """A tool as `tool_arguments` needs it, whatever the user passed.

    Attributes:
        definition: what a model is offered: name, description, JSON schema of the arguments.
        to_python: JSON-ready arguments (a dict, as a model sends them) to the keyword arguments the
            Python function receives (pydantic models as instances, dates as `date`, ...); `None` when
            there is no function to call (a bare `ToolDefinition`).
        tool: the agentkit `Tool`, when there is one: its signature gives richer arguments than its schema.
    """

    definition: ToolDefinition
    to_python: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    tool: Tool[Any] | None = None


def resolve_tool(target: object) -> ResolvedTool:
    """Turn any form `tool_arguments` accepts into a `ResolvedTool`; anything else is a `UserError` naming them."""
    if isinstance(target, ToolDefinition):
        return ResolvedTool(target)
    if isinstance(target, Tool):
        return _from_tool(target)
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], Agent):
        agent, name = target
        return _from_tool(_tool_named(agent, name))
    if _of_pydantic_ai(target) or (isinstance(target, tuple) and len(target) == 2 and _of_pydantic_ai(target[0])):
        from agentkit_testing.pydantic_ai._tools import resolve_pydantic_ai_tool  # loads pydantic_ai, only here

        return resolve_pydantic_ai_tool(target)
    if inspect.isfunction(target) or inspect.ismethod(target):
        on_pydantic_ai = _on_pydantic_ai_agents(target)
        if on_pydantic_ai is not None:
            return on_pydantic_ai
        return _from_tool(_tool_of_function(target))
    raise UserError(f"tool_arguments expected {_FORMS}; got {target!r} (type={type(target).__name__})")


def _of_pydantic_ai(value: object) -> bool:
    """Whether `value` is a pydantic-ai object, told by its class's module (pydantic_ai is not imported to ask)."""
    return type(value).__module__.split(".")[0] == "pydantic_ai"


def _on_pydantic_ai_agents(function: Callable[..., Any]) -> ResolvedTool | None:
    """The pydantic-ai tool `function` was registered as, on an agent that is a global of its module; else None."""
    agents = {
        variable: value
        for variable, value in list(getattr(function, "__globals__", {}).items())
        if _of_pydantic_ai(value) and type(value).__name__ == "Agent"
    }
    if not agents:
        return None
    from agentkit_testing.pydantic_ai._tools import tools_registered_as  # loads pydantic_ai, only here

    found = tools_registered_as(function, agents)
    if len(found) > 1:
        choices = " or ".join(f"tool_arguments(({variable}, {tool.definition.name!r}))" for variable, tool in found)
        raise UserError(
            f"tool_arguments({function.__qualname__}): the function is registered on {len(found)} pydantic-ai "
            f"agents, whose tools may differ; say which with {choices}"
        )
    return found[0][1] if found else None


def _from_tool(tool: Tool[Any]) -> ResolvedTool:
    schema = tool.schema

    def to_python(arguments: dict[str, Any]) -> dict[str, Any]:
        return schema.validate(arguments)

    return ResolvedTool(tool.definition, to_python, tool)


def _tool_named(agent: Agent[Any, Any], name: object) -> Tool[Any]:
    tools = agent.function_tools
    if not isinstance(name, str) or name not in tools:
        known = ", ".join(repr(known) for known in tools) or "none"
        raise UserError(
            f"tool_arguments(({agent.name or 'agent'}, {name!r})): the agent has no such tool; it has {known}"
        )
    return tools[name]


def _tool_of_function(function: Callable[..., Any]) -> Tool[Any]:
    """The tool a function was registered as, found on the agents of its module; else a `Tool` made from it.

    An agent living elsewhere (not a global of the function's module) is not found: the function
    is then described on its own, as `Tool(function)` would, which gives the same arguments unless
    it was registered with `@agent.tool` without annotating its `RunContext` parameter.
    """
    agents: dict[int, tuple[str, Agent[Any, Any]]] = {}
    for variable, value in list(getattr(function, "__globals__", {}).items()):
        if isinstance(value, Agent):
            agents.setdefault(id(value), (variable, value))
    found = [
        (variable, tool)
        for variable, agent in agents.values()
        for tool in agent.function_tools.values()
        if tool.function == function  # `==`: a bound method is a new object at each access
    ]
    if len(found) == 1:
        return found[0][1]
    if len(found) > 1:
        choices = " or ".join(f"tool_arguments(({variable}, {tool.name!r}))" for variable, tool in found)
        raise UserError(
            f"tool_arguments({function.__qualname__}): the function is registered on {len(found)} agents "
            f"({', '.join(variable for variable, _ in found)}), whose tools may differ; say which with {choices}"
        )
    return Tool(function)
