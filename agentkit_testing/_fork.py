"""Fork a recorded run at node N: replay its first nodes as recorded, then continue live and record that.

`fork(cassette, agent=..., run='run-1', at_node=2)` starts `agent` on the recorded run's user
prompt and history. Nodes `0 .. N-1` replay as on `cassette()` replay: each request is compared
with the recording and answered from it, tools run for real and their returns are compared,
external tools get their recorded return. From node N on the run is live: node N's request goes to
the model (the agent's own, or the one given), and so does every request after it. The whole run,
replayed part included, is recorded as a new run of the cassette, with `forked_from` naming the
parent run and N, so it replays offline like any other run.

N counts nodes as the cassette's `nodes` list, `agentkit cassette show` and divergence messages do
(`ModelRequestNode` 0, `CallToolsNode` 1, `ModelRequestNode` 2, ...), and must be the index of a
`ModelRequestNode`: the point where the next model request is sent.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from agentkit import (
    Agent,
    AgentNode,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    RetryPromptPart,
    RunInfo,
    RunObserver,
    ToolCallPart,
    ToolReturnPart,
    Usage,
    UserPromptPart,
    intercept_runs,
)
from agentkit.models import Model, ModelRequestParameters, StreamedResponse, WrapperModel
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import ForkPoint, RecordedRun, model_id
from agentkit_testing._exceptions import CassetteDivergence, ForkError, RuntimeMismatch
from agentkit_testing._matching import Comparator, Matching
from agentkit_testing._recorder import RunRecorder
from agentkit_testing._replay import ReplayModel, RunReplayer

__all__ = ("ForkResult", "fork", "fork_points", "fork_sync")


@dataclass(frozen=True)
class ForkResult:
    """What a fork made: the new run (as saved), its parent, and the agent's result."""

    run: RecordedRun
    """The forked run: `forked_from` names the parent and the fork point."""
    parent: RecordedRun
    data: Any
    """The run's result, as the agent returned it (`run.result.data` is its JSON form)."""
    cassette: Cassette
    """The cassette with the new run: as read back from its file when it was saved."""


def fork_points(run: RecordedRun) -> tuple[int, ...]:
    """The nodes `run` can be forked at: the indices of its `ModelRequestNode`s that sent a request."""
    return tuple(request.node for request in run.requests)


async def fork(
    cassette: str | os.PathLike[str] | Cassette,
    *,
    agent: Agent[Any, Any],
    run: str,
    at_node: int,
    model: Model | str | None = None,
    deps: Any = None,
    result_type: type[Any] | None = None,
    matching: Matching | None = None,
    external_tools: Iterable[str] = (),
    label: str | None = None,
    save: bool = True,
) -> ForkResult:
    """Replay run `run` of `cassette` up to node `at_node` exactly as recorded, then continue it live.

    Args:
        cassette: the cassette file, or a `Cassette` in memory.
        agent: the agent to run; the run starts on the recorded user prompt and message history.
        run: the id of the recorded run to fork, e.g. `run-1`.
        at_node: the `ModelRequestNode` from which the run is live (see `fork_points`); 0 replays nothing.
        model: the model the live part uses; by default the agent's own (as `agent.run` would pick it).
        deps, result_type: passed to `agent.iter`, as the recorded run had them.
        matching: how the replayed requests are compared with the recording; to fork an agent whose
            system prompt changed, `Matching(ignore={'system_prompt'})`.
        external_tools: tools not called in the replayed part (their recorded return is used); the
            run's tool calls marked external are treated so anyway.
        label: saved with the new run; by default `fork of RUN at node N`. A distinct label keeps
            test blocks labelled with their test id from expecting the forked run to be played.
        save: write the cassette (atomically, keeping runs other processes added) with the new run.

    Raises:
        ForkError: the run does not exist, was started with `run_stream()`, was recorded by another
            agent, `at_node` is not one of its request nodes, or the run ended before reaching it.
        RuntimeMismatch: the run was recorded under another runtime (pydantic-ai).
        CassetteDivergence: the replayed part differs from the recording (see `matching`).

    Nothing is written when the run fails: its error propagates.
    """
    store = cassette if isinstance(cassette, Cassette) else Cassette.load(cassette)
    parent = _parent(store, run, at_node, agent)
    comparator = Comparator(matching or Matching(), store.scrubber)
    external = frozenset(external_tools)
    replayer = RunReplayer(parent, path=store.path, comparator=comparator, external_tools=external)
    session = _ForkSession(parent, at_node, replayer, comparator, external, label or f"fork of {run} at node {at_node}")
    try:
        with intercept_runs(session):
            async with agent.iter(
                _user_prompt(parent),
                message_history=list(parent.message_history) if parent.message_history is not None else None,
                model=model,
                deps=deps,
                result_type=result_type,
                infer_name=False,
            ) as agent_run:
                async for _ in agent_run:
                    pass
    except CassetteDivergence as error:
        error.add_note(
            f"fork replays nodes 0 to {at_node - 1} of run {run!r} as recorded before running live; to fork an "
            "agent that changed there, leave the changed field out with matching=Matching(ignore={...}) "
            "(agentkit cassette fork: --ignore FIELD)"
        )
        raise
    observer = session.observer
    assert observer is not None  # the run above started, so the session took it
    assert agent_run.result is not None  # iteration ends at End
    if not observer.reached_fork:
        raise ForkError(
            f"{_name(store)}: the fork of run {run!r} at node {at_node} never got there: the run ended at node "
            f"{observer.last_node} while replaying the recording, before sending a request live. Nothing was "
            "written; fork at an earlier node, or compare more of the recording (fewer ignored fields in matching).",
            path=store.path,
            run_id=run,
            node_index=at_node,
        )
    recorded = observer.recorder.snapshot()
    assert recorded is not None
    forked = dataclasses.replace(recorded, id=store.new_run_id(), forked_from=ForkPoint(parent.id, at_node))
    store.add_run(forked)
    if save and store.path is not None:
        store.save(merge=True)
        store, forked = _as_saved(store.path, forked)
    return ForkResult(forked, parent, agent_run.result.data, store)


