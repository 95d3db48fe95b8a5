"""Scripted runs: a model that plays a list of responses, a run on it, and the invariants every run keeps.

Nothing here needs Hypothesis: the strategies in `_strategies` draw the scripts, and tests may
also write scripts by hand.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import traceback
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentkit import (
    Agent,
    AgentNode,
    AgentRun,
    End,
    FixedClock,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    RunResult,
    SequentialIds,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
    UsageLimits,
    UserError,
    override_sources,
)
from agentkit.models import AgentInfo, FunctionModel, ModelRequestParameters, TestModel
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._script_player import ScriptPlayer

__all__ = ("SCRIPT_TIME", "ScriptedModel", "ScriptedRun", "probe_agent_info", "replay_example", "run_scripted")

SCRIPT_TIME = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
"""The timestamp of scripted responses, so that scripts are reproducible."""


class ScriptedModel(ScriptPlayer[ModelResponse], FunctionModel):
    """A model that plays `responses` in order, then ends the run so it terminates.

    When the script runs out it answers with `final_text` if the agent accepts text, otherwise it
    calls the result tool with `final_result_args` (or, when not given, arguments `TestModel`
    makes from the result schema).
    """

    def __init__(
        self,
        responses: Iterable[ModelResponse],
        *,
        final_text: str = "done",
        final_result_args: dict[str, Any] | None = None,
        model_name: str = "scripted",
    ) -> None:
        self._load_script(responses, final_text)
        self.final_result_args = final_result_args
        self.agent_infos: list[AgentInfo] = []
        """What the agent offered at each request, in order."""
        super().__init__(self._respond, model_name=model_name)

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse | Awaitable[ModelResponse]:
        self.agent_infos.append(info)
        scripted = self._play_next()
        if scripted is not None:
            return scripted
        if info.allow_text_result or not info.result_tools:
            return ModelResponse(parts=[TextPart(self.final_text)], timestamp=SCRIPT_TIME)
        return self._final_result(info.result_tools[0])

    async def _final_result(self, result_tool: ToolDefinition) -> ModelResponse:
        if self.final_result_args is not None:
            return ModelResponse(parts=[ToolCallPart(result_tool.name, dict(self.final_result_args))])
        parameters = ModelRequestParameters(allow_text_result=False, result_tools=[result_tool])
        response, _ = await TestModel(call_tools=[]).request([], None, parameters)
        response.model_name = None
        return response


@dataclass(frozen=True)
class ScriptedRun:
    """One run of an agent on a scripted model: the script, the nodes and messages, and how it ended."""

    script: list[ModelResponse]
    nodes: list[AgentNode]
    new_messages: list[ModelMessage]
    requests: int
    result: RunResult[Any] | None
    error: UnexpectedModelBehavior | UsageLimitExceeded | None
    result_tool_names: frozenset[str] = frozenset()
    """The result tools the agent offered; their returns come first in a request, before function tools'."""
    retry_budgets: Mapping[str, int] | None = None
    """Each function tool's `max_retries` as the agent registered it (`run_scripted` fills it in)."""

    def check(self, *, retry_budgets: Mapping[str, int] | None = None) -> None:
        """Assert every invariant of a run.

        `retry_budgets` maps each function tool to its `max_retries`; by default the agent's own
        (each tool's `retries`, else the agent's), as `run_scripted` read them.
        """
        budgets = retry_budgets if retry_budgets is not None else self.retry_budgets
        if budgets is None:
            raise UserError(
                "ScriptedRun.check(): this run does not know its tools' retry budgets (it was not made by "
                "run_scripted); pass them: check(retry_budgets={'tool_name': max_retries, ...})"
            )
        self.check_ending()
        self.check_tool_calls_answered()
        self.check_requests_counted()
        self.check_tool_retries(budgets)

    def check_ending(self) -> None:
        """A run ends in `End` with a result, or with one of the documented errors, never both or neither."""
        last = self.nodes[-1] if self.nodes else None
        if self.error is None:
            assert isinstance(last, End), f"the run raised nothing but its last node is {last!r}, not End"
            assert self.result is not None, "the run reached End but has no result"
            assert self.result.data == last.data.data, f"result {self.result.data!r} != End data {last.data.data!r}"
        else:
            assert self.result is None, f"the run raised {self.error!r} yet has a result {self.result!r}"

    def check_tool_calls_answered(self) -> None:
        """Every tool call gets a return or retry prompt with its id in the next request, function tools in order."""
        messages = self.new_messages
        for index, message in enumerate(messages):
            if not isinstance(message, ModelResponse):
                continue
            calls = [part for part in message.parts if isinstance(part, ToolCallPart)]
            answer = messages[index + 1] if index + 1 < len(messages) else None
            if answer is None:
                assert not calls or self.error is not None, f"tool calls {calls!r} of the last response got no answer"
                continue
            assert isinstance(answer, ModelRequest), f"message {index + 1} follows a response but is {answer!r}"
            if not calls:
                continue
            answered = [part for part in answer.parts if isinstance(part, ToolReturnPart | RetryPromptPart)]
            call_ids = sorted(str(call.tool_call_id) for call in calls)
            answer_ids = sorted(_answered_ids(answered, calls))
            assert call_ids == answer_ids, (
                f"response {index}: tool calls {call_ids} were answered with ids {answer_ids} in request {index + 1}"
            )
            order = [call.tool_call_id for call in calls]
            returned = [
                part.tool_call_id
                for part in answered
                if isinstance(part, ToolReturnPart) and part.tool_name not in self.result_tool_names
            ]
            assert returned == sorted(returned, key=order.index), (
                f"response {index}: tool returns {returned} are not in call order {order}"
            )

    def check_requests_counted(self) -> None:
        """`usage.requests` equals the number of responses in the run's messages, even when a limit stopped it."""
        responses = sum(isinstance(message, ModelResponse) for message in self.new_messages)
        assert self.requests == responses, f"usage.requests={self.requests} but the run has {responses} responses"

    def check_tool_retries(self, retry_budgets: Mapping[str, int]) -> None:
        """No function tool is retried more times in a row (in call order) than its budget."""
        in_a_row: dict[str, int] = {}
        for index, message in enumerate(self.new_messages):
            if not isinstance(message, ModelRequest):
                continue
            for part in message.parts:
                name = getattr(part, "tool_name", None)
                if not isinstance(name, str) or name not in retry_budgets:
                    continue
                if isinstance(part, RetryPromptPart):
                    in_a_row[name] = in_a_row.get(name, 0) + 1
                    assert in_a_row[name] <= retry_budgets[name], (
                        f"tool {name!r} was retried {in_a_row[name]} times in a row by message {index}, "
                        f"over its budget of {retry_budgets[name]}"
                    )
                elif isinstance(part, ToolReturnPart):
                    in_a_row[name] = 0


