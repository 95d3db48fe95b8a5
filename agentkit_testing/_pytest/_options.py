"""The plugin's command-line options and markers' names, and the record mode and cassette path of a test."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
RECORDING_MODES = frozenset({"once", "new_episodes", "all", "rewrite"})
ENV_RECORD_MODE = "AGENTKIT_RECORD_MODE"
MARKER = "agentkit_cassette"
ALLOW_MARKER = "agentkit_allow_model_requests"


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


def cassette_path(item: pytest.Item, marker: pytest.Mark | None) -> Path:
    """The test's cassette file: the marker's `path` (relative to the rootdir), else `default_cassette_path`."""
    named = marker.kwargs.get("path") if marker is not None else None
    path = Path(named or default_cassette_path(item))
    return path if path.is_absolute() else Path(str(item.config.rootpath)) / path


def check_marker(item: pytest.Item, marker: pytest.Mark, cassette_options: Iterable[str]) -> None:
    """Refuse a marker argument the plugin would not use (a positional path, a misspelled option), naming the fix.

    Left alone, a positional path (as pytest-recording's `vcr` marker takes) or `recordmode=` would be
    dropped or fail deep inside the cassette, and the test would record under another name or mode.
    """
    if marker.args:
        fix = f"path={marker.args[0]!r}" if len(marker.args) == 1 else "path=..."
        raise pytest.UsageError(
            f"{item.nodeid}: the {MARKER} marker takes keyword arguments only, got {marker.args!r}: "
            f"write @pytest.mark.{MARKER}({fix})"
        )
    known = sorted({"path", "record_mode", "pydantic_ai_agents", *cassette_options})
    for name in marker.kwargs:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise pytest.UsageError(
                f"{item.nodeid}: the {MARKER} marker has no argument {name!r}; {hint}it takes {', '.join(known)}"
            )


def check_cassette_path(item: pytest.Item, path: Path) -> None:
    """Refuse a cassette path that is a directory, or under a file, naming it and the fix (not a bare OSError later)."""
    if path.is_dir():
        raise pytest.UsageError(
            f"{item.nodeid}: the cassette path {path} is a directory, not a file: move it away, or give the "
            f"{MARKER} marker another path="
        )
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise pytest.UsageError(
                    f"{item.nodeid}: cannot make the cassette folder {path.parent}: {folder} is a file; move it "
                    f"away, or give the {MARKER} marker another path="
                )
            return


def check_default_path_is_its_own(item: pytest.Item, path: Path, users: set[str]) -> None:
    """Refuse a default cassette file that other collected tests' names also make (`test_x[a/b]`, `test_x[a_b]`).

    They would share one file without knowing: the second would replay the first's recording.
    """
    others = sorted(users - {item.nodeid})
    if others:
        raise pytest.UsageError(
            f"{item.nodeid} and {', '.join(others)} make the same cassette file name, {path.name} (a file name "
            "cannot hold some characters of their ids), so each would replay the other's runs: give them "
            f"ids that differ in letters, digits or '.-_' (pytest.param(..., id=...)), or a {MARKER} marker with "
            "path="
        )


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
    if "[" in test_name:
        # A parameter's value is part of the id (`test_x[<value>]`): a key passed as one must not
        # become a file name, committed and shown in the summary.
        from agentkit_testing._secrets import Scrubber

        test_name = Scrubber().scrub_text(test_name)
    return re.sub(r"[^\w.\-\[\]]+", "_", test_name).strip("_") or "test"
