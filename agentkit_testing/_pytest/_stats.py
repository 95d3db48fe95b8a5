"""What the session's cassettes did (`CassetteStats`, kept in the config's stash), and its way from xdist workers."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from agentkit_testing._pytest._options import MARKER, cassette_path, default_cassette_path

if TYPE_CHECKING:
    from agentkit_testing._secrets import Scrubber
    from agentkit_testing._stale_watch import StaleFindings

PARTIAL_RUN = "only part of the suite ran (-k/-m/node ids/--lf/--deselect)"

stats_key = pytest.StashKey["CassetteStats"]()
stale_key: pytest.StashKey[StaleFindings] = pytest.StashKey()
scrubber_key: pytest.StashKey[Scrubber] = pytest.StashKey()
test_failed_key: pytest.StashKey[bool] = pytest.StashKey()
"""Set when a test failed or was skipped before its teardown: its cassette then skips the unplayed-runs check."""
test_called_key: pytest.StashKey[bool] = pytest.StashKey()
"""Set when a test's call phase ended with a report. A teardown without one (and no failed setup) follows
an interruption (Ctrl-C, `pytest.exit`): pytest then tears fixtures down normally, as if the test had passed."""


@dataclass
class CassetteStats:
    """What the cassettes of this test session did, for the terminal summary."""

    used: set[str] = field(default_factory=set)
    recorded: dict[str, int] = field(default_factory=dict)
    replayed: dict[str, int] = field(default_factory=dict)
    """Per cassette, the runs that replayed as recorded."""
    failed: dict[str, int] = field(default_factory=dict)
    """Per cassette, the runs whose replay failed: they diverged, or no recorded run matched them."""
    expected: dict[str, set[str]] = field(default_factory=dict)
    """Per cassette directory, the cassette file names of every collected test (run or not)."""
    collected: set[str] = field(default_factory=set)
    """Node ids of every test collected, before any selection."""
    partial: set[str] = field(default_factory=set)
    """Why this session did not run the whole suite (empty when it did)."""
    default_users: dict[str, set[str]] = field(default_factory=dict)
    """Per default cassette path, the collected tests whose names make it (more than one: a clash)."""
    kept: set[str] = field(default_factory=set)
    """Real paths of cassette files never to call unused: named by the marker of a collected test
    (which may be skipped), or read or written in the process (`note_opened_cassettes`)."""

    def note_opened_cassettes(self) -> None:
        """Add to `kept` the cassette files read or written in this process, by any API, in any thread."""
        opened: Any = sys.modules.get("agentkit_testing._cassette._opened")
        if opened is not None:  # not imported: no cassette was touched
            self.kept.update(opened.opened_cassettes())

    def to_json(self) -> dict[str, Any]:
        return {
            "used": sorted(self.used),
            "recorded": self.recorded,
            "replayed": self.replayed,
            "failed": self.failed,
            "expected": {directory: sorted(names) for directory, names in self.expected.items()},
            "partial": sorted(self.partial),
            "kept": sorted(self.kept),
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        self.used.update(data["used"])
        for name in ("recorded", "replayed", "failed"):
            mine: dict[str, int] = getattr(self, name)
            for path, count in data.get(name, {}).items():
                mine[path] = mine.get(path, 0) + count
        for directory, names in data["expected"].items():
            self.expected.setdefault(directory, set()).update(names)
        self.partial.update(data.get("partial", ()))
        self.kept.update(data.get("kept", ()))


def pytest_itemcollected(item: pytest.Item) -> None:
    """Note every test as it is collected, before `-k`, `-m`, `--deselect`, `--lf` or a conftest drop any."""
    stats = item.config.stash[stats_key]
    path = default_cassette_path(item)
    stats.expected.setdefault(str(path.parent), set()).add(path.name)
    stats.collected.add(item.nodeid)
    stats.default_users.setdefault(str(path), set()).add(item.nodeid)
    marker = item.get_closest_marker(MARKER)
    if marker is not None and marker.kwargs.get("path"):
        stats.kept.add(os.path.realpath(cassette_path(item, marker)))


def pytest_collection_finish(session: pytest.Session) -> None:
    stats = session.config.stash[stats_key]
    if {item.nodeid for item in session.items} != stats.collected:
        stats.partial.add(PARTIAL_RUN)


class XdistBridge:
    """Carries each xdist worker's cassette statistics to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            stats = self.config.stash[stats_key]
            stats.note_opened_cassettes()
            workeroutput["agentkit_cassettes"] = stats.to_json()
            findings = self.config.stash.get(stale_key, None)
            if findings is not None:
                workeroutput["agentkit_stale_cassettes"] = findings.to_json()

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get("agentkit_cassettes")
        if data is not None:
            self.config.stash[stats_key].merge_json(data)
        stale = getattr(node, "workeroutput", {}).get("agentkit_stale_cassettes")
        if stale is not None:
            from agentkit_testing._stale_watch import StaleFindings

            self.config.stash.setdefault(stale_key, StaleFindings()).merge_json(stale)
