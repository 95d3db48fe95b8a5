"""Errors raised by the agentkit testing harness.

The hierarchy::

    AgentkitError (agentkit)              base of every error agentkit and agentkit_testing raise
    └── CassetteError                     something about a cassette; `path` names the file
        ├── CassetteFormatError(ValueError)   the file cannot be read: corrupt, truncated, unknown
        │                                     version, a field of the wrong shape, or something a
        │                                     cassette may not hold (a code tag, an alias, a duplicate
        │                                     key, a value past the limits) (`line`, `field`)
        ├── UnrecordedRequest             replay needed something the cassette does not hold
        │                                 (a run, a request, an external tool's return)
        ├── UnplayedRuns                  a replaying block ended with recorded runs it never
        │                                 played (`run_ids`): the code stopped calling the agent
        ├── AmbiguousRecording            several recorded runs could replay one live run and the
        │                                 choice matters (`run_ids`): they were recorded concurrently
        ├── UnrecordableMessage           a message of a run cannot be written without a loss (a
        │                                 part kind that does not round-trip): raised when recording
        ├── RuntimeMismatch               a run recorded under one runtime (agentkit, pydantic-ai and
        │                                 its major version) replayed under another (`run_id`)
        ├── ForkError(ValueError)         a recorded run cannot be forked where asked: no such run, a
        │                                 node that is not one of its request nodes (`run_id`,
        │                                 `node_index`)
        └── CassetteDivergence            the live run differs from its recording: names the run,
                                          the node index and the field, with a unified diff

Every message names the cassette file, and where it applies the run, the node index and the
field, and says how to fix it (usually: re-record with another record mode).
"""

from __future__ import annotations

from pathlib import Path

from agentkit import AgentkitError

__all__ = (
    "AmbiguousRecording",
    "CassetteDivergence",
    "CassetteError",
    "CassetteFormatError",
    "ForkError",
    "RuntimeMismatch",
    "UnplayedRuns",
    "UnrecordableMessage",
    "UnrecordedRequest",
)


class CassetteError(AgentkitError):
    """Base class of the harness's cassette errors."""

    path: Path | None
    """The cassette file concerned, when there is one."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        self.path = path
        super().__init__(message)


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file is corrupt, truncated, of an unknown version, or has a malformed field.

    Also raised for what a cassette may never hold (docs/cassette-format.md, "How cassettes are
    parsed"): tags such as `!!python/...`, anchors, aliases and merge keys, duplicate keys, and
    values past the limits (nesting, integer digits, NaN, file size).
    """

    line: int | None
    """The 1-based line of the problem, when it is known."""
    field: str | None
    """The dotted path of the field at fault (e.g. `runs[0].requests[1].response`), when known."""

    def __init__(
        self, message: str, *, path: Path | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.line = line
        self.field = field
        super().__init__(message, path=path)


class UnrecordedRequest(CassetteError):
    """Replay needed a run, a request or a tool return that the cassette does not hold."""


class UnplayedRuns(CassetteError):
    """A replaying `cassette()` block ended while recorded runs were never played.

    `run_ids` names them, in recording order. Allowed with `Matching(allow_unplayed_runs=True)`.
    """

    run_ids: tuple[str, ...]

    def __init__(self, message: str, *, path: Path | None, run_ids: tuple[str, ...]) -> None:
        self.run_ids = run_ids
        super().__init__(message, path=path)


class AmbiguousRecording(CassetteError):
    """Recorded runs with the same identity, recorded concurrently, differ: which one replays a live run is unknown.

    `run_ids` names them, in recording order.
    """

    run_ids: tuple[str, ...]

    def __init__(self, message: str, *, path: Path | None, run_ids: tuple[str, ...]) -> None:
        self.run_ids = run_ids
        super().__init__(message, path=path)


class UnrecordableMessage(CassetteError):
    """A message of a run being recorded would not come back the same from the cassette; nothing is written for it."""


class RuntimeMismatch(CassetteError):
    """A run recorded under one runtime (or major version of it) was picked to replay a run of another.

    `run_id` names the recorded run.
    """

    run_id: str

    def __init__(self, message: str, *, path: Path | None, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(message, path=path)


class ForkError(CassetteError, ValueError):
    """A recorded run cannot be forked at the node asked: the run is unknown, was streamed or recorded by
    another agent, the node is not one of its `ModelRequestNode`s, or the run ended before reaching it.

    `run_id` and `node_index` name the run and the fork point asked for.
    """

    run_id: str
    node_index: int

    def __init__(self, message: str, *, path: Path | None, run_id: str, node_index: int) -> None:
        self.run_id = run_id
        self.node_index = node_index
        super().__init__(message, path=path)


class CassetteDivergence(CassetteError):
    """A live run differs from its recording.

    Attributes say where: `run_id`, `node_index`, `field`; `expected` and `actual` are the
    recorded and live values as text, `diff` a unified diff between them.
    """

    run_id: str
    node_index: int
    field: str
    expected: str
    actual: str
    diff: str

    def __init__(
        self,
        message: str,
        *,
        path: Path | None,
        run_id: str,
        node_index: int,
        field: str,
        expected: str,
        actual: str,
        diff: str,
    ) -> None:
        self.run_id = run_id
        self.node_index = node_index
        self.field = field
        self.expected = expected
        self.actual = actual
        self.diff = diff
        super().__init__(message, path=path)
