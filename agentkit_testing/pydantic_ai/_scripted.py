"""Scripted pydantic-ai runs: a model that plays a list of responses, a run of an agent on it, and its invariants.

The pydantic-ai form of `agentkit_testing._hypothesis._scripted`. Nothing here needs Hypothesis
(`_script_strategies` draws the scripts; tests may write them by hand). Only public pydantic-ai API
is used: `FunctionModel`, `TestModel.gen_tool_args`, `Agent.override`, `Agent.iter`,
`capture_run_messages`, the message parts and their `RetryInfo`.
"""

from __future__ import annotations

import datetime
import json
import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic_ai import Agent, capture_run_messages
from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.run import AgentRunResult
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import FunctionToolset
from pydantic_ai.usage import UsageLimits

from agentkit import UserError
from agentkit_testing._script_player import ScriptPlayer
from agentkit_testing.pydantic_ai._scripted_checks import (
    check_ending,
    check_requests_counted,
    check_retries,
    check_tool_calls_answered,
)

__all__ = (
    "SCRIPT_TIME",
    "ScriptedModel",
    "ScriptedRun",
    "probe_agent_info",
    "probe_agent_info_sync",
    "run_scripted",
    "run_scripted_sync",
)

SCRIPT_TIME = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
"""The timestamp of scripted responses, so that scripts are reproducible and print the same."""


class ScriptedModel(ScriptPlayer[ModelResponse], FunctionModel):
    """A pydantic-ai model that plays `responses` in order, then ends the run so it terminates.

    When the script runs out it answers with `final_text` if the agent accepts text, otherwise it
    calls the first output tool with `final_output_args` (or, when not given, arguments pydantic-ai's
    `TestModel` makes from the output schema); for native or prompted structured output it sends
    those arguments as JSON text.
    """

    def __init__(
        self,
        responses: Iterable[ModelResponse],
        *,
        final_text: str = "done",
        final_output_args: dict[str, Any] | None = None,
        model_name: str = "scripted",
    ) -> None:
        self._load_script(responses, final_text)
        self.final_output_args = final_output_args
        self.finals = 0
        self.agent_infos: list[AgentInfo] = []
        """What the agent offered at each request, in order."""
        super().__init__(self._respond, model_name=model_name)

    async def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.agent_infos.append(info)
        scripted = self._play_next()  # a copy: FunctionModel writes its name and usage on it
        if scripted is not None:
            return scripted
        self.finals += 1
        return self._final(info)

    def _final(self, info: AgentInfo) -> ModelResponse:
        parameters = info.model_request_parameters
        if info.output_tools and (self.final_output_args is not None or not info.allow_text_output):
            tool = info.output_tools[0]
            args = self.final_output_args if self.final_output_args is not None else _made_up_args(tool)
            call = ToolCallPart(tool.name, dict(args), tool_call_id=f"scripted_final_{self.finals}")
            return ModelResponse(parts=[call], timestamp=SCRIPT_TIME)
        output = parameters.output_object
        if output is not None:  # native or prompted structured output: the object as JSON text
            schema = ToolDefinition(name=output.name or "output", parameters_json_schema=output.json_schema)
            args = self.final_output_args if self.final_output_args is not None else _made_up_args(schema)
            return ModelResponse(parts=[TextPart(json.dumps(args))], timestamp=SCRIPT_TIME)
        return ModelResponse(parts=[TextPart(self.final_text)], timestamp=SCRIPT_TIME)


def _made_up_args(tool: ToolDefinition) -> Any:
    """Arguments that fit `tool`'s schema, made by pydantic-ai's own `TestModel` (deterministic, seed 0)."""
    return TestModel().gen_tool_args(tool)


@dataclass(frozen=True)
class ScriptedRun:
    """One run of a pydantic-ai agent on a `ScriptedModel`: the script, the nodes and messages, and how it ended."""

    script: list[ModelResponse]
    nodes: list[Any]
    """The nodes `Agent.iter` yielded, in order (`UserPromptNode`, `ModelRequestNode`, `CallToolsNode`, `End`)."""
    new_messages: list[ModelMessage]
    requests: int
    """`usage.requests` at the end of the run."""
    result: AgentRunResult[Any] | None
    error: UnexpectedModelBehavior | UsageLimitExceeded | None
    retry_budgets: Mapping[str, int] = field(default_factory=dict)
    """The `max_retries` of each function tool that set its own (`run_scripted` reads them from the agent)."""
    output_tools: frozenset[str] = frozenset()
    """The output tools the agent offered; their calls may be answered before the function tools'."""

    def check(self, *, retry_budgets: Mapping[str, int] | None = None) -> None:
        """Assert every invariant of the run (each `check_*` method, in turn).

        `retry_budgets` maps tool names to their `max_retries`, over the ones read from the agent;
        a tool with none known is held to the budget pydantic-ai declares on its retried parts.
        """
        check_ending(self.nodes, self.result, self.error)
        check_tool_calls_answered(self.new_messages, self.error, self.output_tools)
        check_requests_counted(self.new_messages, self.requests)
        check_retries(self.new_messages, {**self.retry_budgets, **(retry_budgets or {})})


