"""The agentkit pytest plugin, registered through the `pytest11` entry point.

What it gives a test suite, with nothing to import:

- `--agentkit-record-mode` (or `AGENTKIT_RECORD_MODE`): `none` (default: replay only, so CI never
  calls a live model), `once`, `new_episodes`, `all`, `rewrite`. The option has its own name so it
  never clashes with pytest-recording's `--record-mode`.
- real model requests are blocked in every test unless the record mode records, or the test is
  marked `@pytest.mark.agentkit_allow_model_requests` (live tests), and between tests (session
  fixtures, threads that outlive their test) unless the session's record mode records;
- `agentkit_cassette` fixture, or `@pytest.mark.agentkit_cassette(...)`: the test's runs are
  recorded to / replayed from `<rootdir>/cassettes/<test module path>/<test name>.yaml`; with
  `pydantic_ai_agents=[agent, ...]`, the runs of those pydantic-ai agents too (same file);
- the guard, the cassette and `agent_runs` hold for the runs a test starts in other threads too
  (`threading.Thread`, `ThreadPoolExecutor`, a sync web framework's handler thread): see
  `agentkit._block_scope` for how, and join such threads before the test ends;
- `agent_runs` fixture: the runs made during the test, with their messages, for assertions;
- `agent_snapshot` fixture: syrupy's `snapshot` set to store runs as readable node sequences;
- `--agentkit-html=DIR`: a test whose replay diverges gets `DIR/<test id>.html`, the cassette's page
  with the diverging node highlighted and the divergence message on top; the failure report names it;
- a terminal summary section, "agentkit stale cassettes", naming the cassettes whose replayed runs
  were recorded with another agent definition (system prompts, tools, result tools, model, settings)
  and what changed, even when matching ignores it (see `_stale_watch`);
- a terminal summary of what was recorded and replayed, and which cassettes no test used, with
  `--agentkit-delete-unused-cassettes` to remove them. A cassette is unused when it belongs to no
  collected test of a complete, passing session; after a partial or failing session nothing is
  reported nor deleted, and the summary says why.

The harness itself is imported only when a fixture needs it, so loading the plugin stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agentkit_testing._capture import CapturedRuns
    from agentkit_testing._cassette._context import CassetteSession
    from agentkit_testing._secrets import Scrubber
    from agentkit_testing._stale_watch import StaleFindings

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
RECORDING_MODES = frozenset({"once", "new_episodes", "all", "rewrite"})
ENV_RECORD_MODE = "AGENTKIT_RECORD_MODE"
MARKER = "agentkit_cassette"
ALLOW_MARKER = "agentkit_allow_model_requests"

PARTIAL_RUN = "only part of the suite ran (-k/-m/node ids/--lf/--deselect)"

_stats_key = pytest.StashKey["CassetteStats"]()
_stale_key: pytest.StashKey[StaleFindings] = pytest.StashKey()
_scrubber_key: pytest.StashKey[Scrubber] = pytest.StashKey()
_test_failed_key: pytest.StashKey[bool] = pytest.StashKey()
"""Set when a test failed or was skipped before its teardown: its cassette then skips the unplayed-runs check."""


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

    def to_json(self) -> dict[str, Any]:
        return {
            "used": sorted(self.used),
            "recorded": self.recorded,
            "replayed": self.replayed,
            "failed": self.failed,
            "expected": {directory: sorted(names) for directory, names in self.expected.items()},
            "partial": sorted(self.partial),
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentkit", "agentkit: record and replay agent runs")
    group.addoption(
        "--agentkit-record-mode",
        action="store",
        default=None,
        choices=RECORD_MODES,
        help=f"cassette record mode (default: ${ENV_RECORD_MODE} or 'none', which replays only and blocks "
        "real model requests)",
    )
    group.addoption(
        "--agentkit-html",
        action="store",
        default=None,
        metavar="DIR",
        help="when a test's replay diverges, write the cassette's page with the diverging node highlighted "
        "to DIR/<test id>.html, and name it in the failure report",
    )
    group.addoption(
        "--agentkit-delete-unused-cassettes",
        action="store_true",
        default=False,
        help="delete agentkit cassette files that no test of their module uses, after a complete, passing "
        "session (nothing is deleted when only part of the suite ran or a test failed)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path=None, record_mode=None, pydantic_ai_agents=(), **options): record/replay the test's "
        "agent runs with a cassette (and those of the pydantic-ai agents named); options go to "
        "agentkit_testing.cassette (matching, external_tools, scrub_patterns, ...)",
    )
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}: let the test's models send real requests (live tests) whatever the record mode",
    )
    config.stash[_stats_key] = CassetteStats()
    record_mode(config)  # a wrong option or environment value stops the session at once
    config.pluginmanager.register(_StaleSummary(), "agentkit-stale-summary")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistBridge(config), "agentkit-xdist-bridge")


def record_mode(config: pytest.Config, marker: pytest.Mark | None = None) -> str:
    """The record mode in force: the marker's, else the option's, else the environment's, else `none`."""
    mode = marker.kwargs.get("record_mode") if marker is not None else None
    mode = mode or config.getoption("--agentkit-record-mode") or os.environ.get(ENV_RECORD_MODE) or "none"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"agentkit record mode must be one of {', '.join(RECORD_MODES)}; got {mode!r} "
            f"(from the {MARKER} marker, --agentkit-record-mode or ${ENV_RECORD_MODE})"
        )
    return str(mode)


