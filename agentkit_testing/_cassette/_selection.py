"""Which recorded run replays which live run: by whole identity, whatever the arrival order, never by a guess."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentkit import ModelMessage
from agentkit_testing._cassette._codec import encode_run
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._divergence import UNKNOWN_CONTEXT, RecordAdvice, describe_run
from agentkit_testing._exceptions import AmbiguousRecording, UnplayedRuns
from agentkit_testing._matching import Comparator, RunKey, same_json

__all__ = ("RunSelector",)

_NAMED_UNPLAYED = 10


class RunSelector:
    """Hands each live run the first unplayed recorded run with the same identity.

    The identity (`RunKey`) is the agent name, the model, the user prompt, a fingerprint of the
    message history, whether the run was started with `run_stream()`, and the identity of its deps
    (a recorded run without one, from an older cassette, matches any deps). Concurrent runs
    therefore find their own recordings whatever order they start in. Runs with equal identities
    replay in the order they were recorded, which is the order the code started them when they ran
    one after the other; when they were recorded concurrently (`RecordedRun.concurrent`) that order
    means nothing, so unless their recordings are the same (and the choice does not matter) the
    claim raises `AmbiguousRecording` rather than guess.

    Args:
        runs: the recorded runs.
        comparator: normalizes prompts and histories the way requests are compared.
        repeats: let a recorded run be played any number of times (vcrpy's `allow_playback_repeats`).
        path: the cassette file, for messages.
        identity: the identity of a recorded run, where the default (its agentkit fields) does not fit
            (runs of another runtime, whose history is in that runtime's shape).
        advice: how its errors tell the user to record again.
    """

    def __init__(
        self,
        runs: Sequence[RecordedRun],
        comparator: Comparator,
        *,
        repeats: bool = False,
        path: Path | None = None,
        identity: Callable[[RecordedRun], RunKey] | None = None,
        advice: RecordAdvice = UNKNOWN_CONTEXT,
    ) -> None:
        self._runs = tuple(runs)
        self._advice = advice
        self._comparator = comparator
        self._repeats = repeats
        self._path = path
        self._played: set[str] = set()
        self._lock = threading.Lock()
        self._keys: dict[str, RunKey] = {}
        self._by_key: dict[RunKey, list[RecordedRun]] = {}
        self._by_prompt: dict[tuple[str, str | None], list[RecordedRun]] = {}
        for run in self._runs:
            key = (
                identity(run)
                if identity is not None
                else comparator.run_key(
                    run.agent, run.model, run.user_prompt, run.message_history, streamed=run.streamed, deps=run.deps
                )
            )
            self._keys[run.id] = key
            self._by_key.setdefault(_without_deps(key), []).append(run)
            self._by_prompt.setdefault((key.user_prompt, key.history), []).append(run)

    def key_of(self, run: RecordedRun) -> RunKey:
        """The identity of a recorded run, as matched."""
        return self._keys[run.id]

    def claim(self, key: RunKey) -> RecordedRun | None:
        """The recorded run to replay for a live run with `key`, marked as played; `None` if there is none."""
        with self._lock:
            group = self._by_key.get(_without_deps(key), ())
            return self._first_unplayed([run for run in group if _same_deps(self._keys[run.id].deps, key.deps)])

    def claim_by_prompt(self, user_prompt: str, history: Sequence[ModelMessage]) -> RecordedRun | None:
        """Like `claim`, for callers that know neither the agent, the model nor the deps (a bare `ReplayModel`)."""
        prompt = self._comparator.text(user_prompt)
        fingerprint = self._comparator.fingerprint(history)
        with self._lock:
            return self._first_unplayed(self._by_prompt.get((prompt, fingerprint), ()))

    def _first_unplayed(self, candidates: Sequence[RecordedRun]) -> RecordedRun | None:
        unplayed = [run for run in candidates if self._repeats or run.id not in self._played]
        if not unplayed:
            return None
        chosen = unplayed[0]
        if chosen.concurrent:
            rivals = [run for run in unplayed[1:] if run.concurrent and not self._same_recording(chosen, run)]
            if rivals:
                raise self._ambiguity(chosen, rivals)
        self._played.add(chosen.id)
        return chosen

    def _same_recording(self, first: RecordedRun, second: RecordedRun) -> bool:
        """Whether two runs recorded the same thing (ids, labels and timestamps aside)."""
        return same_json(self._content(first), self._content(second))

    def _content(self, run: RecordedRun) -> Any:
        plain = encode_run(run)
        for volatile in ("id", "label"):
            plain.pop(volatile, None)
        return self._comparator.normalize(plain)

    def _ambiguity(self, chosen: RecordedRun, rivals: list[RecordedRun]) -> AmbiguousRecording:
        runs = [chosen, *rivals]
        cassette = str(self._path) if self._path is not None else "an in-memory cassette"
        named = "; ".join(describe_run(run) for run in runs)
        return AmbiguousRecording(
            f"Replay of {cassette} cannot tell which recorded run a live run replays: {named} have the same "
            "identity (agent, model, prompt, history, streamed flag, deps), were recorded while the other was "
            "running, so their order in the file says nothing, and they recorded different things. Make the "
            "concurrent runs distinguishable (different deps, prompt or agent name) or start them one after the "
            f"other, then record the cassette again ({self._advice.record_again('rewrite')}).",
            path=self._path,
            run_ids=tuple(run.id for run in runs),
        )

    def unplayed(self) -> list[RecordedRun]:
        """Recorded runs no live run has replayed, in recording order."""
        with self._lock:
            return [run for run in self._runs if run.id not in self._played]

    def check_all_played(self, record_mode: str, label: str | None = None, *, foreign: bool = False) -> None:
        """Raise `UnplayedRuns` naming the recorded runs no live run replayed, if there are any.

        With a `label` (the block's, e.g. a test id), only runs with that label or none are checked:
        runs another block recorded into a shared cassette are that block's to play. Only agentkit
        runs are checked, or with `foreign` only runs of another runtime (`RecordedRun.runtime`):
        each runtime's block answers for its own runs of a cassette holding both.
        """
        unplayed = [
            run
            for run in self.unplayed()
            if (label is None or run.label in (None, label)) and (run.runtime is not None) == foreign
        ]
        if not unplayed:
            return
        cassette = str(self._path) if self._path is not None else "an in-memory cassette"
        count, total = len(unplayed), len(self._runs)
        verb = "was" if count == 1 else "were"
        named = "".join(f"  - {describe_run(run)}\n" for run in unplayed[:_NAMED_UNPLAYED])
        if count > _NAMED_UNPLAYED:
            named += f"  ... and {count - _NAMED_UNPLAYED} more\n"
        raise UnplayedRuns(
            f"Replay of {cassette}: {count} of the {total} recorded runs {verb} never played in this cassette "
            f"block (record_mode {record_mode!r}): the code under test no longer starts them.\n{named}"
            f"If the change is intended, record the cassette again ({self._advice.record_again('rewrite')}); "
            "if several blocks or tests share this cassette and each plays only "
            "some of its runs, allow it with Matching(allow_unplayed_runs=True).",
            path=self._path,
            run_ids=tuple(run.id for run in unplayed),
        )

    def played(self) -> list[RecordedRun]:
        with self._lock:
            return [run for run in self._runs if run.id in self._played]

    def nearest(self, key: RunKey) -> RecordedRun | None:
        """The unplayed recorded run whose identity shares most fields with `key`, to explain a mismatch."""
        best: RecordedRun | None = None
        best_score = -1
        for run in self.unplayed():
            recorded = self._keys[run.id]
            score = sum(
                (
                    4 * (recorded.agent == key.agent),
                    4 * (recorded.model == key.model),
                    2 * (recorded.user_prompt == key.user_prompt),
                    recorded.history == key.history,
                    recorded.streamed == key.streamed,
                    _same_deps(recorded.deps, key.deps),
                )
            )
            if score > best_score:
                best, best_score = run, score
        return best


def _without_deps(key: RunKey) -> RunKey:
    """The key runs are grouped by: deps are compared within a group, where unknown deps match any."""
    return RunKey(key.agent, key.model, key.user_prompt, key.history, key.streamed)


def _same_deps(recorded: str | None, live: str | None) -> bool:
    """Deps match when equal, or when either is unknown (an older cassette) or ignored (`None`)."""
    return recorded is None or live is None or recorded == live