async def run_scripted(
    agent: Agent[Any, Any],
    script: Sequence[ModelResponse],
    *,
    prompt: str = "Start.",
    deps: Any = None,
    message_history: Sequence[ModelMessage] | None = None,
    usage_limits: UsageLimits | None = None,
    final_output_args: dict[str, Any] | None = None,
    final_text: str = "done",
) -> ScriptedRun:
    """Run the pydantic-ai `agent` node by node on a `ScriptedModel` playing `script`.

    The model is put in place with `Agent.override`, so the agent's own model is never asked. The
    documented endings (`UnexpectedModelBehavior`, `UsageLimitExceeded`) are caught into the run;
    any other exception propagates, since a run must never end that way.
    """
    model = ScriptedModel(script, final_output_args=final_output_args, final_text=final_text)
    nodes: list[Any] = []
    error: UnexpectedModelBehavior | UsageLimitExceeded | None = None
    agent_run = None
    with capture_run_messages() as captured, agent.override(model=model):
        try:
            async with agent.iter(
                prompt, deps=deps, message_history=message_history, usage_limits=usage_limits, infer_name=False
            ) as agent_run:
                async for node in agent_run:
                    nodes.append(node)
        except (UnexpectedModelBehavior, UsageLimitExceeded) as exc:
            error = exc
    if agent_run is None:
        raise UserError(f"run_scripted: the pydantic-ai run failed before it started: {error!r}") from error
    return ScriptedRun(
        script=list(script),
        nodes=nodes,
        new_messages=list(captured[len(message_history or ()) :]),
        requests=agent_run.usage.requests,
        result=agent_run.result,
        error=error,
        retry_budgets=own_retry_budgets(agent),
        output_tools=frozenset(tool.name for info in model.agent_infos for tool in info.output_tools),
    )


def run_scripted_sync(
    agent: Agent[Any, Any],
    script: Sequence[ModelResponse],
    *,
    prompt: str = "Start.",
    deps: Any = None,
    message_history: Sequence[ModelMessage] | None = None,
    usage_limits: UsageLimits | None = None,
    final_output_args: dict[str, Any] | None = None,
    final_text: str = "done",
) -> ScriptedRun:
    """`run_scripted` from synchronous code (a plain `@given` test); inside an event loop, await `run_scripted`."""
    return anyio.run(
        lambda: run_scripted(
            agent, script, prompt=prompt, deps=deps, message_history=message_history, usage_limits=usage_limits,
            final_output_args=final_output_args, final_text=final_text,
        )
    )  # fmt: skip


def own_retry_budgets(agent: Agent[Any, Any]) -> dict[str, int]:
    """The `max_retries` each function tool of `agent` was registered with, where it set its own.

    A tool without its own takes the agent's budget, which pydantic-ai does not make public; the
    check then reads it from the run itself (each retried part carries `RetryInfo.max_retries`).
    """
    budgets: dict[str, int] = {}
    for toolset in agent.toolsets:
        if isinstance(toolset, FunctionToolset):
            budgets.update(
                {name: tool.max_retries for name, tool in toolset.tools.items() if tool.max_retries is not None}
            )
    return budgets


class _ProbeDone(Exception):
    """Internal: stops the probe run as soon as the agent has said what it offers the model."""


async def probe_agent_info(agent: Agent[Any, Any], *, deps: Any = None) -> AgentInfo:
    """What the pydantic-ai `agent` offers a model on its first request: function tools, output tools, text.

    A `FunctionModel` put in place with `Agent.override` captures the first request and stops the
    run; nothing is sent anywhere. The agent's instructions functions and tool `prepare` hooks run
    as in a real run, so an agent whose functions read `ctx.deps` needs them here too.
    """
    seen: list[AgentInfo] = []

    def capture(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        raise _ProbeDone

    probe = FunctionModel(capture, model_name="probe")
    try:
        with agent.override(model=probe):
            await agent.run("probe", deps=deps, infer_name=False)
    except _ProbeDone:
        pass
    except Exception as error:
        if deps is None and agent.deps_type not in (object, type(None)):
            raise _needs_deps(agent, error) from error
        raise
    if not seen:
        raise UserError(f"probing pydantic-ai agent {agent.name or agent!r}: it never sent a request to its model")
    return seen[0]


def probe_agent_info_sync(agent: Agent[Any, Any], *, deps: Any = None) -> AgentInfo:
    """`probe_agent_info` from synchronous code (module level, a plain test)."""
    return anyio.run(lambda: probe_agent_info(agent, deps=deps))


def _needs_deps(agent: Agent[Any, Any], error: Exception) -> UserError:
    """The error for an agent whose functions failed before its first request, when no deps were given."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ is not None else None
    where = f" in {frame.name} ({os.path.basename(frame.filename)}:{frame.lineno})" if frame is not None else ""
    deps_type = getattr(agent.deps_type, "__qualname__", repr(agent.deps_type))
    return UserError(
        f"probing pydantic-ai agent {agent.name or 'without a name'} without deps: {type(error).__name__}: {error}"
        f"{where}. The agent takes deps of type {deps_type}, and its instructions functions and tool prepare "
        "hooks run before the first request: pass deps=... (probe_agent_info(agent, deps=...), "
        "model_responses(agent, deps=...))"
    )
