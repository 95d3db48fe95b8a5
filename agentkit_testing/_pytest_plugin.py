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
  `agentkit.block_scope` for how, and join such threads before the test ends;
- `agent_runs` fixture: the runs made during the test, with their messages, for assertions;
- `agent_snapshot` fixture: syrupy's `snapshot` set to store runs as readable node sequences;
- `--agentkit-html=DIR`: a test whose replay diverges gets `DIR/<test id>.html`, the cassette's page
  with the diverging node highlighted and the divergence message on top; the failure report names it;
- a terminal summary section, "agentkit stale cassettes", naming the cassettes whose replayed runs
  were recorded with another agent definition (system prompts, tools, result tools, model, settings)
  and what changed, even when matching ignores it (see `_stale_watch`);
- a terminal summary of what was recorded and replayed, and which cassettes no test used, with
  `--agentkit-delete-unused-cassettes` to remove them. A cassette is unused when it belongs to no
  collected test of a complete, passing session (by name or marker) and nothing read or wrote it
  during the session; after a partial or failing session nothing is reported nor deleted, and the
  summary says why.

Every pytest session of a project with agentkit installed loads this module, so it stays cheap:
loading it imports only the plugin's own modules (`agentkit_testing/__init__.py` imports nothing
eagerly). The rest comes when needed: the cassette code, pydantic and YAML when a test uses
`agentkit_cassette` (or its marker); the run capture for `agent_runs`; the syrupy extension for
`agent_snapshot`; the `agentkit` runtime (without pydantic) at the first test, for the autouse
request guards; the secret scrubber when a test fails, to clean its report. The hooks that run in
every session (options, collection, failure reports, terminal summaries) import nothing more;
tests/testing/test_plugin_import_cost.py keeps this true.

pytest collects hooks and fixtures from this module object (the `pytest11` entry point names it);
they live in `agentkit_testing._pytest` by concern and are imported here: options and record mode
(`_options`), fixtures and guards (`_fixtures`), session statistics and xdist (`_stats`), failure
reports (`_failure_report`), and the terminal summary (`_summary`).
"""

from __future__ import annotations

import contextlib

import pytest

from agentkit_testing._pytest._failure_report import pytest_runtest_makereport
from agentkit_testing._pytest._fixtures import (
    _agentkit_request_guard,
    _agentkit_session_request_guard,
    agent_runs,
    agent_snapshot,
    agentkit_cassette,
    agentkit_record_mode,
)
from agentkit_testing._pytest._options import ALLOW_MARKER, MARKER, pytest_addoption, record_mode
from agentkit_testing._pytest._stats import (
    CassetteStats,
    XdistBridge,
    pytest_collection_finish,
    pytest_itemcollected,
    stats_key,
)
from agentkit_testing._pytest._summary import StaleSummary, pytest_terminal_summary

__all__ = (
    "_agentkit_request_guard",
    "_agentkit_session_request_guard",
    "agent_runs",
    "agent_snapshot",
    "agentkit_cassette",
    "agentkit_record_mode",
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_itemcollected",
    "pytest_plugin_registered",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
)
"""The hooks and fixtures pytest finds on this module."""


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
    config.stash[stats_key] = CassetteStats()
    record_mode(config)  # a wrong option or environment value stops the session at once
    config.pluginmanager.register(StaleSummary(), "agentkit-stale-summary")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistBridge(config), "agentkit-xdist-bridge")


def pytest_plugin_registered(plugin: object) -> None:
    """Load the harness up front in a session that has pytester, before any in-process run drops it.

    pytester's in-process runs (`runpytest`, `inline_run`) remove the modules imported during them,
    and the harness is imported at first use, so inside such a run: the next run imported it anew
    beside modules that stayed, and mixed the two (libyaml's C module, set up once a process, kept
    building the first import's nodes, so the writer raised `EmitterError`; a lazily built pydantic
    adapter met the other import's classes and was "not fully defined"). Loaded here, outside any
    run, the harness is shared by all of them, as it was before it loaded lazily. Sessions without
    pytester do not pay for it.
    """
    if getattr(plugin, "__name__", None) != "_pytest.pytester":
        return
    import yaml  # noqa: F401

    import agentkit_testing

    for name in agentkit_testing.__all__:
        with contextlib.suppress(ImportError):  # an optional part (syrupy) that is not installed
            getattr(agentkit_testing, name)