def fork_sync(
    cassette: str | os.PathLike[str] | Cassette,
    *,
    agent: Agent[Any, Any],
    run: str,
    at_node: int,
    model: Model | str | None = None,
    deps: Any = None,
    result_type: type[Any] | None = None,
    matching: Matching | None = None,
    external_tools: Iterable[str] = (),
    label: str | None = None,
    save: bool = True,
) -> ForkResult:
    """`fork` in a new event loop, for code that is not async (not for use inside a running loop)."""

    async def main() -> ForkResult:
        return await fork(
            cassette,
            agent=agent,
            run=run,
            at_node=at_node,
            model=model,
            deps=deps,
            result_type=result_type,
            matching=matching,
            external_tools=external_tools,
            label=label,
            save=save,
        )

    return anyio.run(main)


def _parent(store: Cassette, run_id: str, at_node: int, agent: Agent[Any, Any]) -> RecordedRun:
    """The run to fork, after checking that it can be forked at `at_node` by `agent`."""
    name = _name(store)
    runs = store.runs
    parent = next((candidate for candidate in runs if candidate.id == run_id), None)
    if parent is None:
        known = ", ".join(candidate.id for candidate in runs[:10]) + (", ..." if len(runs) > 10 else "")
        raise ForkError(
            f"{name}: no run {run_id!r} to fork at node {at_node}; the cassette holds "
            f"{len(runs)} run(s){': ' + known if runs else ''}. Pick one of them (agentkit cassette show {name}).",
            path=store.path,
            run_id=run_id,
            node_index=at_node,
        )
    if parent.runtime is not None:
        raise RuntimeMismatch(
            f"{name}: run {run_id!r} was recorded under {parent.runtime}, not agentkit, so it cannot be forked at "
            f"node {at_node} with an agentkit agent. Fork runs recorded by agentkit agents.",
            path=store.path,
            run_id=run_id,
        )
    if parent.streamed:
        raise ForkError(
            f"{name}: run {run_id!r} was started with run_stream(), and fork continues runs with Agent.iter(); "
            f"it cannot be forked at node {at_node}. Fork a run recorded with run() or iter().",
            path=store.path,
            run_id=run_id,
            node_index=at_node,
        )
    if parent.agent is not None and agent.name is not None and parent.agent != agent.name:
        raise ForkError(
            f"{name}: run {run_id!r} was recorded by agent {parent.agent!r}, not {agent.name!r}; "
            f"pass that agent to fork it at node {at_node}.",
            path=store.path,
            run_id=run_id,
            node_index=at_node,
        )
    points = fork_points(parent)
    if at_node not in points:
        length = len(parent.nodes) or 2 * len(parent.requests)
        if at_node < 0 or at_node >= length:
            where = f"node {at_node} is beyond its end (it has {length} nodes, 0 to {length - 1})"
        else:
            kind = parent.nodes[at_node] if parent.nodes else "CallToolsNode"
            where = f"node {at_node} is a {kind}, not a ModelRequestNode that sent a request"
        shown = ", ".join(str(point) for point in points) or "none"
        raise ForkError(
            f"{name}: run {run_id!r} cannot be forked at node {at_node}: {where}. A run is forked where it sends a "
            f"model request: at one of its ModelRequestNodes, here node {shown}.",
            path=store.path,
            run_id=run_id,
            node_index=at_node,
        )
    return parent


