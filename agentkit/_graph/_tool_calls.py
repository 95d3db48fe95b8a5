"""Handling the tool calls of one model response: result tools, function tools, unknown tools.

The answers follow the reference release: calls answered without running anything (the final
result, tools skipped by the `'early'` end strategy, spare result-tool calls, unknown tools) come
first, in call order; then the returns of the function tools that ran, in call order.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from agentkit._graph._graph_context import GraphRunContext
from agentkit._graph._hooks import RunObserver
from agentkit._graph._threads import gather_in_order, run_each_in_worker_thread, run_in_worker_thread
from agentkit.exceptions import ModelRetry, UnexpectedModelBehavior
from agentkit.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    HandleResponseEvent,
    ModelRequestPart,
    RetryPromptPart,
    ToolCallPart,
    ToolReturnPart,
)
from agentkit.result import FinalResult

__all__ = ("FINAL_RESULT_PROCESSED", "answer_tool_calls", "process_tool_calls")

FINAL_RESULT_PROCESSED = "Final result processed."
TOOL_NOT_EXECUTED = "Tool not executed - a final result was already processed."
RESULT_TOOL_NOT_USED = "Result tool not used - a final result was already processed."
RESULT_TOOL_FAILED = "Result tool not used - result failed validation."

ToolAnswer = ToolReturnPart | RetryPromptPart
_EVENT_IDS = "6f1c1e0a-8d3b-4a57-9a51-3c0f4f6f2a11"
"""The namespace (a UUID) of the event ids made for calls that have no id."""


async def process_tool_calls(
    ctx: GraphRunContext,
    calls: list[ToolCallPart],
    final: FinalResult[Any] | None,
    output_parts: list[ModelRequestPart],
) -> AsyncIterator[HandleResponseEvent]:
    """Answer every call of a response into `output_parts`, running the function tools that must run.

    `final` is the result already taken from one of the calls, if any; with the `'early'` end
    strategy the function tools are then answered without being run. A final result from text
    (`tool_name` None: a streamed run whose text came first) leaves the function tools to run.
    Yields a call event before the tools run and a result event for each once they all have.
    """
    to_run: list[ToolCallPart] = []
    event_ids: list[str] = []
    for position, call in _answer_without_running(ctx, calls, final, output_parts):
        event = FunctionToolCallEvent(call, call_id=_event_id(ctx, position, call))
        yield event
        event_ids.append(event.call_id)
        to_run.append(call)
    if not to_run:
        return
    results = await _run_and_count(ctx, to_run)
    for event_id, result in zip(event_ids, results, strict=True):
        yield FunctionToolResultEvent(result, tool_call_id=event_id)
    output_parts.extend(results)


async def answer_tool_calls(
    ctx: GraphRunContext,
    calls: list[ToolCallPart],
    final: FinalResult[Any] | None,
    output_parts: list[ModelRequestPart],
) -> None:
    """`process_tool_calls` when nobody reads the events (a node run rather than streamed): no event is made."""
    to_run = [call for _, call in _answer_without_running(ctx, calls, final, output_parts)]
    if to_run:
        output_parts.extend(await _run_and_count(ctx, to_run))


def _answer_without_running(
    ctx: GraphRunContext,
    calls: list[ToolCallPart],
    final: FinalResult[Any] | None,
    output_parts: list[ModelRequestPart],
) -> Iterator[tuple[int, ToolCallPart]]:
    """Answer into `output_parts` the calls that need no tool run; yield (position, call) for the others."""
    deps = ctx.deps
    # A final text (a streamed run's) is no tool call: the function tools beside it still run.
    from_result_tool = final is not None and final.tool_name is not None
    skip_function_tools = from_result_tool and deps.end_strategy == "early"
    found_final_call = False
    for position, call in enumerate(calls):
        if (
            final is not None
            and not found_final_call
            and call.tool_name == final.tool_name
            and call.tool_call_id == final.tool_call_id
        ):
            found_final_call = True
            output_parts.append(ToolReturnPart(call.tool_name, FINAL_RESULT_PROCESSED, call.tool_call_id))
        elif call.tool_name in deps.function_tools:
            if skip_function_tools:
                output_parts.append(ToolReturnPart(call.tool_name, TOOL_NOT_EXECUTED, call.tool_call_id))
            else:
                yield position, call
        elif call.tool_name in deps.result_schema.tools:
            if from_result_tool:  # else a failed validation already sent a retry prompt, or the text won
                content = RESULT_TOOL_NOT_USED if found_final_call else RESULT_TOOL_FAILED
                output_parts.append(ToolReturnPart(call.tool_name, content, call.tool_call_id))
        else:
            output_parts.append(_unknown_tool(ctx, call))


async def _run_and_count(ctx: GraphRunContext, calls: list[ToolCallPart]) -> list[ToolAnswer]:
    errors: dict[int, BaseException] = {}  # by id() of the call: what made a tool ask for a retry
    results = await _run_tools(ctx, calls, errors)
    _count_tool_retries(ctx, calls, results, errors)
    return results


def _event_id(ctx: GraphRunContext, position: int, call: ToolCallPart) -> str:
    """The call's own id, or one that stays the same when the run is repeated (replays compare events)."""
    if call.tool_call_id:
        return call.tool_call_id
    import uuid

    return str(uuid.uuid5(uuid.UUID(_EVENT_IDS), f"{ctx.state.run_step}:{position}:{call.tool_name}"))


