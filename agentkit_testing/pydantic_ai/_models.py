"""The model and toolset wrappers `cassette()` installs on pydantic-ai agents with `Agent.override`.

`CassetteModel` is a `pydantic_ai.models.wrapper.WrapperModel`: each request goes to the block's
session, which records it (asking the wrapped model) or answers it from the cassette (never
asking it). `CassetteToolset` is a `pydantic_ai.toolsets.WrapperToolset`: tool calls are recorded,
compared on replay, and external tools are served from the recording.

Streamed responses: while recording, the live stream is read to its end and its events (as the
run sees them: part starts, deltas, part ends, the final-result event) are recorded, then handed to
the run by pydantic-ai's `CompletedStreamedResponse(replay_events=...)`, the way its durable
execution replays a stream; so the run gets the model's events, chunk boundaries kept, once the
model has finished. Replay hands over the recorded events the same way. Only public API is used:
`WrapperModel`, `WrapperToolset`, `CompletedStreamedResponse`, `Agent.override`, `Agent.toolsets`,
the messages' `run_id`, and `RunContext.run_id` / `tool_call_id` (`_thread_routing`, which hands
these wrappers to runs in other threads, is the adapter's one private hook).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, ModelResponseStreamEvent
from pydantic_ai.models import CompletedStreamedResponse, Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from agentkit.exceptions import ModelRequestsBlocked
from agentkit_testing._divergence import UNKNOWN_CONTEXT, RecordAdvice
from agentkit_testing._exceptions import CassetteError, UnrecordedRequest
from agentkit_testing.pydantic_ai._runs import RunReplay

if TYPE_CHECKING:
    from agentkit_testing.pydantic_ai._session import PydanticAISession

__all__ = ("CassetteModel", "CassetteToolset", "RecordedModel", "wrap_toolsets")


class RecordedModel(Model):
    """Stands in for an agent's model that cannot be built offline (e.g. `'openai:gpt-4o'` without a key).

    Only a replaying cassette uses it: every request is answered from the recording, so asking it
    means the cassette lacks a run.
    """

    def __init__(self, system: str, model_name: str, *, advice: RecordAdvice = UNKNOWN_CONTEXT) -> None:
        super().__init__()
        self._system = system
        self._model_name = model_name
        self._advice = advice

    @property
    def system(self) -> str:
        return self._system

    @property
    def model_name(self) -> str:
        return self._model_name

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        raise UnrecordedRequest(
            f"model {self._system}:{self._model_name} was asked a request while replaying a cassette offline: "
            f"record the run first: {self._advice.record_again('once')}"
        )


class CassetteModel(WrapperModel):
    """Records or replays every request of one agent's runs, through the cassette block's session."""

    def __init__(self, wrapped: Model, session: PydanticAISession, agent_name: str | None) -> None:
        super().__init__(wrapped)
        self.session = session
        self.agent_name = agent_name

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        if self._after_the_block(messages):
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        live = self.session.run_for(self, messages, streamed=False)
        if isinstance(live, RunReplay):
            return live.answer(messages, model_settings, model_request_parameters)
        index, sent = live.begin(messages)
        with self._explain_blocked_requests():
            response = await self.wrapped.request(messages, model_settings, model_request_parameters)
        live.finish(index, sent, response, model_settings, model_request_parameters, streamed=False)
        return response

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        if self._after_the_block(messages):
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as passed_through:
                yield passed_through
            return
        live = self.session.run_for(self, messages, streamed=True)
        if isinstance(live, RunReplay):
            response, events = live.answer_stream(messages, model_settings, model_request_parameters)
            # A recording without events (made before they were kept) streams one event per part.
            replay: bool | list[ModelResponseStreamEvent] = events if events is not None else True
            yield CompletedStreamedResponse(
                response, model_request_parameters=model_request_parameters, replay_events=replay
            )
            return
        index, sent = live.begin(messages)
        with self._explain_blocked_requests():
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream:
                events = [event async for event in stream]
                response = stream.get()
        live.finish(index, sent, response, model_settings, model_request_parameters, streamed=True, events=events)
        yield CompletedStreamedResponse(
            response, model_request_parameters=model_request_parameters, replay_events=events
        )

    @contextmanager
    def _explain_blocked_requests(self) -> Iterator[None]:
        """pydantic-ai's own refusal to send (its `ALLOW_MODEL_REQUESTS` switch) as an error saying how to record.

        Under pytest the plugin sets that switch from its own record mode, so a block that records
        inside a test that replays is refused: pydantic-ai's message named neither the cause nor the fix.
        """
        try:
            yield
        except RuntimeError as error:
            models = sys.modules.get("pydantic_ai.models")
            if (
                models is None
                or getattr(models, "ALLOW_MODEL_REQUESTS", True)
                or "ALLOW_MODEL_REQUESTS" not in str(error)
            ):
                raise
            raise ModelRequestsBlocked(
                f"pydantic-ai agent {self.agent_name!r} was about to send a real request to {self.system}:"
                f"{self.model_name} to record it in {self.session.cassette.path}, but model requests are blocked "
                "(pydantic_ai.models.ALLOW_MODEL_REQUESTS is False). Under pytest the plugin's record mode decides, "
                "not the block's record_mode: record with pytest --agentkit-record-mode=once, or mark a live test "
                "@pytest.mark.agentkit_allow_model_requests"
            ) from error

    def _after_the_block(self, messages: Sequence[ModelMessage]) -> bool:
        """Whether the block has ended, so a new run is the agent's own; an error for a run begun inside it.

        Only a run whose context was copied inside the block (or that was still going when it ended)
        reaches this model after the block.
        """
        if not self.session.closed:
            return False
        if self.session.live_run(messages[-1].run_id if messages else None) is None:
            return True
        path = self.session.cassette.path or "the in-memory cassette"
        raise CassetteError(
            f"{path}: a run of pydantic-ai agent {self.agent_name!r} begun inside the cassette block sent a model "
            "request after the block ended, so it can be neither recorded nor replayed. Let runs started in threads "
            "finish inside the block (join the thread, or end the ThreadPoolExecutor's with-block first).",
            path=self.session.cassette.path,
        )


@dataclass
class CassetteToolset(WrapperToolset[Any]):
    """Records each tool call of a run; on replay compares returns and serves external tools from the cassette."""

    session: PydanticAISession = field(kw_only=True)
    run_id: str | None = field(default=None, kw_only=True)
    """The run this copy serves (`for_run` makes one per run), so its exit marks the run's end."""

    async def for_run(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        wrapped = await self.wrapped.for_run(ctx)
        return replace(self, wrapped=wrapped, run_id=ctx.run_id)

    async def __aexit__(self, *args: Any) -> bool | None:
        try:
            return await self.wrapped.__aexit__(*args)
        finally:
            if self.run_id is not None:
                self.session.run_ended(self.run_id)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        live = self.session.live_run(ctx.run_id)

        async def call() -> Any:
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)

        if live is None:  # a tool called outside a model request of this block (e.g. by hand)
            return await call()
        return await live.call_tool(name, ctx.tool_call_id, tool_args, call)


def wrap_toolsets(toolsets: Sequence[AbstractToolset[Any]], session: PydanticAISession) -> list[AbstractToolset[Any]]:
    """Each toolset wrapped in a `CassetteToolset` of `session`."""
    return [CassetteToolset(toolset, session=session) for toolset in toolsets]
