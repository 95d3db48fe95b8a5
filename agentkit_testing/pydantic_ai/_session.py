"""`cassette(path, agents=[...])`: record or replay every run of the named pydantic-ai agents in a block.

Each named agent gets, with `Agent.override(model=..., tools=[], toolsets=...)`, a `CassetteModel`
around its model and a `CassetteToolset` around each of its toolsets (its own function tools
included): nothing is patched globally, and the override ends with the block. Runs are told apart
by the `run_id` pydantic-ai stamps on every message: a request whose last message carries a
`run_id` not seen in this block starts a new run, whose identity (agent, model, user prompt,
message history, streamed or not) picks the recorded run that replays it, so concurrent runs of one
agent find their own recordings whatever order they start in. Record modes, saving, scrubbing,
unplayed-run checks and divergence reports are agentkit_testing's own (see `agentkit_testing.cassette`).

`Agent.override` is context-local: it covers runs in this context and in tasks or `to_thread`
calls that copy it. A run started in a context with none of its own (a plain `threading.Thread`,
a `ThreadPoolExecutor` worker, a web framework's handler thread) is routed by `_thread_routing`,
through private override variables of pydantic-ai's `Agent` (named there, tested), to the block
naming the agent that is active in the process (the innermost of nested ones), tools included;
with several unrelated blocks open at once it raises `UserError`, and after the last block ends
the agent is the one the user wrote. A run that is still going when its block ends fails with
`CassetteError` at its next request rather than leave the cassette.
Runs with one identity recorded at the same time are marked `concurrent` (a run ends when
pydantic-ai exits its toolsets); replaying them raises `AmbiguousRecording` if their recordings
differ, since which live run gets which recording would be a guess.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import pydantic_ai
from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model, infer_model
from pydantic_ai.providers import Provider, infer_provider_class
from typing_extensions import Unpack

from agentkit_testing._cassette._block import BlockOptions, BlockSession, open_cassette
from agentkit_testing._cassette._file import BeforeRecord, Cassette
from agentkit_testing._cassette._records import RecordedRun, RecordMode
from agentkit_testing._divergence import divergence, unrecorded
from agentkit_testing._exceptions import CassetteError, RuntimeMismatch
from agentkit_testing._matching import Matching, Mismatch, RunKey
from agentkit_testing._secrets import Scrubber
from agentkit_testing.pydantic_ai._messages import dump_messages, prompt_text
from agentkit_testing.pydantic_ai._models import CassetteModel, RecordedModel, wrap_toolsets
from agentkit_testing.pydantic_ai._runs import LiveRun, RunRecording, RunReplay
from agentkit_testing.pydantic_ai._thread_routing import agent_toolsets, route_other_contexts

__all__ = ("RUNTIME", "PydanticAISession", "cassette")

RUNTIME = "pydantic-ai"


def runtime_label() -> str:
    """What recorded runs name as their runtime: `pydantic-ai <installed version>`."""
    return f"{RUNTIME} {pydantic_ai.__version__}"


class PydanticAISession(BlockSession):
    """What a pydantic-ai `cassette()` block gives: its cassette, and the runs it replayed and recorded."""

    _foreign_runs = True

    def __init__(self, cassette: Cassette, record_mode: RecordMode, **options: Unpack[BlockOptions]) -> None:
        super().__init__(cassette, record_mode, identity=self._recorded_key, **options)
        self._live: dict[str | None, RunRecording | RunReplay] = {}
        self._recordings: list[RunRecording] = []
        self._recording_keys: list[tuple[RunRecording, RunKey]] = []
        self._lock = threading.Lock()
        self._environment: dict[str, str] | None = None
        self.closed = False
        """The block has ended: runs that still reach its wrappers (a context copied inside it) pass through."""

    @property
    def recorded_runs(self) -> list[RecordedRun]:
        """Runs recorded in this block (those a model answered)."""
        return [run for run in (recording.snapshot() for recording in self._recordings) if run is not None]

    def close(self) -> None:
        """The block ends: from now on its model and toolsets are the agent's own (see `closed`)."""
        self.closed = True

    def live_run(self, run_id: str | None) -> LiveRun | None:
        """The live run with pydantic-ai's `run_id`, once its first model request was seen."""
        with self._lock:
            return self._live.get(run_id) if run_id is not None else None

    def run_for(
        self, model: CassetteModel, messages: Sequence[ModelMessage], *, streamed: bool
    ) -> RunRecording | RunReplay:
        """The live run a model request belongs to; a new one (replayed or recorded) for a run's first request."""
        run_id = messages[-1].run_id if messages else None
        with self._lock:
            known = self._live.get(run_id) if run_id is not None else None
            if known is not None:
                return known
        environment = dict(os.environ)
        if environment != self._environment:  # secret variables set since: the scrubber learns them
            self._environment = environment
            self.cassette.scrubber.refresh()
        start = next((index for index, message in enumerate(messages) if message.run_id == run_id), len(messages))
        agent = model.agent_name
        where = f"the message history of a run of agent {agent!r}"
        history = tuple(dump_messages(messages[:start], where=where, check=self.records)) or None
        prompt = prompt_text(messages[start:])
        model_id = f"{model.system}:{model.model_name}"
        key = self._comparator.run_key(agent, model_id, prompt, history, streamed=streamed)
        if self._selector is not None:
            recorded = self._selector.claim(key)
            if recorded is not None:
                self._check_runtime(recorded)
                live = RunReplay(
                    run_id,
                    recorded,
                    comparator=self._comparator,
                    external_tools=self._external_tools,
                    path=self.cassette.path,
                    advice=self.advice,
                )
                return self._register(run_id, live)
        if not self.records:
            raise self._not_recorded(key, agent, model_id, prompt, history)
        recording = RunRecording(
            run_id,
            identity=self.cassette.new_run_id(),
            agent=agent,
            model=model_id,
            runtime=runtime_label(),
            user_prompt=prompt,
            history=history,
            streamed=streamed,
            label=self.label,
            external_tools=self._external_tools,
            path=self.cassette.path,
        )
        self.cassette.add_pending(recording)
        with self._lock:
            self._recordings.append(recording)
            for other, other_key in self._recording_keys:
                if other.running and other_key == key:
                    other.concurrent = recording.concurrent = True
            self._recording_keys.append((recording, key))
        return self._register(run_id, recording)

    def run_ended(self, run_id: str) -> None:
        """A run's toolsets were exited: the run is over (for marking concurrent recordings)."""
        with self._lock:
            live = self._live.get(run_id)
        if isinstance(live, RunRecording):
            live.running = False

    def _register(self, run_id: str | None, live: RunRecording | RunReplay) -> RunRecording | RunReplay:
        if run_id is not None:
            with self._lock:
                self._live[run_id] = live
        return live

    def _recorded_key(self, run: RecordedRun) -> RunKey:
        history = run.runtime_history if run.runtime is not None else run.message_history
        return self._comparator.run_key(run.agent, run.model, run.user_prompt, history, streamed=run.streamed)

    def _check_runtime(self, run: RecordedRun) -> None:
        name, _, version = (run.runtime or "agentkit").partition(" ")
        installed = pydantic_ai.__version__
        if name == RUNTIME and version.split(".")[0] == installed.split(".")[0]:
            return
        recorded = run.runtime or "agentkit's own runtime"
        raise RuntimeMismatch(
            f"{self.cassette.path}: recorded run {run.id!r} (agent {run.agent!r}) was recorded under {recorded}, "
            f"and this live run is on pydantic-ai {installed}: a recording replays only under the runtime and "
            f"major version that made it. Record it again: {self.advice.record_again('rewrite')}.",
            path=self.cassette.path,
            run_id=run.id,
        )

    def _not_recorded(
        self, key: RunKey, agent: str | None, model: str, prompt: str, history: tuple[dict[str, Any], ...] | None
    ) -> CassetteError:
        path = self.cassette.path
        what = f"run of pydantic-ai agent {agent!r} with model {model} and user prompt {prompt!r}"
        if not self._existed:
            return unrecorded(
                f"{path}: the cassette does not exist and record_mode is {self.record_mode!r}, so the {what} cannot "
                f"be replayed. Record it first: {self.advice.record_again('once')}.",
                path=path,
                scrubber=self.cassette.scrubber,
            )
        nearest = self._selector.nearest(key) if self._selector is not None else None
        if nearest is not None and nearest.agent == agent:
            recorded = self._recorded_key(nearest)
            if recorded.model != key.model:
                mismatch = Mismatch("model", nearest.model, model)
            elif recorded.user_prompt != key.user_prompt:
                mismatch = Mismatch("user_prompt", nearest.user_prompt, prompt)
            elif recorded.history != key.history:
                old = self._comparator.normalize(list(nearest.runtime_history or ()))
                mismatch = Mismatch("message_history", old, self._comparator.normalize(list(history or ())))
            else:
                mismatch = Mismatch("streamed", nearest.streamed, key.streamed)
            return divergence(
                path=path,
                run=nearest,
                node_index=0,
                where="start of the run",
                mismatch=mismatch,
                preamble=f"No unplayed recorded run has the identity of this {what}; the nearest one is compared.\n",
                scrubber=self.cassette.scrubber,
                advice=self.advice,
            )
        return unrecorded(
            f"{path}: no recorded run for the {what}: the cassette holds {len(self.cassette.runs)} run(s), none "
            f"unplayed with this identity, and record_mode is {self.record_mode!r}. Record it: "
            f"{self.advice.record_again('new_episodes')} (or 'rewrite').",
            path=path,
            scrubber=self.cassette.scrubber,
        )