def default_cassette_path(item: pytest.Item) -> Path:
    """`<rootdir>/cassettes/<test module>/<test name>.yaml`, the module as its path from the rootdir.

    Rooted apart from pytest-recording's `<test dir>/cassettes/`, so HTTP cassettes and agent
    cassettes never share a file name.
    """
    root = Path(str(item.config.rootpath))
    module = Path(str(item.path))
    try:
        relative = module.relative_to(root).with_suffix("")
    except ValueError:
        relative = Path(module.stem)
    return root / "cassettes" / relative / f"{_file_name(item.name)}.yaml"


def _file_name(test_name: str) -> str:
    return re.sub(r"[^\w.\-\[\]]+", "_", test_name).strip("_") or "test"


def pytest_itemcollected(item: pytest.Item) -> None:
    """Note every test as it is collected, before `-k`, `-m`, `--deselect`, `--lf` or a conftest drop any."""
    stats = item.config.stash[_stats_key]
    path = default_cassette_path(item)
    stats.expected.setdefault(str(path.parent), set()).add(path.name)
    stats.collected.add(item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    stats = session.config.stash[_stats_key]
    if {item.nodeid for item in session.items} != stats.collected:
        stats.partial.add(PARTIAL_RUN)


@pytest.fixture
def agentkit_record_mode(request: pytest.FixtureRequest) -> str:
    """The record mode in force for this test."""
    return record_mode(request.config, request.node.get_closest_marker(MARKER))


@pytest.fixture(autouse=True, scope="session")
def _agentkit_session_request_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Block real model requests for the whole session unless its record mode records.

    Each test's own guard nests inside this one. It is what still holds for runs outside any test:
    session fixtures, and threads that outlive the test that started them (a test's blocks end with
    the test, and runs in such threads would otherwise fall through to `ALLOW_MODEL_REQUESTS`).
    """
    from agentkit.models import override_allow_model_requests

    with override_allow_model_requests(record_mode(request.config) in RECORDING_MODES):
        yield


@pytest.fixture(autouse=True)
def _agentkit_request_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Block real model requests unless recording; open the cassette when the test is marked.

    `override_allow_model_requests` is context-local and, while the test runs, also in force for
    threads the test starts (they begin with an empty context), so both see the same decision.
    """
    from agentkit.models import override_allow_model_requests

    marker = request.node.get_closest_marker(MARKER)
    allowed = record_mode(request.config, marker) in RECORDING_MODES
    allowed = allowed or request.node.get_closest_marker(ALLOW_MARKER) is not None
    with override_allow_model_requests(allowed):
        if marker is not None and "agentkit_cassette" not in request.fixturenames:
            request.getfixturevalue("agentkit_cassette")
        yield


@pytest.fixture
def agentkit_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteSession]:
    """A cassette for this test: every agent run inside the test is recorded or replayed with it."""
    from agentkit_testing._cassette._context import cassette
    from agentkit_testing._divergence import RecordAdvice, advising

    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    fixed_by_marker = options.pop("record_mode", None) is not None
    path = Path(options.pop("path", None) or default_cassette_path(request.node))
    if not path.is_absolute():
        path = Path(str(request.config.rootpath)) / path
    mode = record_mode(request.config, marker)
    if mode in RECORDING_MODES:
        path.parent.mkdir(parents=True, exist_ok=True)
    options.setdefault("label", request.node.nodeid)
    stats = request.config.stash[_stats_key]
    stats.used.add(str(path))
    pydantic_ai_agents = options.pop("pydantic_ai_agents", ())
    # Errors of this cassette say how to record again with the option (or the marker); only its start
    # is advised so, as `cassette()` blocks the test opens itself take `record_mode=`, not the option.
    advice = RecordAdvice("marker" if fixed_by_marker else "pytest")
    with contextlib.ExitStack() as blocks:
        with advising(advice):
            session = blocks.enter_context(cassette(path, mode, **options))  # type: ignore[arg-type]
            request.node.stash[_scrubber_key] = session.cassette.scrubber
            others = blocks.enter_context(_pydantic_ai_block(session, pydantic_ai_agents, options))
        blocks.enter_context(_definition_watch(request.config, str(path)))
        yield session
        failed = request.node.stash.get(_test_failed_key, False)
        for block in (session, *others):
            block.check_unplayed_runs = not failed  # the test's own failure is the one to report
    for block in (session, *others):
        diverged = len(getattr(block, "diverged_runs", ()))
        failed = getattr(block, "failed_replays", 0)
        for counts, number in (
            (stats.recorded, len(block.recorded_runs)),
            (stats.replayed, len(block.replayed_runs) - diverged),
            (stats.failed, failed),
        ):
            counts[str(path)] = counts.get(str(path), 0) + number


