"""Recording: `RunRecorder` follows one run through the core's hooks; `RecordingModel` wraps its model.

Under `cassette()`, each recorded run gets a `RunRecorder` (a `RunObserver`) that sees its
nodes, tool calls and end, and wraps the run's model in a `RecordingModel` bound to it. Used on
its own, `RecordingModel(inner, cassette)` records the requests of each conversation it serves
as a run (without nodes or tool calls, which only the hooks can see).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from agentkit import (
    AgentNode,
    CallToolsNode,
    End,
    ModelMessage,
    ModelRequest,
    ModelRequestNode,
    ModelResponse,
    ModelResponseStreamEvent,
    ModelSettings,
    RetryPromptPart,
    RunObserver,
    ToolCallPart,
    ToolReturnPart,
    Usage,
    UserPromptPart,
)
from agentkit.messages import user_prompt_text
from agentkit.models import Model, ModelRequestParameters, StreamedResponse, WrapperModel
from agentkit_testing._cassette._codec import to_plain
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import (
    NodeKind,
    RecordedError,
    RecordedRequest,
    RecordedResult,
    RecordedRun,
    RecordedToolCall,
    model_id,
)

__all__ = ("RecordingModel", "RunRecorder", "prompt_of")


class RunRecorder(RunObserver):
    """Builds the record of one run as it happens, and holds it in its cassette until it is saved.

    Args:
        cassette: where the run goes.
        agent, model, user_prompt, message_history, streamed, deps: the run's identity (`deps`: the
            identity string of its deps, see `_deps_identity`; `None` when unknown).
        label: free text saved with the run (e.g. a test id).
        external_tools: names of tools whose calls are marked external in the recording.
        requires_end: leave the run out of the file until the run has ended.
    """

    def __init__(
        self,
        cassette: Cassette,
        *,
        agent: str | None,
        model: str,
        user_prompt: str,
        message_history: Sequence[ModelMessage] | None,
        streamed: bool = False,
        deps: str | None = None,
        label: str | None = None,
        external_tools: frozenset[str] = frozenset(),
        requires_end: bool = True,
    ) -> None:
        self.cassette = cassette
        self.run_id = cassette.new_run_id()
        self._identity = (agent, model, user_prompt, tuple(message_history) if message_history else None)
        self._streamed = streamed
        self._deps = deps
        self.concurrent = False
        """Set when another run with the same identity was recorded while this one was running."""
        self._label = label
        self._external_tools = external_tools
        self._requires_end = requires_end
        self._requests: list[RecordedRequest] = []
        self._tool_calls: list[tuple[int, int, RecordedToolCall]] = []
        self._nodes: list[NodeKind] = []
        self._result: RecordedResult | None = None
        self._error: RecordedError | None = None
        self._closing: tuple[ModelMessage, ...] = ()
        self._request_node = 0
        self._tools_node = 1
        self._seen: int | None = None
        self._messages: list[ModelMessage] | None = None
        self._call_positions: dict[str | int, int] = {}
        self._ended = False
        cassette.add_pending(self)

    # --- hooks -------------------------------------------------------------------------------

    def wrap_model(self, model: Model) -> Model:
        return RecordingModel(model, self.cassette, recorder=self)

    async def call_tool(
        self,
        call: ToolCallPart,
        execute: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]],
    ) -> ToolReturnPart | RetryPromptPart:
        result = await execute()
        record = RecordedToolCall(
            node=self._tools_node,
            tool_name=call.tool_name,
            tool_call_id=call.tool_call_id,
            args=call.args,
            result=result,
            external=call.tool_name in self._external_tools,
        )
        position = self._call_positions.get(_call_key(call), len(self._call_positions))
        self._tool_calls.append((self._tools_node, position, record))
        return result

    def on_node(self, index: int, node: AgentNode) -> None:
        if isinstance(node, ModelRequestNode):
            self._request_node = index
            self._nodes.append("ModelRequestNode")
        elif isinstance(node, CallToolsNode):
            self._tools_node = index
            self._nodes.append("CallToolsNode")
        elif isinstance(node, End):
            final = node.data
            self._result = RecordedResult(to_plain(final.data), final.tool_name, final.tool_call_id)
            self._nodes.append("End")
            self._take_closing_messages()

    @property
    def running(self) -> bool:
        return not self._ended

    def on_end(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self._error = RecordedError(type(error).__name__, str(error))
        self._ended = True

    # --- requests ----------------------------------------------------------------------------

    def new_messages(self, messages: Sequence[ModelMessage]) -> tuple[ModelMessage, ...]:
        """The messages of this request that the run has not sent before (its history excluded)."""
        start = self._seen if self._seen is not None else max(len(messages) - 1, 0)
        return tuple(messages[start:])

    def add_request(
        self,
        messages: list[ModelMessage],
        sent: int,
        new: tuple[ModelMessage, ...],
        settings: ModelSettings | None,
        parameters: ModelRequestParameters,
        response: ModelResponse,
        usage: Usage,
        stream: tuple[ModelResponseStreamEvent, ...] | None = None,
    ) -> None:
        node = self._request_node if self._nodes else 2 * len(self._requests)
        self._requests.append(
            RecordedRequest(
                node=node,
                messages=new,
                response=response,
                usage=dataclasses.replace(usage),
                settings=dict(settings) if settings else None,
                function_tools=tuple(parameters.function_tools),
                allow_text_result=parameters.allow_text_result,
                result_tools=tuple(parameters.result_tools),
                stream=stream,
            )
        )
        self._seen = sent + 1  # the messages sent, and the response
        self._messages = messages
        calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
        self._call_positions = {_call_key(part): position for position, part in enumerate(calls)}

    def _take_closing_messages(self) -> None:
        # The core hands the model its live history list: what follows the last response in it
        # was added by the run after that response (e.g. the return of the result tool).
        if self._messages is not None and self._seen is not None:
            self._closing = tuple(self._messages[self._seen :])

    def snapshot(self) -> RecordedRun | None:
        if self._requires_end and not self._ended:
            return None
        if not self._requests:
            # No response came back (a missing key, a wrong model name, an error in the model
            # before it answered): nothing of the run could be replayed, so none of it is written.
            return None
        agent, model, user_prompt, history = self._identity
        calls = sorted(self._tool_calls, key=lambda entry: (entry[0], entry[1]))
        return RecordedRun(
            id=self.run_id,
            agent=agent,
            model=model,
            user_prompt=user_prompt,
            nodes=tuple(self._nodes),
            requests=tuple(self._requests),
            tool_calls=tuple(call for _, _, call in calls),
            label=self._label,
            streamed=self._streamed,
            message_history=history,
            closing_messages=self._closing,
            result=self._result,
            error=self._error,
            deps=self._deps,
            concurrent=self.concurrent,
        )


def prompt_of(messages: Sequence[ModelMessage]) -> str:
    """The user prompt of the last request in `messages`, as the core words it for hooks."""
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart):
                    return user_prompt_text(part.content)
            break
    return ""


class RecordingModel(WrapperModel):
    """Wraps `inner` and records every request it serves, with its response, into `cassette`.

    It sends real requests exactly when `inner` does, so the request guard treats it like `inner`.
    Used on its own, each conversation it serves (each run) becomes a run of the cassette; under
    `cassette()` it is bound to the run's `RunRecorder` (`recorder`).
    """

    def __init__(self, inner: Model, cassette: Cassette, *, recorder: RunRecorder | None = None) -> None:
        super().__init__(inner)
        self.cassette = cassette
        self._recorder = recorder
        self._conversations: dict[int, tuple[list[ModelMessage], RunRecorder]] = {}

    @property
    def inner(self) -> Model:
        """The model being recorded (`wrapped`, under the name the constructor gives it)."""
        return self.wrapped

    def _recorder_for(self, messages: list[ModelMessage]) -> RunRecorder:
        if self._recorder is not None:
            return self._recorder
        # Used on its own: the core passes each run's own history list, so the list is the run.
        known = self._conversations.get(id(messages))
        if known is not None and known[0] is messages:
            return known[1]
        recorder = RunRecorder(
            self.cassette,
            agent=None,
            model=model_id(self.wrapped),
            user_prompt=prompt_of(messages),
            message_history=messages[:-1] or None,
            requires_end=False,
        )
        self._conversations[id(messages)] = (messages, recorder)
        return recorder

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        recorder = self._recorder_for(messages)
        sent, new = len(messages), recorder.new_messages(messages)
        response, usage = await self.wrapped.request(messages, model_settings, model_request_parameters)
        recorder.add_request(messages, sent, new, model_settings, model_request_parameters, response, usage)
        return response, usage

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        recorder = self._recorder_for(messages)
        sent, new = len(messages), recorder.new_messages(messages)
        async with self.wrapped.request_stream(messages, model_settings, model_request_parameters) as streamed:
            recording = _RecordingStream(streamed)
            yield recording
        recorder.add_request(
            messages,
            sent,
            new,
            model_settings,
            model_request_parameters,
            recording.get(),
            recording.usage(),
            tuple(recording.events),
        )


class _RecordingStream(StreamedResponse):
    """Passes the events of `inner` through, keeping a copy of each."""

    def __init__(self, inner: StreamedResponse) -> None:
        super().__init__(inner.model_name, inner.timestamp)
        self._inner = inner
        self.events: list[ModelResponseStreamEvent] = []

    async def _events(self) -> AsyncIterator[ModelResponseStreamEvent]:
        async for event in self._inner:
            self.events.append(copy.deepcopy(event))
            yield event

    def get(self) -> ModelResponse:
        return self._inner.get()

    def usage(self) -> Usage:
        return self._inner.usage()

    async def aclose(self) -> None:
        await super().aclose()
        await self._inner.aclose()


def _call_key(call: ToolCallPart) -> str | int:
    """A call's id, or (for models that give none, like TestModel) the identity of its part."""
    return call.tool_call_id if call.tool_call_id is not None else id(call)
