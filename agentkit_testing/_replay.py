"""Replay: `RunReplayer` serves one recorded run to a live one; `ReplayModel` answers from it, offline.

Under `cassette()`, a live run matched to a recorded run gets a `RunReplayer` (a `RunObserver`):
its model is replaced by a `ReplayModel` that never touches the real model, every request is
compared with the recording (a mismatch raises `CassetteDivergence`), tools run for real and
their returns are compared too (external tools are not called: their recorded return is used),
and the node sequence and the final result are checked. Recorded timestamps and ids are put
back on the messages the run builds, so a replayed run's nodes equal the recorded run's.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from agentkit import (
    AgentNode,
    CallToolsNode,
    End,
    ModelMessage,
    ModelRequest,
    ModelRequestNode,
    ModelResponse,
    ModelResponsePart,
    ModelSettings,
    RetryPromptPart,
    RunObserver,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    Usage,
    UserPromptPart,
)
from agentkit.models import Model, ModelRequestParameters, StreamedResponse
from agentkit_testing._cassette._codec import encode_tool_result, to_plain
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import RecordedRequest, RecordedRun, RecordedToolCall, split_model_id
from agentkit_testing._cassette._selection import RunSelector
from agentkit_testing._cassette._stream import ReplayStreamedResponse
from agentkit_testing._divergence import IN_CODE, RecordAdvice, describe_run, divergence, unrecorded
from agentkit_testing._exceptions import CassetteError
from agentkit_testing._matching import Comparator, Matching, Mismatch, same_json
from agentkit_testing._recorder import prompt_of

__all__ = ("ReplayModel", "RunReplayer")


class RunReplayer(RunObserver):
    """Replays `run` to one live run, checking each step against it.

    Args:
        run: the recorded run.
        path: the cassette file, for messages.
        comparator: how requests, tool returns and results are compared.
        external_tools: names of tools not to call on replay (their recorded return is used).
        advice: how its errors tell the user to record again (`cassette()`'s keyword by default).
    """

    def __init__(
        self,
        run: RecordedRun,
        *,
        path: Path | None,
        comparator: Comparator,
        external_tools: frozenset[str] = frozenset(),
        advice: RecordAdvice = IN_CODE,
    ) -> None:
        self.run = run
        self._advice = advice
        self.diverged = False
        """Whether this replay raised (or deferred) a divergence: the run did not replay as recorded."""
        self._path = path
        self._comparator = comparator
        self._external_tools = external_tools
        self._calls: dict[str, list[RecordedToolCall]] = {}
        for call in run.tool_calls:
            if call.tool_call_id is not None:
                self._calls.setdefault(call.tool_call_id, []).append(call)
        self._request_index = 0
        self._seen: int | None = None
        self._messages: list[ModelMessage] | None = None
        self._observed = False
        self._node_index = 0
        self._tools_node = 0
        self._request_nodes = 0
        self._live_nodes: list[str] = []
        self._deferred: CassetteError | None = None
        self._checks_nodes = not comparator.ignores("nodes")

    # --- hooks -------------------------------------------------------------------------------

    def wrap_model(self, model: Model) -> Model:
        return ReplayModel(replayer=self)

    async def call_tool(
        self,
        call: ToolCallPart,
        execute: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]],
    ) -> ToolReturnPart | RetryPromptPart:
        # Errors here are deferred to the next node: raised inside the run's tool task group,
        # they would reach the caller wrapped in an ExceptionGroup.
        recorded = self._find_call(call)
        if call.tool_name in self._external_tools or (recorded is not None and recorded.external):
            if recorded is None:
                self._defer(
                    unrecorded(
                        f"{self._cassette_name()}: {describe_run(self.run)} has no recorded return for the call of "
                        f"external tool {call.tool_name!r} (tool_call_id={call.tool_call_id!r}) at node "
                        f"{self._tools_node}; external tools are never called on replay. Record the cassette again "
                        f"({self._advice.record_again('rewrite')}).",
                        path=self._path,
                        scrubber=self._comparator.scrubber,
                    )
                )
                return ToolReturnPart(call.tool_name, "<not recorded>", call.tool_call_id)
            return copy.deepcopy(recorded.result)
        result = await execute()
        if recorded is None or self._comparator.ignores("tool_return"):
            return result
        if type(result) is not type(recorded.result) or not self._comparator.equal(
            result.content, recorded.result.content
        ):
            expected, actual = encode_tool_result(recorded.result), encode_tool_result(result)
            expected.pop("timestamp", None)
            actual.pop("timestamp", None)
            self._defer(
                divergence(
                    path=self._path,
                    run=self.run,
                    node_index=self._tools_node,
                    where=f"CallToolsNode, tool {call.tool_name!r}, tool_call_id={call.tool_call_id!r}",
                    mismatch=Mismatch("tool_return", expected, actual, subject=call.tool_name),
                    scrubber=self._comparator.scrubber,
                    advice=self._advice,
                )
            )
            return result
        result.timestamp = recorded.result.timestamp
        return result

    def on_node(self, index: int, node: AgentNode) -> None:
        self._observed = True
        self._node_index = index
        kind = type(node)
        self._live_nodes.append(kind.__name__)
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        recorded = self.run.nodes
        if recorded and (index >= len(recorded) or recorded[index] != kind.__name__) and self._checks_nodes:
            raise self._failed(self._node_divergence(index, kind.__name__))
        if kind is ModelRequestNode:
            assert isinstance(node, ModelRequestNode)
            if self._request_nodes < len(self.run.requests):
                restamp((node.request,), self.run.requests[self._request_nodes].messages[-1:])
            self._request_nodes += 1
        elif kind is CallToolsNode:
            self._tools_node = index
        elif isinstance(node, End):
            self._check_result(index, node)
            if self._messages is not None and self._seen is not None and self.run.closing_messages:
                restamp(self._messages[self._seen :], self.run.closing_messages)

    # --- requests ----------------------------------------------------------------------------

    def next_request(
        self,
        messages: list[ModelMessage],
        settings: ModelSettings | None,
        parameters: ModelRequestParameters,
    ) -> RecordedRequest:
        """The recorded request for this live one; raises if it is missing or differs."""
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        index, requests = self._request_index, self.run.requests
        node = self._node_index if self._observed else (requests[index].node if index < len(requests) else 2 * index)
        if index >= len(requests):
            if self.run.error is not None and index == len(requests):
                # The recording stopped here on an error (often the model's answer that could not be
                # used): there is no answer to replay, and the error is kept only to be read.
                ended_by = self.run.error
                # Its first line: `UnexpectedModelBehavior` puts the raw body it quotes on the lines after.
                headline = ended_by.message.partition("\n")[0].removesuffix(", body:")
                why = (
                    f"The recording ended at that request with {ended_by.type}: {headline} "
                    "(no answer was recorded for it, and the error is not replayed): record the cassette again "
                    f"once the model answers ({self._advice.record_again('rewrite')})."
                )
            else:
                why = (
                    "The run goes further than its recording: record the cassette again "
                    f"({self._advice.record_again('rewrite')})."
                )
            raise self._failed(
                unrecorded(
                    f"{self._cassette_name()}: {describe_run(self.run)} recorded {len(requests)} model request(s), "
                    f"but the live run sent request {index + 1} (at node {node}). {why}",
                    path=self._path,
                    scrubber=self._comparator.scrubber,
                )
            )
        recorded = requests[index]
        start = self._seen if self._seen is not None else max(len(messages) - 1, 0)
        new = messages[start:]
        mismatch = self._comparator.compare_request(new, settings, parameters, recorded)
        if mismatch is not None:
            raise self._failed(
                divergence(
                    path=self._path,
                    run=self.run,
                    node_index=node,
                    where=f"ModelRequestNode, request {index + 1} of {len(requests)}",
                    mismatch=mismatch,
                    scrubber=self._comparator.scrubber,
                    advice=self._advice,
                )
            )
        self._request_index += 1
        self._seen = len(messages) + 1
        self._messages = messages
        if not self._observed:
            restamp(new, recorded.messages)
        return recorded

    def raise_deferred(self) -> None:
        """Raise the error a tool call left for the next node, if any.

        For observers that stop replaying a run part way (a fork): the node after the last replayed
        one is never shown to this replayer, so it asks here instead.
        """
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error

    # --- helpers -----------------------------------------------------------------------------

    def _find_call(self, call: ToolCallPart) -> RecordedToolCall | None:
        """The recording of this call: by id (in this node when the id was reused), else by name and arguments."""
        same_id = self._calls.get(call.tool_call_id) if call.tool_call_id is not None else None
        if same_id is not None:
            return next((known for known in same_id if known.node == self._tools_node), same_id[0])
        for recorded in self.run.tool_calls:
            if (
                recorded.node == self._tools_node
                and recorded.tool_name == call.tool_name
                and same_json(recorded.args, call.args)
            ):
                return recorded
        return None

    def _defer(self, error: CassetteError) -> None:
        if self._deferred is None:
            self._deferred = self._failed(error)

    def _failed(self, error: CassetteError) -> CassetteError:
        """Note that the replay failed, and hand the error back to raise."""
        self.diverged = True
        return error

    def _cassette_name(self) -> str:
        return str(self._path) if self._path is not None else "in-memory cassette"

    def _node_divergence(self, index: int, kind: str) -> CassetteError:
        recorded = self.run.nodes
        return divergence(
            path=self._path,
            run=self.run,
            node_index=index,
            where=kind,
            mismatch=Mismatch("nodes", list(recorded[: index + 1]), list(self._live_nodes)),
            preamble=f"The recording has {len(recorded)} nodes; the live run reached {kind} at node {index}.\n",
            scrubber=self._comparator.scrubber,
            advice=self._advice,
        )

    def _check_result(self, index: int, node: End[Any]) -> None:
        recorded = self.run.result
        if recorded is None or self._comparator.ignores("result"):
            return
        final = node.data
        live = to_plain(final.data)
        if self._comparator.equal(live, recorded.data) and final.tool_name == recorded.tool_name:
            return
        raise self._failed(
            divergence(
                path=self._path,
                run=self.run,
                node_index=index,
                where="End",
                mismatch=Mismatch(
                    "result",
                    {"data": recorded.data, "tool_name": recorded.tool_name},
                    {"data": live, "tool_name": final.tool_name},
                ),
                scrubber=self._comparator.scrubber,
                advice=self._advice,
            )
        )


def restamp(live: Sequence[ModelMessage], recorded: Sequence[ModelMessage]) -> None:
    """Give the request parts the run just built the timestamps (and made-up ids) of their recording."""
    for live_message, recorded_message in zip(live, recorded, strict=False):
        if type(live_message) is not ModelRequest or type(recorded_message) is not ModelRequest:
            continue
        for part, recorded_part in zip(live_message.parts, recorded_message.parts, strict=False):
            kind = type(part)
            if kind is not type(recorded_part):
                continue
            if isinstance(part, UserPromptPart) and isinstance(recorded_part, UserPromptPart):
                part.timestamp = recorded_part.timestamp
            elif isinstance(part, ToolReturnPart | RetryPromptPart):
                assert isinstance(recorded_part, ToolReturnPart | RetryPromptPart)
                if isinstance(part, RetryPromptPart) and part.tool_name is None:
                    part.tool_call_id = recorded_part.tool_call_id
                elif part.tool_call_id != recorded_part.tool_call_id:
                    continue
                part.timestamp = recorded_part.timestamp


def copy_response(response: ModelResponse) -> ModelResponse:
    """A fresh copy of a recorded response, so a run can never change the recording."""
    return ModelResponse([copy_part(part) for part in response.parts], response.model_name, response.timestamp)


def copy_part(part: ModelResponsePart) -> ModelResponsePart:
    if isinstance(part, TextPart):
        return TextPart(part.content)
    args = copy.deepcopy(part.args) if isinstance(part.args, dict) else part.args
    return ToolCallPart(part.tool_name, args, part.tool_call_id)


def copy_usage(usage: Usage) -> Usage:
    details = dict(usage.details) if usage.details else None
    return Usage(usage.requests, usage.request_tokens, usage.response_tokens, usage.total_tokens, details)


class ReplayModel(Model):
    """A model that answers from a cassette, offline: it never sends a request anywhere.

    Used on its own, `ReplayModel(cassette)` matches each conversation it serves to a recorded
    run by user prompt and history, and checks every request against it (tool calls and nodes
    are checked only under `cassette()`, which sees the whole run). Under `cassette()` it is
    bound to the run's `RunReplayer` (`replayer`).

    Args:
        cassette: the recorded runs to answer from.
        matching: how requests are compared; `Matching()` by default.
        replayer: the replayer of one run to serve (set by `cassette()`).
    """

    sends_real_requests: ClassVar[bool] = False

    def __init__(
        self,
        cassette: Cassette | None = None,
        *,
        matching: Matching | None = None,
        replayer: RunReplayer | None = None,
    ) -> None:
        if replayer is not None:
            runs: Iterable[RecordedRun] = (replayer.run,)
        elif cassette is not None:
            runs = cassette.runs
        else:
            raise TypeError("ReplayModel needs a cassette")
        self.cassette = cassette
        self._replayer = replayer
        self._matching = matching
        self._selector: RunSelector | None = None
        self._conversations: dict[int, tuple[list[ModelMessage], RunReplayer]] = {}
        first = next(iter(runs), None)
        self._system, self._model_name = split_model_id(first.model) if first is not None else ("replay", "replay")

    @property
    def recorded_run(self) -> RecordedRun | None:
        """The recorded run this model serves when `cassette()` bound it to one; `None` used on its own."""
        return self._replayer.run if self._replayer is not None else None

    @property
    def unplayed_runs(self) -> list[RecordedRun]:
        """Recorded runs no conversation has replayed yet. Used on its own, a `ReplayModel` has no
        block whose end could check them: assert on this (or use `cassette()`, which does). Under
        `cassette()` (bound to one run) it is empty: see `CassetteSession.unplayed_runs`."""
        if self._replayer is not None:
            return []
        if self._selector is None:
            return list(self.cassette.runs) if self.cassette is not None else []
        return self._selector.unplayed()

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return self._system

    def _replayer_for(self, messages: list[ModelMessage]) -> RunReplayer:
        if self._replayer is not None:
            return self._replayer
        known = self._conversations.get(id(messages))
        if known is not None and known[0] is messages:
            return known[1]
        assert self.cassette is not None
        comparator = Comparator(self._matching or Matching(), self.cassette.scrubber)
        if self._selector is None:
            self._selector = RunSelector(self.cassette.runs, comparator, path=self.cassette.path, advice=IN_CODE)
        prompt = prompt_of(messages)
        run = self._selector.claim_by_prompt(prompt, messages[:-1])
        if run is None:
            raise unrecorded(
                f"{self.cassette.path or 'in-memory cassette'}: no recorded run left for a conversation with user "
                f"prompt {prompt!r} ({len(messages) - 1} messages of history); record it first.",
                path=self.cassette.path,
                scrubber=self.cassette.scrubber,
            )
        replayer = RunReplayer(run, path=self.cassette.path, comparator=comparator)
        self._conversations[id(messages)] = (messages, replayer)
        return replayer

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        recorded = self._replayer_for(messages).next_request(messages, model_settings, model_request_parameters)
        return copy_response(recorded.response), copy_usage(recorded.usage)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        recorded = self._replayer_for(messages).next_request(messages, model_settings, model_request_parameters)
        yield ReplayStreamedResponse(recorded)
