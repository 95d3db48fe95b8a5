"""Which recorded run replays which live run: by whole identity, whatever the arrival order, never by a guess."""

from __future__ import annotations

import operator
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
_USER_PROMPT = operator.attrgetter("user_prompt")


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

    Identities are computed when first needed, not at the start: normalizing the prompt of every
    run of a 10,000-run cassette costs a sizeable part of loading it, and a block often replays a
    few of its runs. A live run's prompt as compared (`Comparator.text`) that no other text
    normalizes to (no normalizers, no redaction marker in it) can only be the compared prompt of
    runs recorded with that very text: only those are looked at. Any other prompt (normalizers in
    use, a secret scrubbed out of it) indexes every run by its identity once, as before.

    Args:
        runs: the recorded runs.
        comparator: normalizes prompts and histories the way requests are compared.
        repeats: let a recorded run be played any number of times (vcrpy's `allow_playback_repeats`).
        path: the cassette file, for messages.
        identity: the identity of a recorded run, where the default (its agentkit fields) does not fit
            (runs of another runtime, whose history is in that runtime's shape). It must keep the
            run's agent and model as they are and give its prompt as `comparator.text` does.
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
        self._identity = identity
        self._played: set[str] = set()
        self._lock = threading.Lock()
        self._keys: dict[str, RunKey] = {}
        """Identities as matched, computed when first needed: normalizing every prompt of a big
        cassette costs more than loading it, and a block usually replays few of its runs."""
        self._by_text: dict[tuple[str | None, str, str], list[RecordedRun]] | None = None
        self._text_scanned = False
        self._by_prompt_text: dict[str, list[RecordedRun]] | None = None
        self._by_key: dict[RunKey, list[RecordedRun]] | None = None
        self._by_prompt: dict[tuple[str, str | None], list[RecordedRun]] | None = None

    def key_of(self, run: RecordedRun) -> RunKey:
        """The identity of a recorded run, as matched."""
        key = self._keys.get(run.id)
        if key is None:
            if self._identity is not None:
                key = self._identity(run)
            else:
                key = self._comparator.run_key(
                    run.agent, run.model, run.user_prompt, run.message_history, streamed=run.streamed, deps=run.deps
                )
            self._keys[run.id] = key
        return key

    def claim(self, key: RunKey) -> RecordedRun | None:
        """The recorded run to replay for a live run with `key`, marked as played; `None` if there is none."""
        wanted = _without_deps(key)
        with self._lock:
            if self._comparator.only_itself_normalizes_to(key.user_prompt):
                # Only runs recorded with this very prompt can have it as their compared prompt.
                group = self._recorded_with(key.agent, key.model, key.user_prompt)
                group = [run for run in group if _without_deps(self.key_of(run)) == wanted]
            else:
                group = self._index()[0].get(wanted, [])
            return self._first_unplayed([run for run in group if _same_deps(self.key_of(run).deps, key.deps)])

    def claim_by_prompt(self, user_prompt: str, history: Sequence[ModelMessage]) -> RecordedRun | None:
        """Like `claim`, for callers that know neither the agent, the model nor the deps (a bare `ReplayModel`)."""
        prompt = self._comparator.text(user_prompt)
        fingerprint = self._comparator.fingerprint(history)
        with self._lock:
            if self._comparator.only_itself_normalizes_to(prompt):
                if self._by_prompt_text is None:
                    self._by_prompt_text = {}
                    for run in self._runs:
                        self._by_prompt_text.setdefault(run.user_prompt, []).append(run)
                candidates = [
                    run
                    for run in self._by_prompt_text.get(prompt, ())
                    if self.key_of(run).user_prompt == prompt and self.key_of(run).history == fingerprint
                ]
            else:
                candidates = self._index()[1].get((prompt, fingerprint), [])
            return self._first_unplayed(candidates)

    def _recorded_with(self, agent: str | None, model: str, user_prompt: str) -> list[RecordedRun]:
        """The recorded runs of `agent` and `model` started with this very prompt text, in recording order.

        The first lookup compares the prompts (in C) instead of indexing the runs by their text:
        a block that records one new run into a big cassette never needs the index, which costs
        several times the comparison (a hash of every prompt). The index is built at the next lookup.
        """
        if self._by_text is None:
            if not self._text_scanned:
                self._text_scanned = True
                if user_prompt not in map(_USER_PROMPT, self._runs):
                    return []
            self._by_text = {}
            for run in self._runs:
                self._by_text.setdefault((run.agent, run.model, run.user_prompt), []).append(run)
        return self._by_text.get((agent, model, user_prompt), [])

    def _index(
        self,
    ) -> tuple[dict[RunKey, list[RecordedRun]], dict[tuple[str, str | None], list[RecordedRun]]]:
        """Every recorded run by its identity without deps, and by its prompt and history (made once, when needed)."""
        if self._by_key is None or self._by_prompt is None:
            self._by_key, self._by_prompt = {}, {}
            for run in self._runs:
                key = self.key_of(run)
                self._by_key.setdefault(_without_deps(key), []).append(run)
                self._by_prompt.setdefault((key.user_prompt, key.history), []).append(run)
        return self._by_key, self._by_prompt

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
            recorded = self.key_of(run)
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
