"""Scripts of model behaviour for pydantic-ai agents: drawn lists of pydantic-ai `ModelResponse`s.

The drawing is the agentkit side's (`response_scripts` in `agentkit_testing._hypothesis._strategies`:
the same kinds, arguments from the same JSON-schema strategies); only the messages built from a
drawn script are pydantic-ai's. So this module needs no Hypothesis import of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.tools import ToolDefinition

from agentkit import ToolDefinition as AgentkitToolDefinition
from agentkit import UserError
from agentkit_testing._hypothesis._strategies import ALL_KINDS, ResponseKind, Script, build_script, response_scripts
from agentkit_testing.pydantic_ai._scripted import SCRIPT_TIME, probe_agent_info_sync

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ("model_responses",)


def model_responses(
    agent_or_tools: Agent[Any, Any] | Sequence[ToolDefinition | Tool[Any]],
    output_tool: ToolDefinition | None = None,
    *,
    deps: Any = None,
    kinds: Collection[ResponseKind] = ALL_KINDS,
    min_size: int = 0,
    max_size: int = 5,
    max_parts: int = 3,
) -> SearchStrategy[list[ModelResponse]]:
    """Scripts of model behaviour for a pydantic-ai agent: lists of pydantic-ai `ModelResponse`s to play.

    Pass the agent (it is probed once, now, with `probe_agent_info_sync(agent, deps=deps)`: its
    function tools and first output tool as pydantic-ai offers them to a model), or the tool
    definitions and output tool yourself (`info.function_tools`, `info.output_tools[0]`, or
    `pydantic_ai.Tool`s). The kinds are those of `agentkit_testing.strategies.model_responses`:
    `tool_call` (valid arguments), `invalid_tool_call`, `unknown_tool`, `malformed_args`, `text`,
    `result` and `invalid_result` (calls of the output tool), `empty` (a response with no parts).
    Tool-call ids are `scripted_1`, `scripted_2`, ... and timestamps fixed, so a failing example
    prints as `ModelResponse(parts=[ToolCallPart(...)], timestamp=datetime.datetime(...))`, ready to
    paste (with `import datetime` and `from pydantic_ai.messages import ...`).
    """
    if isinstance(agent_or_tools, Agent):
        if output_tool is not None:
            raise UserError(
                "model_responses(agent, output_tool): the agent's own output tool is used; pass one or the other"
            )
        info = probe_agent_info_sync(agent_or_tools, deps=deps)
        tools: Sequence[ToolDefinition | Tool[Any]] = info.function_tools
        output_tool = info.output_tools[0] if info.output_tools else None
    else:
        tools = agent_or_tools
    return response_scripts(
        [_drawable(tool) for tool in tools],
        _drawable(output_tool) if output_tool is not None else None,
        _build_responses,
        kinds=kinds,
        min_size=min_size,
        max_size=max_size,
        max_parts=max_parts,
    )


def _drawable(tool: ToolDefinition | Tool[Any]) -> object:
    """`tool` in a form `tool_arguments` draws from: a pydantic-ai `Tool` as it is, a definition as agentkit's."""
    if isinstance(tool, Tool):
        return tool
    if isinstance(tool, ToolDefinition):
        return AgentkitToolDefinition(
            name=tool.name, description=tool.description or "", parameters_json_schema=tool.parameters_json_schema
        )
    raise UserError(
        f"model_responses expected pydantic-ai ToolDefinitions or Tools (or the agent); got {tool!r} "
        f"(type={type(tool).__name__})"
    )


class ScriptedResponses(list[ModelResponse]):
    """A drawn script: a plain list of `ModelResponse`s that Hypothesis prints as pydantic-ai's own reprs.

    Hypothesis prints a dataclass field by field, every field with its default; here each response
    prints as the call that makes it (its parts in pydantic-ai's own reprs, which leave defaults out),
    so a falsifying example stays short and pastes as it is.
    """

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        with printer.group(1, "[", "]"):
            for index, response in enumerate(self):
                if index:
                    printer.text(",")
                    printer.breakable()
                printer.text(_constructor(response))


def _constructor(response: ModelResponse) -> str:
    """`ModelResponse(parts=[...], timestamp=...)` when that rebuilds `response` exactly, else its repr."""
    short = f"ModelResponse(parts={response.parts!r}, timestamp={response.timestamp!r})"
    if ModelResponse(parts=list(response.parts), timestamp=response.timestamp) == response:
        return short
    return repr(response)


def _build_responses(script: Script) -> ScriptedResponses:
    def response(parts: list[TextPart | ToolCallPart]) -> ModelResponse:
        return ModelResponse(parts=list(parts), timestamp=SCRIPT_TIME)

    return ScriptedResponses(build_script(script, TextPart, ToolCallPart, response))