async def run_scripted(
    agent: Agent[Any, Any],
    script: Sequence[ModelResponse],
    *,
    prompt: str = "Start.",
    deps: Any = None,
    message_history: list[ModelMessage] | None = None,
    usage_limits: UsageLimits | None = None,
    final_result_args: dict[str, Any] | None = None,
    record_to: Cassette | None = None,
) -> ScriptedRun:
    """Run `agent` node by node on a `ScriptedModel` playing `script`, with a fixed clock and ids.

    The documented errors (`UnexpectedModelBehavior`, `UsageLimitExceeded`) are caught into the
    result; any other exception propagates, since a run must never end that way. With `record_to`,
    the run is also recorded into that cassette (in memory until you `save()` it), so a failing
    example can be kept and replayed offline as a regression test with `cassette(path)`.
    """
    model = ScriptedModel(script, final_result_args=final_result_args)
    nodes: list[AgentNode] = []
    error: UnexpectedModelBehavior | UsageLimitExceeded | None = None
    agent_run: AgentRun[Any, Any] | None = None
    recording = cassette(record_to, "all") if record_to is not None else contextlib.nullcontext()
    with override_sources(clock=FixedClock(), ids=SequentialIds()), agent.override(model=model), recording:
        try:
            async with agent.iter(
                prompt,
                deps=deps,
                message_history=message_history,
                usage_limits=usage_limits,
                infer_name=False,
                model=model,  # besides the override: the runtime refuses an override on an agent without a model
            ) as agent_run:
                async for node in agent_run:
                    nodes.append(node)
        except (UnexpectedModelBehavior, UsageLimitExceeded) as exc:
            error = exc
    if agent_run is None:
        raise UserError(f"agent.iter failed before the run started: {error!r}") from error
    result_tools = frozenset(tool.name for info in model.agent_infos for tool in info.result_tools)
    budgets = {name: tool.max_retries for name, tool in agent.function_tools.items() if tool.max_retries is not None}
    return ScriptedRun(
        list(script),
        nodes,
        agent_run.new_messages(),
        agent_run.usage().requests,
        agent_run.result,
        error,
        result_tools,
        budgets,
    )


