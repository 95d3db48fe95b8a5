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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from agentkit_testing._snapshot import AgentRunSnapshotExtension
    from agentkit_testing._vcr import vcr_config

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

_LAZY_MODULES = {
    "AgentRunSnapshotExtension": "agentkit_testing._snapshot",
    "AmbiguousRecording": "agentkit_testing._exceptions",
    "BeforeRecord": "agentkit_testing._cassette._file",
    "CapturedRun": "agentkit_testing._capture",
    "CapturedRuns": "agentkit_testing._capture",
    "Cassette": "agentkit_testing._cassette._file",
    "CassetteDivergence": "agentkit_testing._exceptions",
    "CassetteError": "agentkit_testing._exceptions",
    "CassetteFormatError": "agentkit_testing._exceptions",
    "CassetteSession": "agentkit_testing._cassette._context",
    "DEFAULT_SECRET_PATTERNS": "agentkit_testing._secrets",
    "ForkError": "agentkit_testing._exceptions",
    "ForkPoint": "agentkit_testing._cassette._records",
    "ForkResult": "agentkit_testing._fork",
    "Matching": "agentkit_testing._matching",
    "Normalizer": "agentkit_testing._matching",
    "RecordMode": "agentkit_testing._cassette._records",
    "RecordedError": "agentkit_testing._cassette._records",
    "RecordedRequest": "agentkit_testing._cassette._records",
    "RecordedResult": "agentkit_testing._cassette._records",
    "RecordedRun": "agentkit_testing._cassette._records",
    "RecordedToolCall": "agentkit_testing._cassette._records",
    "RecordingModel": "agentkit_testing._recorder",
    "ReplayModel": "agentkit_testing._replay",
    "RuntimeMismatch": "agentkit_testing._exceptions",
    "ScriptedModel": "agentkit_testing._hypothesis._scripted",
    "ScriptedRun": "agentkit_testing._hypothesis._scripted",
    "Scrubber": "agentkit_testing._secrets",
    "UnplayedRuns": "agentkit_testing._exceptions",
    "UnrecordableMessage": "agentkit_testing._exceptions",
    "UnrecordedRequest": "agentkit_testing._exceptions",
    "capture_runs": "agentkit_testing._capture",
    "cassette": "agentkit_testing._cassette._context",
    "fork": "agentkit_testing._fork",
    "fork_sync": "agentkit_testing._fork",
    "normalize_datetimes": "agentkit_testing._matching",
    "normalize_uuids": "agentkit_testing._matching",
    "probe_agent_info": "agentkit_testing._hypothesis._scripted",
    "replace_pattern": "agentkit_testing._matching",
    "replay_example": "agentkit_testing._hypothesis._scripted",
    "run_scripted": "agentkit_testing._hypothesis._scripted",
    "serialize_run": "agentkit_testing._run_text",
    "vcr_config": "agentkit_testing._vcr",
}
"""Each public name's module, imported at the name's first access.

So `import agentkit_testing`, and the pytest plugin (a submodule, whose import runs this file),
load none of the harness, pydantic, YAML or syrupy until a name is used.
"""


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'agentkit_testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