def _base_model(agent: Agent[Any, Any], session: PydanticAISession) -> Model:
    """The model to wrap for `agent`: its own, or, when replaying offline, a stand-in named like it."""
    model = agent.model
    if isinstance(model, Model):
        return model
    if model is None:
        raise CassetteError(
            f"pydantic-ai agent {agent.name!r} has no model: a cassette wraps the agent's own model, so give it "
            "one (Agent('openai:gpt-4o', ...)) rather than passing model= to each run"
        )
    try:
        return infer_model(model)
    except UserError:
        if session.records:
            raise  # recording needs the real model: its error (a missing key, say) is the one to see
        system, name = _offline_identity(str(model))
        return RecordedModel(system, name, advice=session.advice)


def _offline_identity(model: str) -> tuple[str, str]:
    """The system and model name pydantic-ai gives the model `model` names, found without its key.

    The provider prefix is not always the model's system ('openai-chat:' and 'openai-responses:'
    models say 'openai'), and a recording names the run by the system: the model is built with a
    placeholder key, which is never sent (it stands in for a model that never requests). A provider
    that needs more than a key (a base URL, a package not installed) falls back to the prefix.
    """
    prefix, _, name = model.partition(":")
    if not name:
        return "unknown", prefix

    def placeholder_key_provider(provider: str) -> Provider[Any]:
        built: Provider[Any] = infer_provider_class(provider)(api_key="placeholder-never-sent")  # type: ignore[call-arg]
        return built

    try:
        built = infer_model(model, provider_factory=placeholder_key_provider)
    except (UserError, ImportError, TypeError, ValueError):
        return prefix, name
    return built.system, built.model_name


