"""The nodes of a run: `ModelRequestNode` -> `CallToolsNode` -> ... -> `End`.

Each node's `run(ctx)` does one step and returns the next node. Nodes are plain dataclasses
whose repr shows only what the step is about (the request, the response, the result).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias

import anyio
import pydantic

from agentkit._context import RunContext
from agentkit._hooks import RunObserver
from agentkit._streaming import AgentStream
from agentkit.exceptions import ModelRetry, UnexpectedModelBehavior
from agentkit.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    HandleResponseEvent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._guard import check_model_request_allowed, model_requests_allowed
from agentkit.result import FinalResult, ResultDataT, ResultSchema, ResultValidator, ToolRetry
from agentkit.settings import ModelSettings
from agentkit.tools import Tool
from agentkit.usage import Usage, UsageLimits

__all__ = (
    "AgentNode",
    "CallToolsNode",
    "End",
    "GraphAgentDeps",
    "GraphAgentState",
    "GraphRunContext",
    "ModelRequestNode",
)


@dataclass
class GraphAgentState:
    """What changes as a run goes: the messages, the usage, the retry counters."""

    message_history: list[ModelMessage]
    usage: Usage
    retries: int = 0
    """Retries of the result (text or result tool) in a row."""
    run_step: int = 0
    tool_retries: dict[str, int] = field(default_factory=dict)


@dataclass
class GraphAgentDeps:
    """What stays fixed during a run: the model, tools, settings, limits, validators."""

    user_deps: Any
    prompt: str
    new_message_index: int
    model: Model
    model_settings: ModelSettings | None
    usage_limits: UsageLimits
    max_result_retries: int
    default_tool_retries: int
    function_tools: dict[str, Tool[Any]]
    result_schema: ResultSchema
    result_validators: list[ResultValidator]
    observers: list[RunObserver]


@dataclass
class GraphRunContext:
    """The context each node runs in: `agent_run.ctx`."""

    state: GraphAgentState
    deps: GraphAgentDeps

    def run_context(self, **extra: Any) -> RunContext[Any]:
        state, deps = self.state, self.deps
        return RunContext(
            deps=deps.user_deps,
            model=deps.model,
            usage=state.usage,
            prompt=deps.prompt,
            messages=state.message_history,
            run_step=state.run_step,
            **extra,
        )


@dataclass
class End(Generic[ResultDataT]):
    """The run is over; `data` is its final result."""

    data: FinalResult[ResultDataT]

    async def run(self, ctx: GraphRunContext) -> End[ResultDataT]:
        return self


@dataclass
class ModelRequestNode:
    """Send `request` to the model; the next node handles its response."""

    request: ModelRequest
    _result: CallToolsNode | None = field(default=None, init=False, repr=False, compare=False)
    _did_stream: bool = field(default=False, init=False, repr=False, compare=False)

    async def run(self, ctx: GraphRunContext) -> CallToolsNode:
        if self._result is not None:
            return self._result
        if self._did_stream:
            raise UnexpectedModelBehavior("This node was streamed but the stream did not complete")
        parameters = await self._prepare(ctx)
        response, usage = await ctx.deps.model.request(ctx.state.message_history, ctx.deps.model_settings, parameters)
        return self._finish(ctx, response, usage)

    @asynccontextmanager
    async def stream(self, ctx: GraphRunContext) -> AsyncIterator[AgentStream]:
        """Send the request streamed; yields an `AgentStream` of part start / part delta events.

        Leaving the block normally finishes the node (unread events are read first), so the
        run goes on exactly as if the node had not been streamed.
        """
        async with self._stream(ctx, complete_on_exit=True) as agent_stream:
            yield agent_stream

    @asynccontextmanager
    async def _stream(self, ctx: GraphRunContext, *, complete_on_exit: bool) -> AsyncIterator[AgentStream]:
        if self._did_stream or self._result is not None:
            raise UnexpectedModelBehavior("A ModelRequestNode can only be streamed once, before it is run")
        self._did_stream = True
        parameters = await self._prepare(ctx)
        async with ctx.deps.model.request_stream(
            ctx.state.message_history, ctx.deps.model_settings, parameters
        ) as streamed:
            agent_stream = AgentStream(
                streamed, ctx, on_complete=lambda: self._finish(ctx, streamed.get(), streamed.usage())
            )
            try:
                yield agent_stream
            except BaseException:
                if not agent_stream.is_complete:
                    self._abandon(ctx, streamed)
                    await streamed.aclose()
                raise
            if not agent_stream.is_complete:
                if complete_on_exit:
                    async for _ in agent_stream:
                        pass  # the consumer may stop reading early; the response is still needed whole
                else:
                    self._abandon(ctx, streamed)
                    await streamed.aclose()

    def _abandon(self, ctx: GraphRunContext, streamed: StreamedResponse) -> None:
        """The consumer left early: count what was received and keep the partial response."""
        ctx.state.usage.incr(streamed.usage(), requests=1)
        partial = streamed.get()
        if partial.parts:
            ctx.state.message_history.append(partial)

    async def _prepare(self, ctx: GraphRunContext) -> ModelRequestParameters:
        state, deps = ctx.state, ctx.deps
        deps.usage_limits.check_before_request(state.usage)
        if deps.model.sends_real_requests and not model_requests_allowed():
            check_model_request_allowed(f"{type(deps.model).__name__} {deps.model.model_name!r}")
        state.message_history.append(self.request)
        state.run_step += 1
        run_context = ctx.run_context()
        function_tools = []
        for tool in deps.function_tools.values():
            definition = await tool.prepared_definition(run_context)
            if definition is not None:
                function_tools.append(definition)
        schema = deps.result_schema
        return ModelRequestParameters(
            function_tools=function_tools,
            allow_text_result=schema.allow_text_result,
            result_tools=schema.tool_definitions(),
        )

    def _finish(self, ctx: GraphRunContext, response: ModelResponse, usage: Usage) -> CallToolsNode:
        state = ctx.state
        state.usage.incr(usage, requests=1)
        state.message_history.append(response)
        self._result = CallToolsNode(response)
        ctx.deps.usage_limits.check_tokens(state.usage)  # after the response is kept: a breach loses nothing
        return self._result


@dataclass
class CallToolsNode:
    """Handle `model_response`: run the tools it calls, or validate the result it gives."""

    model_response: ModelResponse
    _result: ModelRequestNode | End[Any] | None = field(default=None, init=False, repr=False, compare=False)

    async def run(self, ctx: GraphRunContext) -> ModelRequestNode | End[Any]:
        if self._result is None:
            async for _ in self._handle(ctx):
                pass
        assert self._result is not None
        return self._result

    @asynccontextmanager
    async def stream(self, ctx: GraphRunContext) -> AsyncIterator[AsyncGenerator[HandleResponseEvent, None]]:
        """Handle the response, yielding tool-call and tool-result events as they happen."""
        if self._result is not None:
            raise UnexpectedModelBehavior("This CallToolsNode has already been run")
        events = self._handle(ctx)
        try:
            yield events
        except BaseException:
            await events.aclose()
            raise
        async for _ in events:
            pass  # events left unread: the response must still be handled whole, and only once

    async def _handle(self, ctx: GraphRunContext) -> AsyncGenerator[HandleResponseEvent, None]:
        calls = [part for part in self.model_response.parts if isinstance(part, ToolCallPart)]
        if calls:
            async for event in self._handle_tool_calls(ctx, calls):
                yield event
            return
        text = "".join(part.content for part in self.model_response.parts if isinstance(part, TextPart))
        schema = ctx.deps.result_schema
        if not text:
            self._retry_result(ctx, "Responses without text or tool calls are not permitted.")
        elif not schema.allow_text_result:
            self._retry_result(ctx, "Plain text responses are not permitted, please call one of the functions instead.")
        else:
            try:
                data = await _validate_result(ctx, text, None)
            except ToolRetry as retry:
                self._retry_result(ctx, retry.retry_prompt)
            else:
                ctx.state.retries = 0
                self._result = End(FinalResult(data))

    def _retry_result(self, ctx: GraphRunContext, prompt: str | RetryPromptPart) -> None:
        part = prompt if isinstance(prompt, RetryPromptPart) else RetryPromptPart(prompt)
        _count_result_retry(ctx, part)
        self._result = ModelRequestNode(ModelRequest(parts=[part]))

    async def _handle_tool_calls(
        self, ctx: GraphRunContext, calls: list[ToolCallPart]
    ) -> AsyncIterator[HandleResponseEvent]:
        deps = ctx.deps
        answers: dict[int, ToolReturnPart | RetryPromptPart] = {}  # by position in `calls`, to keep call order
        final: FinalResult[Any] | None = None
        result_call = deps.result_schema.find_call(calls)
        if result_call is not None:
            assert deps.result_schema.tool is not None
            position = calls.index(result_call)
            try:
                data = deps.result_schema.tool.validate(result_call)
                data = await _validate_result(ctx, data, result_call)
            except ToolRetry as retry:
                _count_result_retry(ctx, retry.retry_prompt)
                answers[position] = retry.retry_prompt
            else:
                ctx.state.retries = 0
                final = FinalResult(data, result_call.tool_name, result_call.tool_call_id)
                answers[position] = ToolReturnPart(
                    result_call.tool_name, "Final result processed.", result_call.tool_call_id
                )

        pending: list[tuple[int, ToolCallPart]] = []
        for position, call in enumerate(calls):
            if call is result_call:
                continue
            if final is not None:
                answers[position] = ToolReturnPart(
                    call.tool_name, "Tool not executed - a final result was already processed.", call.tool_call_id
                )
            elif call.tool_name in deps.function_tools:
                pending.append((position, call))
            else:
                names = [*deps.function_tools, *(t.name for t in deps.result_schema.tool_definitions())]
                unknown = RetryPromptPart(
                    f"Unknown tool name: {call.tool_name!r}. "
                    + (f"Available tools: {', '.join(names)}" if names else "No tools available."),
                    tool_name=call.tool_name,
                    tool_call_id=call.tool_call_id,
                )
                _count_result_retry(ctx, unknown, tool_name=call.tool_name)
                answers[position] = unknown

        if pending:
            pending_calls = [call for _, call in pending]
            for call in pending_calls:
                yield FunctionToolCallEvent(call)
            results = await _run_tools(ctx, pending_calls)
            _count_tool_retries(ctx, pending_calls, results)
            for (position, call), result in zip(pending, results, strict=True):
                yield FunctionToolResultEvent(result, call.tool_call_id)
                answers[position] = result

        parts: list[Any] = [answers[position] for position in sorted(answers)]
        if final is not None:
            ctx.state.message_history.append(ModelRequest(parts=parts))
            self._result = End(final)
        else:
            self._result = ModelRequestNode(ModelRequest(parts=parts))


AgentNode: TypeAlias = ModelRequestNode | CallToolsNode | End[Any]


def _count_result_retry(ctx: GraphRunContext, prompt: RetryPromptPart, *, tool_name: str | None = None) -> None:
    ctx.state.retries += 1
    limit = ctx.deps.max_result_retries
    if ctx.state.retries > limit:
        what = f"for unknown tool {tool_name!r}" if tool_name else "for the result"
        raise UnexpectedModelBehavior(f"Exceeded maximum retries ({limit}) {what}; last problem: {_describe(prompt)}")


def _describe(prompt: RetryPromptPart) -> str:
    if isinstance(prompt.content, str):
        return prompt.content
    return "; ".join(
        f"{'.'.join(str(loc) for loc in error.get('loc', ())) or 'arguments'}: {error.get('msg')}"
        for error in prompt.content
    )


async def _validate_result(ctx: GraphRunContext, data: Any, call: ToolCallPart | None) -> Any:
    validators = ctx.deps.result_validators
    if not validators:
        return data
    run_context = ctx.run_context(retry=ctx.state.retries, tool_name=call.tool_name if call else None)
    for validator in validators:
        data = await validator.validate(data, run_context, call)
    return data


async def _run_tools(ctx: GraphRunContext, calls: list[ToolCallPart]) -> list[ToolReturnPart | RetryPromptPart]:
    """Run the calls concurrently; the returns keep call order."""
    if len(calls) == 1:
        return [await _run_one_tool(ctx, calls[0])]
    results: list[ToolReturnPart | RetryPromptPart | None] = [None] * len(calls)
    errors: list[Exception | None] = [None] * len(calls)

    async def run_at(index: int, call: ToolCallPart) -> None:
        try:
            results[index] = await _run_one_tool(ctx, call)
        except Exception as error:  # raised below, once every call has finished
            errors[index] = error

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(run_at, index, call)
    failures = [error for error in errors if error is not None]
    if failures:
        # A tool's own exception escapes as it is, as with a single call (not in an ExceptionGroup);
        # with several, the first in call order, naming the others.
        first, *others = failures
        if others:
            first.add_note(f"{len(others)} other tool call(s) in this response also raised: {others!r}")
        raise first
    return [result for result in results if result is not None]


async def _run_one_tool(ctx: GraphRunContext, call: ToolCallPart) -> ToolReturnPart | RetryPromptPart:
    execute: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]] = lambda: _execute_tool(ctx, call)  # noqa: E731
    for observer in reversed(ctx.deps.observers):
        execute = _wrap_execute(observer, call, execute)
    return await execute()


def _count_tool_retries(
    ctx: GraphRunContext, calls: list[ToolCallPart], results: list[ToolReturnPart | RetryPromptPart]
) -> None:
    """Count retries in a row per tool, in call order once all calls have finished.

    Counting as each concurrent call finished made the count depend on which call finished
    first, and raising inside the task group wrapped the error in an ExceptionGroup.
    """
    retries = ctx.state.tool_retries
    for call, result in zip(calls, results, strict=True):
        if not isinstance(result, RetryPromptPart):
            retries[call.tool_name] = 0
            continue
        retries[call.tool_name] = retries.get(call.tool_name, 0) + 1
        tool = ctx.deps.function_tools[call.tool_name]
        limit = tool.max_retries if tool.max_retries is not None else ctx.deps.default_tool_retries
        if retries[call.tool_name] > limit:
            raise UnexpectedModelBehavior(
                f"Tool {call.tool_name!r} exceeded max retries count of {limit}; last problem: {_describe(result)}"
            )


def _wrap_execute(
    observer: RunObserver,
    call: ToolCallPart,
    inner: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]],
) -> Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]]:
    return lambda: observer.call_tool(call, inner)


async def _execute_tool(ctx: GraphRunContext, call: ToolCallPart) -> ToolReturnPart | RetryPromptPart:
    tool = ctx.deps.function_tools[call.tool_name]
    schema = tool.schema
    try:
        kwargs = schema.validate(call.args)
    except pydantic.ValidationError as error:
        return RetryPromptPart(
            content=error.errors(include_url=False, include_context=False),
            tool_name=call.tool_name,
            tool_call_id=call.tool_call_id,
        )
    args: tuple[Any, ...] = ()
    if schema.takes_ctx:
        args = (
            ctx.run_context(
                tool_name=call.tool_name,
                tool_call_id=call.tool_call_id,
                retry=ctx.state.tool_retries.get(call.tool_name, 0),
            ),
        )
    try:
        if schema.is_async:
            value = await tool.function(*args, **kwargs)
        else:
            value = await anyio.to_thread.run_sync(lambda: tool.function(*args, **kwargs))
    except ModelRetry as retry:
        return RetryPromptPart(retry.message, tool_name=call.tool_name, tool_call_id=call.tool_call_id)
    except Exception as error:
        error.add_note(
            f"raised by tool {call.tool_name!r} (tool_call_id={call.tool_call_id!r}, run step {ctx.state.run_step})"
        )
        raise
    return ToolReturnPart(call.tool_name, value, call.tool_call_id)