@contextmanager
def _definition_watch(config: pytest.Config, path: str) -> Iterator[None]:
    """Check each run this cassette replays against its recording's agent definition, for the stale summary."""
    from agentkit import intercept_runs
    from agentkit_testing._stale_watch import DefinitionWatch, StaleFindings

    watch = DefinitionWatch()
    try:
        with intercept_runs(watch):  # inside the cassette's block, so it sees the replaying model
            yield
    finally:
        config.stash.setdefault(_stale_key, StaleFindings()).add(path, watch.checks)


@contextmanager
def _pydantic_ai_block(session: CassetteSession, agents: Any, options: dict[str, Any]) -> Iterator[list[Any]]:
    """Also record / replay the runs of the pydantic-ai `agents` the marker names, in the same cassette.

    The adapter (and pydantic_ai) is imported only for a test that names such agents. The agentkit
    block saves the shared cassette when it recorded runs of its own (its file then holds both);
    otherwise this block saves it, so nothing is written twice.
    """
    if not agents:
        yield []
        return
    from agentkit_testing.pydantic_ai import cassette as pydantic_ai_cassette

    keep = {key: options[key] for key in ("matching", "external_tools", "label") if key in options}
    store = session.cassette
    with pydantic_ai_cassette(store, agents, session.record_mode, save=False, **keep) as block:
        yield [block]
    if block.recorded_runs and not session.recorded_runs and session.record_mode != "rewrite" and store.path:
        store.save(merge=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Failure output goes to CI logs: secrets are scrubbed from it with the test's cassette rules."""
    report = yield
    if report.when in ("setup", "call") and not report.passed:
        item.stash[_test_failed_key] = True
    if report.failed and call.excinfo is not None and item.config.getoption("--agentkit-html"):
        _point_to_divergence_page(item, report, call.excinfo.value)
    if report.failed:
        from agentkit_testing._secrets import Scrubber

        scrubber = (item.stash.get(_scrubber_key, None) or Scrubber()).refresh()
        if report.longrepr is not None:
            text = str(report.longrepr)
            clean = scrubber.scrub_text(text)
            if clean != text:  # a failure without secrets keeps its rich (coloured) form
                report.longrepr = clean
        report.sections = [(title, scrubber.scrub_text(content)) for title, content in report.sections]
    return report


def _point_to_divergence_page(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """`--agentkit-html`: write the page of the cassette the test's replay diverged from; name it in the report."""
    from agentkit_testing._viewer._divergence_page import report_divergence_page

    directory = Path(str(item.config.invocation_params.dir)) / str(item.config.getoption("--agentkit-html"))
    text = report_divergence_page(error, directory, item.nodeid)
    if text is None:
        return
    add_section = getattr(report.longrepr, "addsection", None)  # pytest's ExceptionRepr
    if callable(add_section):  # inside the failure, so --show-capture=no keeps it
        add_section("agentkit cassette page", text)
    else:
        report.sections.append(("agentkit cassette page", text))


@pytest.fixture
def agent_runs() -> Iterator[CapturedRuns]:
    """The agent runs made during this test, each with its messages, result or error."""
    from agentkit_testing._capture import capture_runs

    with capture_runs() as runs:
        yield runs


@pytest.fixture
def agent_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's `snapshot`, storing agent runs as readable node sequences: `assert run == agent_snapshot`."""
    try:
        snapshot = request.getfixturevalue("snapshot")
    except pytest.FixtureLookupError:
        raise pytest.UsageError(
            "agent_snapshot needs syrupy: install it with `pip install 'agentkit[testing]'`"
        ) from None
    from agentkit_testing._snapshot import AgentRunSnapshotExtension

    return snapshot.use_extension(AgentRunSnapshotExtension)


def _unused_cassettes(stats: CassetteStats) -> list[Path]:
    unused = []
    for directory, expected in stats.expected.items():
        folder = Path(directory)
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json")):
            if candidate.name not in expected and str(candidate) not in stats.used and _is_agentkit_cassette(candidate):
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
    stats = config.stash[_stats_key]
    delete = bool(config.getoption("--agentkit-delete-unused-cassettes"))
    unknown = unused_unknown_because(config, exitstatus, stats)
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


class _StaleSummary:
    """The terminal summary's section on the replayed cassettes whose agent definition changed since recording."""

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        findings = config.stash.get(_stale_key, None)
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


class _XdistBridge:
    """Carries each xdist worker's cassette statistics to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["agentkit_cassettes"] = self.config.stash[_stats_key].to_json()
            findings = self.config.stash.get(_stale_key, None)
            if findings is not None:
                workeroutput["agentkit_stale_cassettes"] = findings.to_json()

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get("agentkit_cassettes")
        if data is not None:
            self.config.stash[_stats_key].merge_json(data)
        stale = getattr(node, "workeroutput", {}).get("agentkit_stale_cassettes")
        if stale is not None:
            from agentkit_testing._stale_watch import StaleFindings

            self.config.stash.setdefault(_stale_key, StaleFindings()).merge_json(stale)
