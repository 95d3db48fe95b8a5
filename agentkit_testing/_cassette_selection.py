"""Which recorded run replays which live run: by identity, in recording order, whatever the arrival order."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from agentkit import ModelMessage
from agentkit_testing._cassette_records import RecordedRun
from agentkit_testing._matching import Comparator, RunKey

__all__ = ("RunSelector",)


class RunSelector:
    """Hands each live run the first unplayed recorded run with the same identity.

    The identity (`RunKey`) is the agent name, the model, the user prompt and a fingerprint of
    the message history. Concurrent runs therefore find their own recordings whatever order they
    start in; runs with equal identities replay in the order they were recorded.

    Args:
        runs: the recorded runs.
        comparator: normalizes prompts and histories the way requests are compared.
        repeats: let a recorded run be played any number of times (vcrpy's `allow_playback_repeats`).
    """

    def __init__(self, runs: Sequence[RecordedRun], comparator: Comparator, *, repeats: bool = False) -> None:
        self._runs = tuple(runs)
        self._comparator = comparator
        self._repeats = repeats
        self._played: set[str] = set()
        self._lock = threading.Lock()
        self._by_key: dict[RunKey, list[RecordedRun]] = {}
        for run in self._runs:
            key = comparator.run_key(run.agent, run.model, run.user_prompt, run.message_history)
            self._by_key.setdefault(key, []).append(run)

    def claim(self, key: RunKey) -> RecordedRun | None:
        """The recorded run to replay for a live run with `key`, marked as played; `None` if there is none."""
        with self._lock:
            return self._first_unplayed(self._by_key.get(key, ()))

    def claim_by_prompt(self, user_prompt: str, history: Sequence[ModelMessage]) -> RecordedRun | None:
        """Like `claim`, for callers that know neither the agent nor the model (a bare `ReplayModel`)."""
        prompt = self._comparator.text(user_prompt)
        fingerprint = self._comparator.fingerprint(history)
        with self._lock:
            candidates = [
                run
                for key, runs in self._by_key.items()
                if key.user_prompt == prompt and key.history == fingerprint
                for run in runs
            ]
            candidates.sort(key=self._runs.index)
            return self._first_unplayed(candidates)

    def _first_unplayed(self, candidates: Sequence[RecordedRun]) -> RecordedRun | None:
        for run in candidates:
            if self._repeats or run.id not in self._played:
                self._played.add(run.id)
                return run
        return None

    def unplayed(self) -> list[RecordedRun]:
        """Recorded runs no live run has replayed, in recording order."""
        with self._lock:
            return [run for run in self._runs if run.id not in self._played]

    def played(self) -> list[RecordedRun]:
        with self._lock:
            return [run for run in self._runs if run.id in self._played]

    def nearest(self, key: RunKey) -> RecordedRun | None:
        """The unplayed recorded run most like `key` (same agent and model first), to explain a mismatch."""
        candidates = self.unplayed()
        for same_agent, same_model in ((True, True), (True, False), (False, True)):
            for run in candidates:
                if (not same_agent or run.agent == key.agent) and (not same_model or run.model == key.model):
                    return run
        return candidates[0] if candidates else None
