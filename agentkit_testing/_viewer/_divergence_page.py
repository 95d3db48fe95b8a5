"""A cassette page for a replay that diverged: the pytest plugin's `--agentkit-html=DIR` writes one per failing test.

The page is the cassette's page (`agentkit cassette view`) with the diverging node of the
diverging run highlighted and scrolled to, and the divergence message above the runs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._write import atomic_write
from agentkit_testing._exceptions import CassetteDivergence, CassetteError
from agentkit_testing._secrets import Scrubber

__all__ = ("find_divergence", "page_file_name", "report_divergence_page", "write_divergence_page")

_MAX_NAME = 120


def find_divergence(error: BaseException | None) -> CassetteDivergence | None:
    """The `CassetteDivergence` behind `error`: itself, one it was raised from, or one in an exception group."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, CassetteDivergence):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend((current.__cause__, current.__context__))
    return None


def page_file_name(test_id: str) -> str:
    """A file name for the page of test `test_id` (a pytest node id): readable, unique, not too long."""
    name = re.sub(r"[^\w.\-\[\]]+", "_", test_id).strip("_.") or "test"
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(test_id.encode()).hexdigest()[:10]
        name = f"{name[: _MAX_NAME - 11]}-{digest}"
    return f"{name}.html"


def write_divergence_page(error: CassetteDivergence, directory: Path, test_id: str) -> Path:
    """Write the page of the cassette `error` is about, its diverging node highlighted; return the file.

    Raises `CassetteError` (or `OSError`) when the cassette cannot be read back, and `ValueError` when
    the divergence concerns an in-memory cassette (there is no file to show).
    """
    if error.path is None:
        raise ValueError("the replay diverged from an in-memory cassette: there is no file to show")
    test_id = Scrubber().scrub_text(test_id)  # a parameter's value (a key) is part of the id
    from agentkit_testing._viewer._page import render_cassette_page  # Jinja2, only when a page is asked for

    cassette = Cassette.load(error.path)
    notice = f"{test_id}\n\n{error}"
    page = render_cassette_page(cassette, highlight=(error.run_id, error.node_index), notice=notice)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / page_file_name(test_id)
    atomic_write(target, page.encode())
    return target


def report_divergence_page(error: BaseException, directory: Path, test_id: str) -> str | None:
    """For a failure report: write the page of the divergence behind `error` and say where it is, or why
    there is none; `None` when `error` is not a divergence."""
    divergence = find_divergence(error)
    if divergence is None:
        return None
    try:
        page = write_divergence_page(divergence, directory, test_id)
    except (CassetteError, OSError, ValueError, ImportError) as problem:
        return f"no page for this divergence ({type(problem).__name__}): {problem}"
    return (
        f"replay diverged in run {divergence.run_id!r} at node {divergence.node_index} of {divergence.path}\n"
        f"open {page.resolve().as_uri()}"
    )