class _ProbeDone(Exception):
    """Internal: stops the probe run as soon as the agent has said what it offers the model."""


async def probe_agent_info(agent: Agent[Any, Any], *, deps: Any = None) -> AgentInfo:
    """What `agent` offers the model on its first request: function tools, result tools, whether text may end it.

    The agent's system prompt functions and tool `prepare` hooks run as in a real run, so an agent
    whose functions read `ctx.deps` needs them: `probe_agent_info(agent, deps=...)`. Without them, such
    a function's failure becomes a `UserError` that says so.
    """
    try:
        _, info = await probe_first_request(agent, deps=deps)
    except Exception as error:
        if deps is None and agent.deps_type is not type(None) and not isinstance(error, UserError):
            raise _needs_deps(agent, error) from error
        raise
    return info


async def probe_first_request(agent: Agent[Any, Any], *, deps: Any = None) -> tuple[list[ModelMessage], AgentInfo]:
    """The messages and `AgentInfo` of `agent`'s first request, captured by a `FunctionModel`, sent nowhere."""
    seen: list[tuple[list[ModelMessage], AgentInfo]] = []

    def capture(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append((messages, info))
        raise _ProbeDone

    probe = FunctionModel(capture, model_name="probe")
    with agent.override(model=probe), contextlib.suppress(_ProbeDone):
        await agent.run("probe", deps=deps, infer_name=False, model=probe)  # model too: see run_script
    if not seen:
        raise UserError(f"probing {agent!r}: it never sent a request to its model")
    return seen[0]


def _needs_deps(agent: Agent[Any, Any], error: Exception) -> UserError:
    """The error for an agent whose functions failed before its first request because no deps were given."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ is not None else None
    where = f" in {frame.name} ({os.path.basename(frame.filename)}:{frame.lineno})" if frame is not None else ""
    deps_type = getattr(agent.deps_type, "__qualname__", repr(agent.deps_type))
    return UserError(
        f"probing {f'agent {agent.name!r}' if agent.name else 'the agent'} without deps: "
        f"{type(error).__name__}: {error}{where}. The agent "
        f"takes deps of type {deps_type} and its system prompt functions or tool prepare hooks run before the "
        f"first request, so they need them: pass deps=... to probe_agent_info (AgentFlowMachine: set its "
        "`deps` class attribute)"
    )


async def replay_example(
    agent: Agent[Any, Any],
    path: str | os.PathLike[str],
    *,
    deps: Any = None,
    usage_limits: UsageLimits | None = None,
) -> list[ScriptedRun]:
    """Run `agent` again, offline, on every run a cassette holds, in order: a regression test for a saved example.

    The model's side comes from the cassette (record mode `none`), the tools run for real, so a
    fixed bug stays fixed: check each returned run with `ScriptedRun.check`, and any exception a
    run raises propagates as it did when the example was found.
    """
    recorded = Cassette.load(path).runs
    if not recorded:
        raise UserError(f"replay_example: the cassette {os.fspath(path)!r} holds no runs")
    runs: list[ScriptedRun] = []
    with cassette(path, "none"):
        for run in recorded:
            history = list(run.message_history) if run.message_history is not None else None
            runs.append(
                await run_scripted(
                    agent, [], prompt=run.user_prompt, deps=deps, message_history=history, usage_limits=usage_limits
                )
            )
    return runs


def _answered_ids(answered: list[ToolReturnPart | RetryPromptPart], calls: list[ToolCallPart]) -> list[str]:
    """The ids of the calls the parts answer: each part's own, or, for the id-less retry prompt the runtime
    sends for an unknown tool (as pydantic-ai 0.0.39 does), the next call to the tool its text names."""
    unknown = list(calls)
    ids: list[str] = []
    for part in answered:
        if part.tool_call_id is None and isinstance(part, RetryPromptPart) and isinstance(part.content, str):
            call = next((c for c in unknown if part.content.startswith(f"Unknown tool name: {c.tool_name!r}.")), None)
            if call is not None:
                unknown.remove(call)
                ids.append(str(call.tool_call_id))
                continue
        ids.append(str(part.tool_call_id))
    return ids
