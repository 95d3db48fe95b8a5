"""The nodes of a run: `ModelRequestNode` -> `CallToolsNode` -> ... -> `End`.

Each node's `run(ctx)` does one step and returns the next node. Nodes are plain dataclasses
whose repr shows only what the step is about (the request, the response, the result).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias

from agentkit._context import RunContext
from agentkit._graph._graph_context import EndStrategy, GraphAgentDeps, GraphAgentState, GraphRunContext
from agentkit._graph._tool_calls import answer_tool_calls, process_tool_calls
from agentkit._streaming._agent_stream import AgentStream
from agentkit.exceptions import AgentRunError, UnexpectedModelBehavior
from agentkit.messages import (
    FinalResultEvent,
    HandleResponseEvent,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    UserContent,
)
from agentkit.models._base import ModelRequestParameters, StreamedResponse
from agentkit.models._guard import check_model_request_allowed, model_requests_allowed
from agentkit.result import FinalResult, ResultDataT, ToolRetry
from agentkit.tools import Tool
from agentkit.usage import Usage

__all__ = (
    "AgentNode",
    "CallToolsNode",
    "End",
    "EndStrategy",
    "GraphAgentDeps",
    "GraphAgentState",
    "GraphRunContext",
    "ModelRequestNode",
    "UserPromptNode",
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
            raise AgentRunError("You must finish streaming before calling run()")
        parameters = await self._prepare(ctx)
        response, usage = await ctx.deps.model.request(ctx.state.message_history, ctx.deps.model_settings, parameters)
        ctx.state.usage.requests += 1
        return self._finish(ctx, response, usage)

    @asynccontextmanager
    async def stream(self, ctx: GraphRunContext) -> AsyncIterator[AgentStream]:
        """Send the request streamed; yields an `AgentStream` of part start / part delta events.

        A `FinalResultEvent` follows the event that starts the part carrying the final result.
        Leaving the block normally finishes the node (unread events are read first), so the
        run goes on exactly as if the node had not been streamed.
        """
        async with self._stream(ctx, complete_on_exit=True) as agent_stream:
            yield agent_stream

    @asynccontextmanager
    async def _stream(self, ctx: GraphRunContext, *, complete_on_exit: bool) -> AsyncIterator[AgentStream]:
        if self._did_stream or self._result is not None:
            raise AgentRunError("A ModelRequestNode can only be streamed once, before it is run")
        self._did_stream = True
        parameters = await self._prepare(ctx)
        async with ctx.deps.model.request_stream(
            ctx.state.message_history, ctx.deps.model_settings, parameters
        ) as streamed:
            ctx.state.usage.requests += 1  # the request in progress counts from the moment it is sent
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
            agent_stream.raise_deferred()
            if not agent_stream.is_complete:
                if complete_on_exit:
                    async for _ in agent_stream:
                        pass  # the consumer may stop reading early; the response is still needed whole
                else:
                    self._abandon(ctx, streamed)
                    await streamed.aclose()

    def _abandon(self, ctx: GraphRunContext, streamed: StreamedResponse) -> None:
        """The consumer left early: count what was received and keep the partial response."""
        ctx.state.usage.incr(streamed.usage())
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
        run_context: RunContext[Any] | None = None
        function_tools = []
        for tool in deps.function_tools.values():
            if tool.prepare is None and _prepares_as_declared(type(tool)):
                function_tools.append(tool.definition)  # what the hooks would give, without awaiting them
                continue
            if run_context is None:
                run_context = ctx.run_context()
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
        """Keep the response and its usage (the request itself was counted when it was sent)."""
        state = ctx.state
        state.usage.incr(usage)
        state.message_history.append(response)
        self._result = CallToolsNode(response)
        ctx.deps.usage_limits.check_tokens(state.usage)  # after the response is kept: a breach loses nothing
        return self._result


@dataclass
class CallToolsNode:
    """Handle `model_response`: run the tools it calls, or validate the result it gives."""

    model_response: ModelResponse
    _result: ModelRequestNode | End[Any] | None = field(default=None, init=False, repr=False, compare=False)
    _streamed_final: FinalResultEvent | None = field(default=None, init=False, repr=False, compare=False)
    """Set by `run_stream`: where the streamed result came from. Text that came first is the result
    (the tools after it still run); a result-tool call that does not validate raises pydantic's
    `ValidationError`, as in the reference release, rather than going back to the model."""

    async def run(self, ctx: GraphRunContext) -> ModelRequestNode | End[Any]:
        """Handle the response as `stream` does, without making the events nobody reads."""
        if self._result is None:
            texts, calls = self._texts_and_calls()
            if self._text_came_first(texts):
                async for _ in self._finish_with_text(ctx, "\n\n".join(texts), calls):
                    pass
            elif calls:
                final, retry_parts = await self._find_final_result(ctx, calls)
                answers: list[ModelRequestPart] = []
                await answer_tool_calls(ctx, calls, final, answers)
                self._settle_tool_calls(ctx, final, retry_parts, answers)
            elif texts:
                await self._handle_text(ctx, "\n\n".join(texts))
            else:
                raise UnexpectedModelBehavior("Received empty model response")
        assert self._result is not None
        return self._result

    @asynccontextmanager
    async def stream(self, ctx: GraphRunContext) -> AsyncIterator[AsyncGenerator[HandleResponseEvent, None]]:
        """Handle the response, yielding tool-call and tool-result events as they happen."""
        if self._result is not None:
            raise AgentRunError("This CallToolsNode has already been run")
        events = self._handle(ctx)
        try:
            yield events
        except BaseException:
            await events.aclose()
            raise
        async for _ in events:
            pass  # events left unread: the response must still be handled whole, and only once

    def _texts_and_calls(self) -> tuple[list[str], list[ToolCallPart]]:
        texts: list[str] = []
        calls: list[ToolCallPart] = []
        for part in self.model_response.parts:
            if isinstance(part, ToolCallPart):
                calls.append(part)
            elif isinstance(part, TextPart) and part.content:  # empty text parts are ignored
                texts.append(part.content)
        return texts, calls

    def _text_came_first(self, texts: list[str]) -> bool:
        """Whether `run_stream` took the text as the result (it streamed before any result-tool call)."""
        return self._streamed_final is not None and self._streamed_final.tool_name is None and bool(texts)

    async def _handle(self, ctx: GraphRunContext) -> AsyncGenerator[HandleResponseEvent, None]:
        texts, calls = self._texts_and_calls()
        if self._text_came_first(texts):
            async for event in self._finish_with_text(ctx, "\n\n".join(texts), calls):
                yield event
            return
        # Tool calls win over text: a text beside them usually only announces the calls.
        if calls:
            final, retry_parts = await self._find_final_result(ctx, calls)
            answers: list[ModelRequestPart] = []
            async for event in process_tool_calls(ctx, calls, final, answers):
                yield event
            self._settle_tool_calls(ctx, final, retry_parts, answers)
        elif texts:
            await self._handle_text(ctx, "\n\n".join(texts))
        else:
            raise UnexpectedModelBehavior("Received empty model response")

    async def _finish_with_text(
        self, ctx: GraphRunContext, text: str, calls: list[ToolCallPart]
    ) -> AsyncIterator[HandleResponseEvent]:
        """End with `text` as the result, as streamed; the tool calls after it are answered, and not followed."""
        await self._handle_text(ctx, text)
        if not isinstance(self._result, End):
            return  # a validator asked for a retry: the run goes on as for any text
        answers: list[ModelRequestPart] = []
        async for event in process_tool_calls(ctx, calls, self._result.data, answers):
            yield event
        if answers:
            ctx.state.message_history.append(ModelRequest(parts=answers))

    async def _handle_text(self, ctx: GraphRunContext, text: str) -> None:
        state, deps = ctx.state, ctx.deps
        if not deps.result_schema.allow_text_result:
            state.increment_retries(deps.max_result_retries)
            prompt = RetryPromptPart(
                "Plain text responses are not permitted, please call one of the functions instead."
            )
            self._result = ModelRequestNode(ModelRequest(parts=[prompt]))
            return
        try:
            data = await _validate_result(ctx, text, None)
        except ToolRetry as retry:
            state.increment_retries(deps.max_result_retries, retry.__cause__)
            self._result = ModelRequestNode(ModelRequest(parts=[retry.retry_prompt]))
        else:
            self._result = End(FinalResult(data, None, None))

    async def _find_final_result(
        self, ctx: GraphRunContext, calls: list[ToolCallPart]
    ) -> tuple[FinalResult[Any] | None, list[ModelRequestPart]]:
        """Try the result-tool calls in order: the first that validates is the final result; the retry
        prompts of the ones before it."""
        state, deps = ctx.state, ctx.deps
        retry_parts: list[ModelRequestPart] = []
        streamed_name = self._streamed_final.tool_name if self._streamed_final is not None else None
        for call, result_tool in deps.result_schema.find_calls(calls):
            try:
                data = result_tool.validate(call, wrap_errors=call.tool_name != streamed_name)
                data = await _validate_result(ctx, data, call)
            except ToolRetry as retry:
                state.increment_retries(deps.max_result_retries, retry.__cause__)
                retry_parts.append(retry.retry_prompt)
            else:
                return FinalResult(data, call.tool_name, call.tool_call_id), retry_parts
        return None, retry_parts

    def _settle_tool_calls(
        self,
        ctx: GraphRunContext,
        final: FinalResult[Any] | None,
        retry_parts: list[ModelRequestPart],
        answers: list[ModelRequestPart],
    ) -> None:
        """The next node once the calls are answered: `End`, or a request with the retries and answers."""
        if final is not None:
            if answers:
                ctx.state.message_history.append(ModelRequest(parts=answers))
            self._result = End(final)
        else:
            self._result = ModelRequestNode(ModelRequest(parts=[*retry_parts, *answers]))


@dataclass
class UserPromptNode:
    """Where a run starts: the user prompt, before the first request.

    Iterating a run never yields it: the first node seen is the `ModelRequestNode` carrying the
    prompt, as the seed shows. It is `AgentRun.next_node` before a run driven by hand with
    `next(node)` starts, and running it gives that first `ModelRequestNode`.
    """

    user_prompt: str | Sequence[UserContent]
    first_request: ModelRequestNode = field(repr=False)

    async def run(self, ctx: GraphRunContext) -> ModelRequestNode:
        return self.first_request


AgentNode: TypeAlias = ModelRequestNode | CallToolsNode | End[Any]


def _prepares_as_declared(tool_class: type[Tool[Any]]) -> bool:
    """Whether `tool_class` keeps `Tool`'s own preparation (a subclass may override it per step)."""
    return (
        tool_class.prepare_tool_def is Tool.prepare_tool_def
        and tool_class.prepared_definition is Tool.prepared_definition
    )


async def _validate_result(ctx: GraphRunContext, data: Any, call: ToolCallPart | None) -> Any:
    validators = ctx.deps.result_validators
    if not validators:
        return data
    run_context = ctx.run_context(retry=ctx.state.retries, tool_name=call.tool_name if call else None)
    for validator in validators:
        data = await validator.validate(data, run_context, call)
    return data
