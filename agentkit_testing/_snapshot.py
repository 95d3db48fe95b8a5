"""A syrupy extension that snapshots an agent run as readable text, one block per node.

    from agentkit_testing import AgentRunSnapshotExtension

    def test_weather(snapshot):
        result = agent.run_sync("Weather in Paris?")
        assert result == snapshot(extension_class=AgentRunSnapshotExtension)

Each run is stored in its own file, `__snapshots__/<test file>/<test name>.run.txt`, in the form
`serialize_run` gives (tool-call ids renumbered, timestamps left out), so a snapshot only changes
when the run does. On a mismatch the report first names the node where the runs part.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from agentkit_testing._run_text import NODE_HEADER, TOP_LEVEL_LINE, serialize_run

__all__ = ("AgentRunSnapshotExtension", "first_changed_node")


class AgentRunSnapshotExtension(SingleFileSnapshotExtension):
    """Snapshots an `AgentRun`, a `RunResult`, or a list of nodes or messages as text (pydantic-ai's too)."""

    _write_mode = WriteMode.TEXT
    file_extension = "run.txt"

    def serialize(self, data: Any, *, exclude: Any = None, include: Any = None, matcher: Any = None) -> str:
        if isinstance(data, str):  # already serialized, e.g. a snapshot read back for a diff
            return data
        if type(data).__module__.startswith("pydantic_ai") or (
            isinstance(data, list) and data and type(data[0]).__module__.startswith("pydantic_ai")
        ):
            # A run of an agent built on pydantic-ai: the adapter (and pydantic_ai) only load for such data.
            from agentkit_testing.pydantic_ai._snapshot import serialize_pydantic_ai_run

            return serialize_pydantic_ai_run(data)
        return serialize_run(data)

    def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
        changed = first_changed_node(str(snapshot_data), str(serialized_data))
        if changed:
            yield changed
        yield from super().diff_lines(serialized_data, snapshot_data)


def first_changed_node(snapshot: str, received: str) -> str | None:
    """A line naming the first node whose block differs between two run texts, or None if none does."""
    old, new = _blocks(snapshot), _blocks(received)
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before == after:
            continue
        if before is None or after is None:
            where = "only in the snapshot" if after is None else "only in this run"
            return f"first difference at {_name(before if after is None else after)}: {where}"
        if _name(before) == _name(after):
            return f"first difference at {_name(before)}"
        return f"first difference at block {index}: the snapshot has {_name(before)}, this run has {_name(after)}"
    return None


def _blocks(text: str) -> list[str]:
    """The text cut into blocks, each starting at an unindented line: a node header, or the usage line."""
    starts = [match.start() for match in TOP_LEVEL_LINE.finditer(text)]
    cuts = [*starts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(cuts)]


def _name(block: str | None) -> str:
    match = NODE_HEADER.match(block or "")
    if match:
        return f"node [{match.group(1)}] {match.group(2)}"
    return "the usage line" if (block or "").startswith("usage:") else "the end of the run"
