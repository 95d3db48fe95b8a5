"""`cassette(path, record_mode)`: record or replay every agent run started inside the block.

The block installs a run interceptor (`agentkit.intercept_runs`), so runs of any agent, even a
module-level `Agent('openai:gpt-4o')` built elsewhere, are recorded or replayed without changing
the code under test. It holds for every run started while the block is active, whichever thread
starts it: the block's own context first (concurrent tasks may each have their own cassette),
and for runs started in a context with no interceptor of its own (a `threading.Thread`, a
`ThreadPoolExecutor` worker, a sync web framework's handler thread) the innermost block active in
the process. Runs are attributed when they start: join worker threads before the block ends,
or their runs finish after the cassette was written. Record modes follow vcrpy / pytest-recording:

- `none`: replay only; a run or request the cassette does not hold raises (naming the cassette).
- `once`: record everything when the file does not exist yet; otherwise behave like `none`.
- `new_episodes`: replay recorded runs, record runs the cassette does not hold, and add them.
- `all`: record every run, never replay; new runs are added after the ones in the file.
- `rewrite`: record every run, never replay; the file then holds only this block's runs. With a
  `label` (the pytest plugin gives each test its id), only the runs with that label or none are
  replaced, so tests sharing one cassette each rewrite their own runs and keep the others'.

The file is written (atomically) when the block ends, unless nothing new was recorded, or the
block was interrupted (KeyboardInterrupt, cancellation) in which case the file is left as it was.
A run that no model answered (a missing API key, a wrong model name, a model that raised before
its first response) is not recorded; `once` records again over a file holding only such runs.

A block that only replays (`none`, or `once` on an existing file) and ends without an error then
fails with `UnplayedRuns` if recorded runs were never played: the code stopped calling the agent.
With a `label`, only the runs with that label (or none) are checked, so blocks sharing a cassette
each answer for their own runs. `new_episodes` does not check (it is how a cassette shared by
several writers grows; runs it leaves unplayed stay in the file and fail the next replay-only
block), nor do `all` and `rewrite`, which never replay. `Matching(allow_unplayed_runs=True)` allows it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from typing_extensions import Unpack

from agentkit import RunInfo, RunObserver, intercept_runs
from agentkit_testing._cassette._block import BlockOptions, BlockSession, open_cassette
from agentkit_testing._cassette._codec import encode_messages
from agentkit_testing._cassette._file import BeforeRecord, Cassette
from agentkit_testing._cassette._records import RecordedRun, RecordMode, model_id
from agentkit_testing._divergence import divergence, unrecorded
from agentkit_testing._exceptions import RuntimeMismatch
from agentkit_testing._matching import Matching, Mismatch, RunKey
from agentkit_testing._recorder import RunRecorder
from agentkit_testing._replay import RunReplayer
from agentkit_testing._secrets import Scrubber

__all__ = ("CassetteSession", "cassette")


class CassetteSession(BlockSession):
    """What a `cassette()` block gives: its cassette, and which runs it replayed and recorded.

    It is the run interceptor of the block: `start_run` decides, for each run, to replay it,
    record it, or fail.
    """

    def __init__(self, cassette: Cassette, record_mode: RecordMode, **options: Unpack[BlockOptions]) -> None:
        super().__init__(cassette, record_mode, **options)
        self._recorders: list[RunRecorder] = []
        self._replayers: list[RunReplayer] = []
        self._unmatched = 0
        self._recording_keys: list[tuple[RunKey, RunRecorder]] = []
        self._recording_lock = threading.Lock()

    @property
    def unplayed_runs(self) -> list[RecordedRun]:
        """Recorded runs of the cassette that no run of this block replayed."""
        return self._selector.unplayed() if self._selector is not None else []

    @property
    def failed_replays(self) -> int:
        """Runs of this block that did not replay: they diverged from their recording, or none matched them."""
        return self._unmatched + sum(replayer.diverged for replayer in self._replayers)

    @property
    def diverged_runs(self) -> list[RecordedRun]:
        """Recorded runs whose replay in this block diverged (they are among `replayed_runs`)."""
        return [replayer.run for replayer in self._replayers if replayer.diverged]

    @property
    def recorded_runs(self) -> list[RecordedRun]:
        """Runs recorded in this block (finished ones)."""
        return [run for run in (recorder.snapshot() for recorder in self._recorders) if run is not None]

    @property
    def recorded_anything(self) -> bool:
        return bool(self._recorders)

    def start_run(self, info: RunInfo) -> RunObserver | None:
        """Replay the run, record it, or raise: called by the core for each run in the block."""
        if _inner_cassette_takes(self, info):
            return None
        self.cassette.scrubber.refresh()  # secret variables set in the test body before this run count
        model = model_id(info.model)
        deps = self._comparator.deps_identity(info.deps)
        key = self._comparator.run_key(
            info.agent_name, model, info.user_prompt, info.message_history, streamed=info.streamed, deps=deps
        )
        if self._selector is not None:
            run = self._selector.claim(key)
            if run is not None and run.runtime is not None:
                raise RuntimeMismatch(
                    f"{self.cassette.path}: recorded run {run.id!r} was recorded under {run.runtime}, not agentkit: "
                    "replay it with agentkit_testing.pydantic_ai.cassette(), or record this agentkit run "
                    "in a cassette of its own",
                    path=self.cassette.path,
                    run_id=run.id,
                )
            if run is not None:
                replayer = RunReplayer(
                    run,
                    path=self.cassette.path,
                    comparator=self._comparator,
                    external_tools=self._external_tools,
                    advice=self.advice,
                )
                self._replayers.append(replayer)
                return replayer
        if self._records:
            recorder = RunRecorder(
                self.cassette,
                agent=info.agent_name,
                model=model,
                user_prompt=info.user_prompt,
                message_history=info.message_history,
                streamed=info.streamed,
                deps=deps,
                label=self.label,
                external_tools=self._external_tools,
            )
            self._recorders.append(recorder)
            self._mark_concurrent(key, recorder)
            return recorder
        with self._recording_lock:
            self._unmatched += 1
        raise self._not_recorded(key, info)

    def _mark_concurrent(self, key: RunKey, recorder: RunRecorder) -> None:
        """Mark runs with one identity recorded at the same time: their order in the file means nothing."""
        with self._recording_lock:
            self._recording_keys = [(known, other) for known, other in self._recording_keys if other.running]
            for known, other in self._recording_keys:
                if known == key:
                    other.concurrent = recorder.concurrent = True
            self._recording_keys.append((key, recorder))

    def _not_recorded(self, key: RunKey, info: RunInfo) -> Exception:
        path = self.cassette.path
        what = f"run of agent {info.agent_name!r} with model {key.model} and user prompt {info.user_prompt!r}"
        if self.record_mode == "none" and not self._existed:
            return unrecorded(
                f"{path}: the cassette does not exist and record_mode is 'none', so the {what} cannot be "
                f"replayed. Record it first: {self.advice.record_again('once')}.",
                path=path,
                scrubber=self.cassette.scrubber,
            )
        nearest = self._selector.nearest(key) if self._selector is not None else None
        if nearest is not None:
            mismatch = self._identity_mismatch(nearest, key, info)
            started = {False: "run() or iter()", True: "run_stream()"}
            how = (
                f"The recorded run was started with {started[nearest.streamed]}, this one with "
                f"{started[info.streamed]}.\n"
                if mismatch.field == "streamed"
                else ""
            )
            return divergence(
                path=path,
                run=nearest,
                scrubber=self.cassette.scrubber,
                advice=self.advice,
                node_index=0,
                where="start of the run",
                mismatch=mismatch,
                preamble=f"No unplayed recorded run has the identity of this {what}; "
                f"the nearest one is compared with it.\n{how}",
            )
        recorded = len(self.cassette.runs)
        mode_hint = (
            "record_mode 'once' only records when the file does not exist"
            if self.record_mode == "once"
            else f"record_mode is {self.record_mode!r}"
        )
        return unrecorded(
            f"{path}: no recorded run for the {what}: the cassette holds {recorded} run(s), all already replayed "
            f"in this block, and {mode_hint}. Record it: {self.advice.record_again('new_episodes')} "
            f"(or {self.advice.record_again('rewrite')}).",
            path=path,
            scrubber=self.cassette.scrubber,
        )

    def _identity_mismatch(self, run: RecordedRun, key: RunKey, info: RunInfo) -> Mismatch:
        if run.model != key.model:
            return Mismatch("model", run.model, key.model)
        if run.agent != info.agent_name:
            return Mismatch("agent", run.agent, info.agent_name)
        if self._comparator.text(run.user_prompt) != key.user_prompt:
            return Mismatch("user_prompt", run.user_prompt, info.user_prompt)
        recorded = self._selector.key_of(run) if self._selector is not None else None
        if recorded is not None and recorded.history == key.history:
            if recorded.streamed != key.streamed:
                return Mismatch("streamed", run.streamed, info.streamed)
            if run.deps is not None and key.deps is not None and run.deps != key.deps:
                return Mismatch("deps", run.deps, key.deps)
        return Mismatch("message_history", _history(run.message_history), _history(info.message_history))


def _inner_cassette_takes(session: CassetteSession, info: RunInfo) -> bool:
    """Whether a cassette block nested inside `session`'s is in force for the run: the innermost one takes it.

    So does an interceptor with a true `takes_runs_from_cassettes` attribute (a fork records its run itself).
    """
    stack = info.interceptors
    position = next((index for index, interceptor in enumerate(stack) if interceptor is session), None)
    if position is None:
        return False
    return any(
        isinstance(interceptor, CassetteSession) or getattr(interceptor, "takes_runs_from_cassettes", False)
        for interceptor in stack[position + 1 :]
    )


def _history(messages: Any) -> Any:
    return _drop_timestamps(encode_messages(list(messages))) if messages else []


def _drop_timestamps(value: Any) -> Any:
    if isinstance(value, list):
        return [_drop_timestamps(item) for item in value]
    if isinstance(value, dict):
        return {key: _drop_timestamps(item) for key, item in value.items() if key != "timestamp"}
    return value


@contextmanager
def cassette(
    path: str | os.PathLike[str] | Cassette,
    record_mode: RecordMode = "none",
    *,
    matching: Matching | None = None,
    external_tools: Iterable[str] = (),
    scrub_patterns: Iterable[str | re.Pattern[str]] = (),
    scrubber: Scrubber | None = None,
    before_record: BeforeRecord | None = None,
    label: str | None = None,
    allow_playback_repeats: bool = False,
) -> Iterator[CassetteSession]:
    """Record or replay every agent run started in this block, with the cassette at `path`.

    Args:
        path: the cassette file (`.json` for JSON, YAML otherwise), or a `Cassette` in memory.
        record_mode: `none` (default: replay only), `once`, `new_episodes`, `all` or `rewrite`.
        matching: how live requests are compared with recorded ones (ignored fields, normalizers).
        external_tools: tools with side effects, not called on replay: their recorded return is used.
        scrub_patterns: extra regular expressions for secrets to keep out of the file.
        scrubber: replaces the default `Scrubber` (then `scrub_patterns` is not used).
        before_record: called with each newly recorded run before it is written; may change or drop it.
        label: saved with each recorded run (e.g. the test id); not used for matching.
        allow_playback_repeats: let one recorded run be replayed by any number of live runs.
    """
    store, existed = open_cassette(
        path, record_mode, scrub_patterns=scrub_patterns, scrubber=scrubber, before_record=before_record, lazy=True
    )
    if record_mode == "once" and existed and not any(run.requests for run in store.runs):
        # Every run in the file failed before any model answered (earlier versions recorded such
        # runs): there is nothing to replay, so `once` records again as if the file were absent.
        existed = False
        store.clear()
    session = CassetteSession(
        store,
        record_mode,
        existed=existed,
        matching=matching or Matching(),
        external_tools=frozenset(external_tools),
        label=label,
        allow_playback_repeats=allow_playback_repeats,
    )
    # `intercept_runs` puts the session in force for this context and, while the block is active,
    # for runs started in threads with no interceptor of their own; it unregisters on any exit.
    try:
        with intercept_runs(session):
            yield session
    except Exception:
        _save(session)
        raise
    else:
        _save(session)
        session.check_all_played()


def _save(session: CassetteSession) -> None:
    # Runs that reached no model are not recorded; when every run of the block failed that way the
    # file is left as it was, even in `rewrite` (a block that started no run at all empties it, or
    # with a label drops that label's runs).
    writes = bool(session.recorded_runs) or (session.record_mode == "rewrite" and not session.recorded_anything)
    if writes and session.cassette.path is not None:
        session.cassette.save(
            merge=session.record_mode != "rewrite",
            rerecorded=session.record_mode in ("all", "rewrite"),
            replacing_label=session.label if session.record_mode == "rewrite" else None,
        )