def _unknown_tool(ctx: GraphRunContext, call: ToolCallPart) -> RetryPromptPart:
    """A retry prompt for a call to a tool the run does not have; it counts as a result retry."""
    ctx.state.increment_retries(ctx.deps.max_result_retries)
    names = [*ctx.deps.function_tools, *ctx.deps.result_schema.tool_names()]
    available = f"Available tools: {', '.join(names)}" if names else "No tools available."
    # As in the reference release, the prompt names the tool in its text only (no tool_name).
    return RetryPromptPart(f"Unknown tool name: {call.tool_name!r}. {available}")


def _count_tool_retries(
    ctx: GraphRunContext, calls: list[ToolCallPart], results: list[ToolAnswer], errors: dict[int, BaseException]
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
            error = UnexpectedModelBehavior(f"Tool exceeded max retries count of {limit}")
            error.add_note(f"tool {call.tool_name!r} (tool_call_id={call.tool_call_id!r}): {_describe(result)}")
            raise error from errors.get(id(call))


def _describe(prompt: RetryPromptPart) -> str:
    if isinstance(prompt.content, str):
        return prompt.content
    return "; ".join(
        f"{'.'.join(str(loc) for loc in error.get('loc', ())) or 'arguments'}: {error.get('msg')}"
        for error in prompt.content
    )


async def _run_tools(
    ctx: GraphRunContext, calls: list[ToolCallPart], errors: dict[int, BaseException]
) -> list[ToolAnswer]:
    """Run the calls concurrently; the returns keep call order."""
    if len(calls) == 1:
        return [await _run_one_tool(ctx, calls[0], errors)]
    tools = ctx.deps.function_tools
    if not ctx.deps.observers and not any(tools[call.tool_name].schema.is_async for call in calls):
        return await _run_sync_tools(ctx, calls, errors)
    failures: list[Exception | None] = [None] * len(calls)
    running = [_run_one_tool_catching(ctx, call, errors, failures, index) for index, call in enumerate(calls)]
    results = await gather_in_order(running)
    _raise_first(failures)
    return [result for result in results if result is not None]


async def _run_one_tool_catching(
    ctx: GraphRunContext,
    call: ToolCallPart,
    errors: dict[int, BaseException],
    failures: list[Exception | None],
    index: int,
) -> ToolAnswer | None:
    try:
        return await _run_one_tool(ctx, call, errors)
    except Exception as error:  # raised by the caller, once every call has finished
        failures[index] = error
        return None


async def _run_sync_tools(
    ctx: GraphRunContext, calls: list[ToolCallPart], errors: dict[int, BaseException]
) -> list[ToolAnswer]:
    """Sync tools only, and no observer to wrap each call: no task per call, a worker thread each.

    The same as running each call as in `_execute_tool`, concurrently: arguments validated first,
    every bound call started in a thread of its own, the answers made in call order once all ended.
    """
    bound = [_bind(ctx, call, errors) for call in calls]
    outcomes = iter(await run_each_in_worker_thread([call for call in bound if not isinstance(call, RetryPromptPart)]))
    results: list[ToolAnswer] = []
    failures: list[Exception | None] = []
    for call, bound_call in zip(calls, bound, strict=True):
        if isinstance(bound_call, RetryPromptPart):
            results.append(bound_call)
            continue
        outcome = next(outcomes)
        try:
            if isinstance(outcome.error, Exception):
                results.append(_answer_error(ctx, call, errors, outcome.error))
            else:
                results.append(_answer_value(call, outcome.unwrap()))  # a BaseException is raised at once
        except Exception as error:  # raised below, as from concurrent tasks
            failures.append(error)
    _raise_first(failures)
    return results


def _raise_first(failures: list[Exception | None]) -> None:
    """A tool's own exception escapes as it is, as with a single call (not in an ExceptionGroup);
    with several, the first in call order, naming the others."""
    raised = [error for error in failures if error is not None]
    if raised:
        first, *others = raised
        if others:
            first.add_note(f"{len(others)} other tool call(s) in this response also raised: {others!r}")
        raise first


async def _run_one_tool(ctx: GraphRunContext, call: ToolCallPart, errors: dict[int, BaseException]) -> ToolAnswer:
    if not ctx.deps.observers:
        return await _execute_tool(ctx, call, errors)
    execute: Callable[[], Awaitable[ToolAnswer]] = lambda: _execute_tool(ctx, call, errors)  # noqa: E731
    for observer in reversed(ctx.deps.observers):
        execute = _wrap_execute(observer, call, execute)
    return await execute()


def _wrap_execute(
    observer: RunObserver, call: ToolCallPart, inner: Callable[[], Awaitable[ToolAnswer]]
) -> Callable[[], Awaitable[ToolAnswer]]:
    return lambda: observer.call_tool(call, inner)


async def _execute_tool(ctx: GraphRunContext, call: ToolCallPart, errors: dict[int, BaseException]) -> ToolAnswer:
    bound = _bind(ctx, call, errors)
    if isinstance(bound, RetryPromptPart):
        return bound
    try:
        if ctx.deps.function_tools[call.tool_name].schema.is_async:
            value = await bound()
        else:
            value = await run_in_worker_thread(bound)
    except Exception as error:
        return _answer_error(ctx, call, errors, error)
    return _answer_value(call, value)


def _bind(
    ctx: GraphRunContext, call: ToolCallPart, errors: dict[int, BaseException]
) -> RetryPromptPart | Callable[[], Any]:
    """The tool's function bound to the call's validated arguments, or the retry prompt they earn."""
    import pydantic  # loaded already: building the tool's schema imported it

    tool = ctx.deps.function_tools[call.tool_name]
    schema = tool.schema
    try:
        positional, kwargs = schema.call_arguments(schema.validate(call.args))
    except pydantic.ValidationError as error:
        errors[id(call)] = error
        return RetryPromptPart(
            content=error.errors(include_url=False),
            tool_name=call.tool_name,
            tool_call_id=call.tool_call_id,
        )
    args: tuple[Any, ...] = tuple(positional)
    if schema.takes_ctx:
        args = (
            ctx.run_context(
                tool_name=call.tool_name,
                tool_call_id=call.tool_call_id,
                retry=ctx.state.tool_retries.get(call.tool_name, 0),
            ),
            *args,
        )
    return functools.partial(tool.function, *args, **kwargs)


def _answer_error(
    ctx: GraphRunContext, call: ToolCallPart, errors: dict[int, BaseException], error: Exception
) -> RetryPromptPart:
    """A `ModelRetry` from the tool is a retry prompt; any other exception is raised, with a note naming the tool."""
    if isinstance(error, ModelRetry):
        errors[id(call)] = error
        return RetryPromptPart(error.message, tool_name=call.tool_name, tool_call_id=call.tool_call_id)
    error.add_note(
        f"raised by tool {call.tool_name!r} (tool_call_id={call.tool_call_id!r}, run step {ctx.state.run_step})"
    )
    raise error


def _answer_value(call: ToolCallPart, value: Any) -> ToolReturnPart:
    part = ToolReturnPart(call.tool_name, value, call.tool_call_id)
    if type(value) not in _CHECKED_LATER:
        part.model_response_str()  # a return no model could be sent is a UserError naming the tool, now
    return part


# Plain values and containers are not serialized here, which would cost as much as sending them
# (milliseconds for a large dict): the model's request serializes them and raises the same error.
_CHECKED_LATER = frozenset({str, int, float, bool, type(None), dict, list, tuple})
