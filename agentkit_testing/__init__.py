"""agentkit_testing: record agent runs to cassettes, replay them offline, and test them.

- `cassette(path, record_mode)`: record or replay every agent run in a block.
- `RecordingModel` / `ReplayModel`: the same, explicitly, around one model.
- `capture_runs()`: the runs made in a block, with their messages.
- `fork(cassette, agent=..., run=..., at_node=N)`: replay a recorded run up to node N, continue it live.
- `serialize_run()` and `AgentRunSnapshotExtension` (syrupy): readable node-sequence snapshots.
- `agentkit_testing.strategies`: hypothesis strategies for tool arguments and tool-call flows.
- The pytest plugin (loaded automatically) gives fixtures and `--agentkit-record-mode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit_testing._capture import CapturedRun, CapturedRuns, capture_runs
from agentkit_testing._cassette._context import CassetteSession, cassette
from agentkit_testing._cassette._file import BeforeRecord, Cassette
from agentkit_testing._cassette._records import (
    ForkPoint,
    RecordedError,
    RecordedRequest,
    RecordedResult,
    RecordedRun,
    RecordedToolCall,
    RecordMode,
)
from agentkit_testing._exceptions import (
    AmbiguousRecording,
    CassetteDivergence,
    CassetteError,
    CassetteFormatError,
    ForkError,
    RuntimeMismatch,
    UnplayedRuns,
    UnrecordableMessage,
    UnrecordedRequest,
)
from agentkit_testing._fork import ForkResult, fork, fork_sync
from agentkit_testing._hypothesis._scripted import (
    ScriptedModel,
    ScriptedRun,
    probe_agent_info,
    replay_example,
    run_scripted,
)
from agentkit_testing._matching import Matching, Normalizer, normalize_datetimes, normalize_uuids, replace_pattern
from agentkit_testing._recorder import RecordingModel
from agentkit_testing._replay import ReplayModel
from agentkit_testing._run_text import serialize_run
from agentkit_testing._secrets import DEFAULT_SECRET_PATTERNS, Scrubber
from agentkit_testing._vcr import vcr_config

if TYPE_CHECKING:
    from agentkit_testing._snapshot import AgentRunSnapshotExtension

__all__ = (
    "AgentRunSnapshotExtension",
    "AmbiguousRecording",
    "BeforeRecord",
    "CapturedRun",
    "CapturedRuns",
    "Cassette",
    "CassetteDivergence",
    "CassetteError",
    "CassetteFormatError",
    "CassetteSession",
    "DEFAULT_SECRET_PATTERNS",
    "ForkError",
    "ForkPoint",
    "ForkResult",
    "Matching",
    "Normalizer",
    "RecordMode",
    "RecordedError",
    "RecordedRequest",
    "RecordedResult",
    "RecordedRun",
    "RecordedToolCall",
    "RecordingModel",
    "ReplayModel",
    "RuntimeMismatch",
    "ScriptedModel",
    "ScriptedRun",
    "Scrubber",
    "UnplayedRuns",
    "UnrecordableMessage",
    "UnrecordedRequest",
    "capture_runs",
    "cassette",
    "fork",
    "fork_sync",
    "normalize_datetimes",
    "normalize_uuids",
    "probe_agent_info",
    "replace_pattern",
    "replay_example",
    "run_scripted",
    "serialize_run",
    "vcr_config",
)


def __getattr__(name: str) -> Any:
    # syrupy is imported only by the snapshot module, and only when the extension is asked for.
    if name == "AgentRunSnapshotExtension":
        from agentkit_testing._snapshot import AgentRunSnapshotExtension

        return AgentRunSnapshotExtension
    raise AttributeError(f"module 'agentkit_testing' has no attribute {name!r}")
