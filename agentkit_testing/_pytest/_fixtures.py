"""The plugin's fixtures: the request guards, the test's cassette, its captured runs and its node snapshot."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from agentkit_testing._pytest._options import (
    ALLOW_MARKER,
    MARKER,
    RECORDING_MODES,
    cassette_path,
    check_cassette_path,
    check_default_path_is_its_own,
    check_marker,
    record_mode,
)
from agentkit_testing._pytest._pydantic_ai_switch import pydantic_ai_requests
from agentkit_testing._pytest._stats import scrubber_key, stale_key, stats_key, test_called_key, test_failed_key

if TYPE_CHECKING:
    from agentkit_testing._capture import CapturedRuns
    from agentkit_testing._cassette._context import CassetteSession


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

    allowed = record_mode(request.config) in RECORDING_MODES
    with override_allow_model_requests(allowed), pydantic_ai_requests(allowed):
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
    with override_allow_model_requests(allowed), pydantic_ai_requests(allowed):
        if marker is not None and "agentkit_cassette" not in request.fixturenames:
            request.getfixturevalue("agentkit_cassette")
        yield


@pytest.fixture
def agentkit_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteSession]:
    """A cassette for this test: every agent run inside the test is recorded or replayed with it."""
    from agentkit_testing._cassette._context import cassette
    from agentkit_testing._divergence import RecordAdvice, advising

    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        check_marker(request.node, marker, inspect.signature(cassette).parameters)
    options = dict(marker.kwargs) if marker is not None else {}
    fixed_by_marker = options.pop("record_mode", None) is not None
    options.pop("path", None)
    path = cassette_path(request.node, marker)
    check_cassette_path(request.node, path)
    stats = request.config.stash[stats_key]
    if marker is None or not marker.kwargs.get("path"):
        check_default_path_is_its_own(request.node, path, stats.default_users.get(str(path), set()))
    # The folder is made when a run is saved, not here: a recording that fails leaves no empty folder.
    mode = record_mode(request.config, marker)
    options.setdefault("label", request.node.nodeid)
    stats.used.add(str(path))
    pydantic_ai_agents = options.pop("pydantic_ai_agents", ())
    # Errors of this cassette say how to record again with the option (or the marker); only its start
    # is advised so, as `cassette()` blocks the test opens itself take `record_mode=`, not the option.
    advice = RecordAdvice("marker" if fixed_by_marker else "pytest")
    try:
        with contextlib.ExitStack() as blocks:
            with advising(advice):
                session = blocks.enter_context(cassette(path, mode, **options))  # type: ignore[arg-type]
                request.node.stash[scrubber_key] = session.cassette.scrubber
                others = blocks.enter_context(_pydantic_ai_block(session, pydantic_ai_agents, options))
            blocks.enter_context(_definition_watch(request.config, str(path)))
            if not session.records and request.node.get_closest_marker(ALLOW_MARKER) is None:
                # `once` on an existing file only replays: the guard the mode's name opened is closed
                # again, or a request no cassette covers (a pydantic-ai agent the marker does not name,
                # a model called outside a run) would reach its provider and be recorded nowhere.
                from agentkit.models import override_allow_model_requests

                blocks.enter_context(override_allow_model_requests(False))
                blocks.enter_context(pydantic_ai_requests(False))
            yield session
            failed = request.node.stash.get(test_failed_key, False)
            if not failed and not request.node.stash.get(test_called_key, False):
                raise _TestInterrupted  # leaves the cassette block the way Ctrl-C does: nothing is written
            for block in (session, *others):
                block.check_unplayed_runs = not failed  # the test's own failure is the one to report
    except _TestInterrupted:
        return
    for block in (session, *others):
        diverged = len(getattr(block, "diverged_runs", ()))
        failed = getattr(block, "failed_replays", 0)
        for counts, number in (
            (stats.recorded, len(block.recorded_runs)),
            (stats.replayed, len(block.replayed_runs) - diverged),
            (stats.failed, failed),
        ):
            counts[str(path)] = counts.get(str(path), 0) + number


class _TestInterrupted(BaseException):
    """Thrown into a test's cassette block when the test was interrupted, so the block writes nothing.

    After Ctrl-C or `pytest.exit` in a test, pytest tears its fixtures down without the exception,
    so the block would end as if the test had passed and save the runs cut short (a `KeyboardInterrupt`
    inside a run is recorded as its cancellation). Not an `Exception`: `cassette()` saves on those.
    """


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
        config.stash.setdefault(stale_key, StaleFindings()).add(path, watch.checks)


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
