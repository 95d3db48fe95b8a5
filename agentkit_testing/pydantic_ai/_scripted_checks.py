"""The invariants of a pydantic-ai run, checked on its messages: how it ends, answered calls, counts, retries.

`ScriptedRun.check()` runs them all, each a plain function of the run's parts. They hold for every
run of the current pydantic-ai whatever the model sends, so a failure means something in the run
broke them (a hook or capability that rewrites messages or usage, or pydantic-ai itself); a tool
that raises anything but `ModelRetry` never gets this far, its exception escapes the run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.run import AgentRunResult

__all__ = ("check_ending", "check_requests_counted", "check_retries", "check_tool_calls_answered")


def check_ending(
    nodes: Sequence[Any], result: AgentRunResult[Any] | None, error: UnexpectedModelBehavior | UsageLimitExceeded | None
) -> None:
    """A run ends in `End` with its result, or with one of the documented errors, never both or neither."""
    last = nodes[-1] if nodes else None
    if error is None:
        assert last is not None, "the run raised nothing but yielded no node"
        assert Agent.is_end_node(last), f"the run raised nothing but its last node is {last!r}"
        assert result is not None, "the run reached End but has no result"
        assert result.output == last.data.output, f"result {result.output!r} != End output {last.data.output!r}"
    else:
        assert result is None, f"the run raised {error!r} yet has a result {result!r}"
        assert last is None or not Agent.is_end_node(last), f"the run raised {error!r} after reaching {last!r}"


def check_tool_calls_answered(
    messages: Sequence[ModelMessage], error: BaseException | None, output_tools: Collection[str] = ()
) -> None:
    """Every tool call gets one answer with its id in the next request (a return or a retry), in call order.

    Calls of the `output_tools` may be answered first (pydantic-ai's `end_strategy='early'` handles
    the output before the function tools it then skips); the others keep their call order. Only a
    run that raised may end short: its last response unanswered, or answered in part by a last
    request pydantic-ai marks `state='interrupted'` (the returns of the tools that finished).
    """
    for index, message in enumerate(messages):
        if not isinstance(message, ModelResponse):
            continue
        calls = [part for part in message.parts if isinstance(part, ToolCallPart)]
        answer = messages[index + 1] if index + 1 < len(messages) else None
        if answer is None:
            assert not calls or error is not None, f"tool calls {calls!r} of the last response got no answer"
            continue
        assert isinstance(answer, ModelRequest), f"message {index + 1} follows a response but is {answer!r}"
        answers = [part for part in answer.parts if isinstance(part, ToolReturnPart | RetryPromptPart)]
        call_ids = [call.tool_call_id for call in calls]
        answered = [part.tool_call_id for part in answers]
        in_order = [part.tool_call_id for part in answers if part.tool_name not in output_tools]
        expected_order = [call.tool_call_id for call in calls if call.tool_name not in output_tools]
        if answer.state == "interrupted":  # the partial returns pydantic-ai keeps when a tool step raised
            assert error is not None, f"request {index + 1} is marked interrupted, but the run ended well"
            assert index + 2 == len(messages), f"request {index + 1} is marked interrupted, but the run went on"
            remaining = iter(call_ids)
            assert all(answer_id in remaining for answer_id in in_order), (
                f"response {index}: the interrupted request {index + 1} answers {answered}, not calls of {call_ids} "
                "in call order"
            )
            continue
        assert sorted(answered) == sorted(call_ids), (
            f"response {index}: tool calls {call_ids} were answered with ids {answered} in request {index + 1}"
        )
        assert in_order == expected_order, (
            f"response {index}: tool calls {expected_order} were answered in the order {in_order} "
            f"in request {index + 1}"
        )


def check_requests_counted(messages: Sequence[ModelMessage], requests: int) -> None:
    """`usage.requests` equals the responses in the run's messages, even when an error or a limit stopped it."""
    responses = sum(isinstance(message, ModelResponse) for message in messages)
    assert requests == responses, f"usage.requests={requests} but the run has {responses} responses"


def check_retries(messages: Sequence[ModelMessage], budgets: Mapping[str, int]) -> None:
    """No tool is retried in more requests in a row than its budget, and no retry is past its declared limit.

    A tool's count grows by one for each request that retries it (two failed calls in one step
    cost one attempt, as pydantic-ai documents) and starts again when a call of it succeeds; it is
    held to `budgets[name]`, or else to the `max_retries` pydantic-ai declares on the retried part.
    """
    in_a_row: dict[str, int] = {}
    for index, message in enumerate(messages):
        if not isinstance(message, ModelRequest):
            continue
        retried: dict[str, int | None] = {}
        succeeded: set[str] = set()
        for part in message.parts:
            info = getattr(part, "retry", None)
            if info is not None and info.attempt is not None and info.max_retries is not None:
                assert info.attempt <= info.max_retries, (
                    f"message {index}: {type(part).__name__} is retry attempt {info.attempt} of "
                    f"{info.max_retries}: {part!r}"
                )
            if isinstance(part, ToolReturnPart) and part.outcome == "retried":
                declared = info.max_retries if info is not None else None
                retried[part.tool_name] = declared if declared is not None else retried.get(part.tool_name)
            elif isinstance(part, RetryPromptPart) and part.tool_name is not None:
                retried.setdefault(part.tool_name, None)
            elif isinstance(part, ToolReturnPart) and part.outcome == "success":
                succeeded.add(part.tool_name)
        for name in succeeded - set(retried):
            in_a_row[name] = 0
        for name, declared in retried.items():
            in_a_row[name] = in_a_row.get(name, 0) + 1
            budget = budgets.get(name, declared)
            assert budget is None or in_a_row[name] <= budget, (
                f"tool {name!r} was retried in {in_a_row[name]} requests in a row by message {index}, "
                f"over its budget of {budget}"
            )