def _as_saved(path: Path, forked: RecordedRun) -> tuple[Cassette, RecordedRun]:
    """The file as saved, and the forked run in it: saving renumbers the run when another process added
    runs with its id meanwhile (parallel forks), and scrubs it."""
    saved = Cassette.load(path)
    same_fork = [run for run in saved.runs if run.forked_from == forked.forked_from and run.model == forked.model]
    exact = [run for run in same_fork if dataclasses.replace(run, id=forked.id) == forked]
    found = exact or same_fork
    return saved, (found[-1] if found else forked)


def _user_prompt(run: RecordedRun) -> Any:
    """The prompt as the run was given it: the first request's user prompt part (files included)."""
    for message in run.requests[0].messages if run.requests else ():
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart):
                    return part.content if isinstance(part.content, str) else list(part.content)
    return run.user_prompt


def _name(store: Cassette) -> str:
    return str(store.path) if store.path is not None else "in-memory cassette"


class _ForkSession:
    """The run interceptor of one fork: it takes the first run started in its block, and no other."""

    def __init__(
        self,
        parent: RecordedRun,
        at_node: int,
        replayer: RunReplayer,
        comparator: Comparator,
        external_tools: frozenset[str],
        label: str,
    ) -> None:
        self._parent = parent
        self._at_node = at_node
        self._replayer = replayer
        self._comparator = comparator
        self._external_tools = external_tools
        self._label = label
        self.observer: _ForkObserver | None = None

    @property
    def takes_runs_from_cassettes(self) -> bool:
        """A `cassette()` block around the fork leaves it the forked run (see `_cassette/context.py`), not others."""
        return self.observer is None

    def start_run(self, info: RunInfo) -> RunObserver | None:
        if self.observer is not None:
            return None  # runs started from inside the forked run (an agent in a tool) are not the fork's
        recorder = RunRecorder(
            Cassette(scrubber=self._comparator.scrubber),
            agent=info.agent_name,
            model=model_id(info.model),
            user_prompt=info.user_prompt,
            message_history=info.message_history,
            deps=self._comparator.deps_identity(info.deps),
            label=self._label,
            external_tools=self._external_tools,
        )
        self.observer = _ForkObserver(self._at_node, self._replayer, recorder)
        return self.observer


class _ForkObserver(RunObserver):
    """Replays nodes before the fork point through a `RunReplayer`, and records every node with a `RunRecorder`."""

    def __init__(self, at_node: int, replayer: RunReplayer, recorder: RunRecorder) -> None:
        self.at_node = at_node
        self.replayer = replayer
        self.recorder = recorder
        self.last_node = -1
        self.live_requests = 0

    @property
    def replaying(self) -> bool:
        return self.last_node < self.at_node

    @property
    def reached_fork(self) -> bool:
        return self.live_requests > 0

    def wrap_model(self, model: Model) -> Model:
        return self.recorder.wrap_model(_ForkModel(self, ReplayModel(replayer=self.replayer), model))

    async def call_tool(
        self,
        call: ToolCallPart,
        execute: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]],
    ) -> ToolReturnPart | RetryPromptPart:
        if self.replaying:
            return await self.recorder.call_tool(call, lambda: self.replayer.call_tool(call, execute))
        return await self.recorder.call_tool(call, execute)

    def on_node(self, index: int, node: AgentNode) -> None:
        self.last_node = index
        if index < self.at_node:
            self.replayer.on_node(index, node)
        elif index == self.at_node:
            self.replayer.raise_deferred()  # a tool return of the last replayed node that differed
        self.recorder.on_node(index, node)

    def on_end(self, result: Any, error: BaseException | None) -> None:
        self.recorder.on_end(result, error)


class _ForkModel(WrapperModel):
    """Answers from the recording before the fork point, from the live model (`wrapped`) from it on."""

    def __init__(self, observer: _ForkObserver, replay: ReplayModel, live: Model) -> None:
        super().__init__(live)
        self._observer = observer
        self._replay = replay

    def _current(self) -> Model:
        if self._observer.replaying:
            return self._replay
        self._observer.live_requests += 1
        return self.wrapped

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        return await self._current().request(messages, model_settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        async with self._current().request_stream(messages, model_settings, model_request_parameters) as streamed:
            yield streamed
