"""Stale cassettes under pytest: each replayed run's live first request, checked against its recording.

The pytest plugin cannot import the agents of a test suite, but it does not need to: every run a
test replays shows its agent's definition (system prompts, tools and their schemas, result tools,
settings, model) in its first request. `DefinitionWatch` sits inside a cassette block, sees that
request on its way to the `ReplayModel` and compares it with the recorded first request, with the
rules of `agentkit cassette check` (`_stale`). Runs are checked even when matching ignores what
changed (`Matching(ignore=...)`), which is when a passing test hides an outdated cassette.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from agentkit import ModelMessage, ModelResponse, ModelSettings, RunInfo, RunObserver, Usage
from agentkit.models import Model, ModelRequestParameters, StreamedResponse, WrapperModel
from agentkit_testing._cassette._records import RecordedRun, model_id
from agentkit_testing._replay import ReplayModel
from agentkit_testing._stale import CassetteCheck, RunCheck, check_run, request_definition

__all__ = ("DefinitionWatch", "StaleFindings")

_NO_REQUEST = "the run ended before its first model request in this session, so it could not be compared"


class DefinitionWatch:
    """A run interceptor, installed inside a cassette block: checks each replayed run's first request.

    `checks` holds one `RunCheck` a replayed run, in the order the runs started.
    """

    def __init__(self) -> None:
        self.checks: list[RunCheck] = []

    def start_run(self, info: RunInfo) -> RunObserver:
        return _WatchObserver(self, model_id(info.model))


class _WatchObserver(RunObserver):
    def __init__(self, watch: DefinitionWatch, live_model: str) -> None:
        self._watch = watch
        self._live_model = live_model
        self._run: RecordedRun | None = None
        self._checked = False

    def wrap_model(self, model: Model) -> Model:
        if not isinstance(model, ReplayModel) or model.recorded_run is None:
            return model  # recorded (fresh by definition) or not a cassette run
        self._run = model.recorded_run
        return _FirstRequestWatch(model, self)

    def check(
        self, messages: list[ModelMessage], settings: ModelSettings | None, parameters: ModelRequestParameters
    ) -> None:
        if self._checked or self._run is None:
            return
        self._checked = True
        live = request_definition(
            messages,
            settings,
            function_tools=parameters.function_tools,
            result_tools=parameters.result_tools,
            allow_text_result=parameters.allow_text_result,
            model=self._live_model,
        )
        self._watch.checks.append(check_run(self._run, live))

    def on_end(self, result: Any, error: BaseException | None) -> None:
        if self._run is not None and not self._checked:
            self._watch.checks.append(RunCheck(self._run.id, "unknown", (_NO_REQUEST,)))


class _FirstRequestWatch(WrapperModel):
    """Passes every request to the `ReplayModel` it wraps, showing the first one to the watch on the way."""

    def __init__(self, replay: ReplayModel, observer: _WatchObserver) -> None:
        super().__init__(replay)
        self._observer = observer

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        self._observer.check(messages, model_settings, model_request_parameters)
        return await super().request(messages, model_settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        self._observer.check(messages, model_settings, model_request_parameters)
        async with super().request_stream(messages, model_settings, model_request_parameters) as streamed:
            yield streamed


@dataclass
class StaleFindings:
    """What the session's watches found, per cassette file: one check per recorded run (the worst seen)."""

    by_path: dict[str, dict[str, RunCheck]] = field(default_factory=dict)

    def add(self, path: str, checks: Iterable[RunCheck]) -> None:
        """Note the checks of runs replayed from `path` (none: it only recorded, nothing to say)."""
        for check in checks:
            runs = self.by_path.setdefault(path, {})
            known = runs.get(check.run_id)
            if known is None or _rank(check) > _rank(known):
                runs[check.run_id] = check

    def cassettes(self) -> list[CassetteCheck]:
        """Every cassette checked, in path order, its runs in id order."""
        return [
            CassetteCheck(path, tuple(runs[run_id] for run_id in sorted(runs, key=_run_order)))
            for path, runs in sorted(self.by_path.items())
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            path: [{"run_id": c.run_id, "status": c.status, "changes": list(c.changes)} for c in runs.values()]
            for path, runs in self.by_path.items()
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        for path, checks in data.items():
            self.add(path, [RunCheck(c["run_id"], c["status"], tuple(c["changes"])) for c in checks])

    def summary_lines(self, relative: Any) -> list[str]:
        """The terminal summary's lines (none when every replayed cassette is fresh); `relative` shortens paths."""
        cassettes = self.cassettes()
        flagged = [cassette for cassette in cassettes if cassette.status != "fresh"]
        if not flagged:
            return []
        stale = sum(cassette.status == "stale" for cassette in flagged)
        lines = [
            f"{stale} of {len(cassettes)} cassette(s) replayed in this session were recorded with another agent "
            "definition (system prompts, tools, result tools, model, settings)"
            + (f"; {len(flagged) - stale} could not be checked" if len(flagged) > stale else "")
            + ":"
        ]
        for cassette in flagged:
            lines.append(f"{cassette.status:<8}{relative(cassette.path)}")
            for run in cassette.runs:
                for change in run.changes if run.status != "fresh" else ():
                    lines.append(f"    {run.run_id}: " + change.rstrip("\n").replace("\n", "\n      "))
        if stale:
            lines.append(
                "Record them again (--agentkit-record-mode=rewrite) so replay tests the agent as it is now; "
                "replay may pass meanwhile when matching ignores what changed."
            )
        return lines


def _rank(check: RunCheck) -> int:
    return {"fresh": 0, "unknown": 1, "stale": 2}[check.status]


def _run_order(run_id: str) -> tuple[int, str]:
    number = run_id.rpartition("-")[2]
    return (int(number), run_id) if number.isdigit() else (1 << 30, run_id)
