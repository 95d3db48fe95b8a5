"""The terminal summary: cassettes used, runs recorded, replayed and failed, unused and stale cassettes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentkit_testing._pytest._stats import PARTIAL_RUN, CassetteStats, stale_key, stats_key


def _unused_cassettes(stats: CassetteStats) -> list[Path]:
    unused = []
    for directory, expected in stats.expected.items():
        folder = Path(directory)
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json")):
            if (
                candidate.name not in expected
                and str(candidate) not in stats.used
                and os.path.realpath(candidate) not in stats.kept
                and _is_agentkit_cassette(candidate)
            ):
                unused.append(candidate)
    return unused


def _is_agentkit_cassette(path: Path) -> bool:
    """Only files that declare the agentkit cassette format are ever reported or deleted."""
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return b"agentkit-cassette" in head


def unused_unknown_because(config: pytest.Config, exitstatus: int, stats: CassetteStats) -> str | None:
    """Why this session cannot tell which cassettes are unused, or `None` when it can.

    As syrupy decides for snapshots: only a session that ran every collected test (no `-k`, `-m`,
    node ids, `--deselect`, `--lf`, `--sw`, nor tests dropped by a conftest) and passed can say
    that a cassette belongs to no test. Anything less and a cassette may belong to a test that
    did not run.
    """
    if config.getoption("collectonly", False):
        return "no test ran (--collect-only)"
    if (
        stats.partial
        or any("::" in str(argument) for argument in config.args)
        or config.getoption("lf", False)
        or config.getoption("stepwise", False)
        or config.getoption("stepwise_skip", False)
    ):
        return PARTIAL_RUN
    if exitstatus != 0:
        return f"the session did not pass (exit status {int(exitstatus)})"
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # xdist workers report to the controller, which prints the summary
    stats = config.stash[stats_key]
    delete = bool(config.getoption("--agentkit-delete-unused-cassettes"))
    unknown = unused_unknown_because(config, exitstatus, stats)
    if unknown is None:
        stats.note_opened_cassettes()
    unused = _unused_cassettes(stats) if unknown is None else []
    if not (stats.used or unused or delete):
        return
    root = Path(str(config.rootpath))
    terminalreporter.section("agentkit cassettes")
    recorded = sum(stats.recorded.values())
    replayed = sum(stats.replayed.values())
    failed = sum(stats.failed.values())
    line = f"{len(stats.used)} cassette(s) used: {recorded} run(s) recorded, {replayed} run(s) replayed"
    terminalreporter.write_line(line + (f", {failed} replay(s) failed" if failed else ""))
    for used in sorted(stats.used):
        if stats.recorded.get(used):
            terminalreporter.write_line(f"  recorded {stats.recorded[used]} run(s) to {_relative(used, root)}")
        if stats.failed.get(used):
            terminalreporter.write_line(
                f"  {stats.failed[used]} replay(s) failed in {_relative(used, root)} "
                "(diverged, or no recorded run matched)"
            )
    if unknown is not None:
        terminalreporter.write_line(f"unused cassettes not checked: {unknown}")
    if unused:
        verb = "deleted" if delete else "unused"
        terminalreporter.write_line(f"{len(unused)} cassette(s) {verb}:")
        for path in unused:
            terminalreporter.write_line(f"  {_relative(str(path), root)}")
            if delete:
                path.unlink(missing_ok=True)
        if not delete:
            terminalreporter.write_line("  (delete them with --agentkit-delete-unused-cassettes)")


class StaleSummary:
    """The terminal summary's section on the replayed cassettes whose agent definition changed since recording."""

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        findings = config.stash.get(stale_key, None)
        if hasattr(config, "workerinput") or findings is None:
            return  # xdist workers send their findings to the controller, which prints them
        root = Path(str(config.rootpath))
        lines = findings.summary_lines(lambda path: _relative(path, root))
        if lines:
            terminalreporter.section("agentkit stale cassettes")
            for line in lines:
                terminalreporter.write_line(line)


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