@contextmanager
def cassette(
    path: str | os.PathLike[str] | Cassette,
    agents: Iterable[Agent[Any, Any]],
    record_mode: RecordMode = "none",
    *,
    matching: Matching | None = None,
    external_tools: Iterable[str] = (),
    scrub_patterns: Iterable[str | re.Pattern[str]] = (),
    scrubber: Scrubber | None = None,
    before_record: BeforeRecord | None = None,
    label: str | None = None,
    save: bool = True,
    allow_playback_repeats: bool = False,
) -> Iterator[PydanticAISession]:
    """Record or replay every run of the pydantic-ai `agents` started in this block, with the cassette at `path`.

    Args:
        path: the cassette file (`.json` for JSON, YAML otherwise), or a `Cassette` in memory.
        agents: the `pydantic_ai.Agent`s whose runs are recorded or replayed.
        record_mode: `none` (default: replay only), `once`, `new_episodes`, `all` or `rewrite`, as in
            `agentkit_testing.cassette`.
        matching: how live requests are compared with recorded ones; `Matching(ignore=...)` takes
            `messages`, `settings`, `tool_return`, `user_prompt`, `streamed` or a request parameter
            such as `function_tools` or `output_mode`.
        external_tools: tools with side effects, not called on replay: their recorded return is used.
        scrub_patterns: extra regular expressions for secrets to keep out of the file.
        scrubber: replaces the default `Scrubber` (then `scrub_patterns` is not used).
        before_record: called with each newly recorded run before it is written; may change or drop it.
        label: saved with each recorded run (e.g. the test id); not used for matching.
        allow_playback_repeats: let one recorded run be replayed by any number of live runs.
        save: write the file when the block ends; `False` when the caller saves the `Cassette` it
            passed (the pytest plugin, whose agentkit block shares it).
    """
    store, existed = open_cassette(
        path, record_mode, scrub_patterns=scrub_patterns, scrubber=scrubber, before_record=before_record, lazy=False
    )
    session = PydanticAISession(
        store,
        record_mode,
        existed=existed,
        matching=matching or Matching(),
        external_tools=frozenset(external_tools),
        label=label,
        allow_playback_repeats=allow_playback_repeats,
    )
    with ExitStack() as overrides:
        overrides.callback(session.close)
        for agent in agents:
            model = CassetteModel(_base_model(agent, session), session, agent.name)
            # The agent's own function toolset comes first in `agent.toolsets`; `tools=[]` keeps it from
            # also running unwrapped.
            toolsets = wrap_toolsets(agent_toolsets(agent), session)
            overrides.enter_context(agent.override(model=model, tools=[], toolsets=toolsets))
            overrides.enter_context(route_other_contexts(agent, str(store.path or "an in-memory cassette")))
        try:
            yield session
        except Exception:
            if save:
                _save(session)
            raise
    if save:
        _save(session)
    session.check_all_played()


def _save(session: PydanticAISession) -> None:
    if session.recorded_runs and session.cassette.path is not None:
        session.cassette.save(
            merge=session.record_mode != "rewrite",
            rerecorded=session.record_mode in ("all", "rewrite"),
            replacing_label=session.label if session.record_mode == "rewrite" else None,
        )
