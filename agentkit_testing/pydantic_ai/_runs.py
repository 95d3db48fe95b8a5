"""One live pydantic-ai run under a cassette: `RunRecording` records it, `RunReplay` serves it from a recorded run."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse, ModelResponseStreamEvent
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.settings import ModelSettings

from agentkit_testing._cassette._records import RecordedRun, RuntimeRequest, RuntimeToolCall
from agentkit_testing._divergence import UNKNOWN_CONTEXT, RecordAdvice, divergence, unrecorded
from agentkit_testing._matching import Comparator, Mismatch
from agentkit_testing.pydantic_ai._messages import dump_events, dump_messages, load_events, load_response, to_json_data

__all__ = ("LiveRun", "RunRecording", "RunReplay", "new_messages", "request_parameters")


def new_messages(messages: Sequence[ModelMessage], run_id: str | None, first: bool) -> tuple[int, int]:
    """Where a request's own messages start in `messages`, and where the run's (its history ends) starts.

    The first request of a run carries its history (messages of other runs) and the run's opening
    request; a later one, the run so far and what came after its last response (tool returns, retries).
    """
    start = next((index for index, message in enumerate(messages) if message.run_id == run_id), len(messages))
    if first:
        return start, start
    last_response = max((index for index, message in enumerate(messages) if message.kind == "response"), default=-1)
    return max(last_response + 1, start), start


def request_parameters(parameters: ModelRequestParameters) -> dict[str, Any]:
    """What pydantic-ai sends beside the messages (tools, output mode...) as JSON data, empty fields left out."""
    plain: dict[str, Any] = to_json_data(parameters)
    for key in ("function_tools", "output_tools"):
        if isinstance(plain.get(key), list):
            plain[key] = [_without_empty(tool) for tool in plain[key]]
    return {key: value for key, value in plain.items() if value not in (None, [], {}, False)}


def _without_empty(mapping: Any) -> Any:
    if not isinstance(mapping, dict):
        return mapping
    return {key: value for key, value in mapping.items() if value not in (None, [], {}, False)}


class LiveRun:
    """A pydantic-ai run (by its `run_id`) of one agent in a cassette block."""

    def __init__(self, run_id: str | None, *, agent: str | None, model: str, path: Path | None) -> None:
        self.run_id = run_id
        self.agent = agent
        self.model = model
        self.path = path
        self.requests = 0
        self.lock = threading.Lock()

    async def call_tool(
        self, name: str, call_id: str | None, args: dict[str, Any], call: Callable[[], Awaitable[Any]]
    ) -> Any:
        raise NotImplementedError


class RunRecording(LiveRun):
    """Records a live run as it goes: each request, its response, and each tool call. A `PendingRun` of the cassette."""

    def __init__(
        self,
        run_id: str | None,
        *,
        identity: str,
        agent: str | None,
        model: str,
        runtime: str,
        user_prompt: str,
        history: tuple[dict[str, Any], ...] | None,
        streamed: bool,
        label: str | None,
        external_tools: frozenset[str],
        path: Path | None,
    ) -> None:
        super().__init__(run_id, agent=agent, model=model, path=path)
        self.identity = identity
        self.runtime = runtime
        self.user_prompt = user_prompt
        self.history = history
        self.streamed = streamed
        self.label = label
        self.external_tools = external_tools
        self.recorded_requests: list[RuntimeRequest] = []
        self.tool_calls: list[RuntimeToolCall] = []
        self.running = True
        self.concurrent = False
        """Recorded while another run with its identity was running (see `RecordedRun.concurrent`)."""

    def begin(self, messages: Sequence[ModelMessage]) -> tuple[int, tuple[dict[str, Any], ...]]:
        """Number a request of the run and take its own messages, before the model answers it."""
        with self.lock:
            index = self.requests
            self.requests += 1
        own, _ = new_messages(messages, self.run_id, index == 0)
        where = f"run {self.identity!r} of agent {self.agent!r}, request {index}"
        return index, tuple(dump_messages(messages[own:], where=where))

    def finish(
        self,
        index: int,
        sent: tuple[dict[str, Any], ...],
        response: ModelResponse,
        settings: ModelSettings | None,
        parameters: ModelRequestParameters,
        *,
        streamed: bool,
        events: Sequence[ModelResponseStreamEvent] | None = None,
    ) -> None:
        """Record request `index` with the response the model gave (and the events it streamed, if any)."""
        where = f"run {self.identity!r} of agent {self.agent!r}, request {index} (response)"
        (answer,) = dump_messages([response], where=where)
        del answer["kind"]
        stream = tuple(dump_events(events, where=where)) if events is not None else None
        self.record(
            RuntimeRequest(
                node=index,
                messages=sent,
                response=answer,
                parameters=request_parameters(parameters) or None,
                settings=to_json_data(settings) if settings else None,
                streamed=streamed,
                stream=stream,
            )
        )

    def record(self, request: RuntimeRequest) -> None:
        with self.lock:
            self.recorded_requests.append(request)
            self.recorded_requests.sort(key=lambda known: known.node)

    async def call_tool(
        self, name: str, call_id: str | None, args: dict[str, Any], call: Callable[[], Awaitable[Any]]
    ) -> Any:
        result = await call()
        with self.lock:
            node = max(self.requests - 1, 0)
            self.tool_calls.append(
                RuntimeToolCall(
                    node, name, call_id, to_json_data(args), to_json_data(result), name in self.external_tools
                )
            )
        return result

    def snapshot(self) -> RecordedRun | None:
        """The run as recorded so far; `None` while no model has answered it (nothing to replay)."""
        with self.lock:
            if not self.recorded_requests:
                return None
            return RecordedRun(
                id=self.identity,
                agent=self.agent,
                model=self.model,
                user_prompt=self.user_prompt,
                label=self.label,
                streamed=self.streamed,
                runtime=self.runtime,
                runtime_history=self.history,
                runtime_requests=tuple(self.recorded_requests),
                runtime_tool_calls=tuple(self.tool_calls),
                concurrent=self.concurrent,
            )


class RunReplay(LiveRun):
    """Serves a live run from a recorded one: compares each request, answers with the recorded response."""

    def __init__(
        self,
        run_id: str | None,
        recorded: RecordedRun,
        *,
        comparator: Comparator,
        external_tools: frozenset[str],
        path: Path | None,
        advice: RecordAdvice = UNKNOWN_CONTEXT,
    ) -> None:
        super().__init__(run_id, agent=recorded.agent, model=recorded.model, path=path)
        self.recorded = recorded
        self.advice = advice
        self.comparator = comparator
        self.external_tools = external_tools
        self._unused_calls = list(recorded.runtime_tool_calls)

    def answer(
        self, messages: Sequence[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> ModelResponse:
        """The recorded response to this request; `CassetteDivergence` if the request differs from the recording."""
        return load_response(self._match(messages, settings, parameters).response)

    def answer_stream(
        self, messages: Sequence[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> tuple[ModelResponse, list[ModelResponseStreamEvent] | None]:
        """The recorded response and its stream events (None if they were not recorded), as `answer` matches."""
        recorded = self._match(messages, settings, parameters)
        events = load_events(recorded.stream) if recorded.stream is not None else None
        return load_response(recorded.response), events

    def _match(
        self, messages: Sequence[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> RuntimeRequest:
        with self.lock:
            index = self.requests
            self.requests += 1
        where = f"recorded run {self.recorded.id!r}, request {index}"
        requests = self.recorded.runtime_requests
        if index >= len(requests):
            raise unrecorded(
                f"{self.path}: the live run asked the model a request {index}, but {where.split(',')[0]} made only "
                f"{len(requests)} request(s). Record it again: {self.advice.record_again('rewrite')}.",
                path=self.path,
                scrubber=self.comparator.scrubber,
            )
        recorded = requests[index]
        own, _ = new_messages(messages, self.run_id, index == 0)
        live_messages = dump_messages(messages[own:], where=where, check=False)  # compared, not stored
        mismatch = self._compare(recorded, live_messages, settings, parameters)
        if mismatch is not None:
            raise divergence(
                path=self.path,
                run=self.recorded,
                node_index=index,
                where=f"model request {index}",
                mismatch=mismatch,
                scrubber=self.comparator.scrubber,
                advice=self.advice,
            )
        return recorded

    def _compare(
        self,
        recorded: RuntimeRequest,
        live_messages: list[dict[str, Any]],
        settings: ModelSettings | None,
        parameters: ModelRequestParameters,
    ) -> Mismatch | None:
        comparator = self.comparator
        if not comparator.ignores("messages") and not comparator.equal(live_messages, list(recorded.messages)):
            return Mismatch("messages", _readable(comparator, recorded.messages), _readable(comparator, live_messages))
        live_parameters = request_parameters(parameters)
        recorded_parameters = recorded.parameters or {}
        for key in sorted(set(live_parameters) | set(recorded_parameters)):
            if comparator.ignores(key):
                continue
            if not comparator.equal(live_parameters.get(key), recorded_parameters.get(key)):
                return Mismatch(key, recorded_parameters.get(key), live_parameters.get(key))
        live_settings = to_json_data(settings) if settings else None
        if not comparator.ignores("settings") and not comparator.equal(live_settings, recorded.settings):
            return Mismatch("settings", recorded.settings, live_settings)
        return None

    async def call_tool(
        self, name: str, call_id: str | None, args: dict[str, Any], call: Callable[[], Awaitable[Any]]
    ) -> Any:
        with self.lock:
            position = next(
                (
                    index
                    for index, known in enumerate(self._unused_calls)
                    if known.tool_name == name and (known.tool_call_id == call_id or call_id is None)
                ),
                None,
            )
            recorded = self._unused_calls.pop(position) if position is not None else None
        if name in self.external_tools:
            if recorded is None:
                raise unrecorded(
                    f"{self.path}: external tool {name!r} (call id {call_id!r}) of {describe(self.recorded)} has no "
                    f"recorded return to serve. Record the cassette again: {self.advice.record_again('rewrite')}.",
                    path=self.path,
                    scrubber=self.comparator.scrubber,
                )
            return recorded.result
        result = await call()
        if recorded is not None and not self.comparator.ignores("tool_return"):
            live = to_json_data(result)
            if not self.comparator.equal(live, recorded.result):
                raise divergence(
                    path=self.path,
                    run=self.recorded,
                    node_index=recorded.node,
                    where=f"tool call {name!r}",
                    mismatch=Mismatch("tool_return", recorded.result, live, subject=name),
                    scrubber=self.comparator.scrubber,
                    advice=self.advice,
                )
        return result


def describe(run: RecordedRun) -> str:
    return f"recorded run {run.id!r} (agent {run.agent!r})"


def _readable(comparator: Comparator, messages: Sequence[dict[str, Any]]) -> Any:
    """Messages as compared (normalized, without timestamps), for the divergence's diff."""
    return comparator.normalize(list(messages))
