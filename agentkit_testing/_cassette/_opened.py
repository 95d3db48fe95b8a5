"""Every cassette file read or written in this process: what the pytest plugin must never call unused.

`Cassette.load` and `Cassette.save` note each file they touch, whichever API the test used (the
plugin's fixture, a `cassette()` block a test opens itself, in any thread, the pydantic-ai adapter,
`Cassette.load` in a fixture). The record only grows: a file noted by an earlier session of the
same process (pytester) is merely kept once more. The plugin reads it only when this module was
imported, so a session that never touches a cassette imports no harness for it.
"""

from __future__ import annotations

import os
import threading

__all__ = ("note_opened", "opened_cassettes")

_opened: set[str] = set()
_lock = threading.Lock()


def note_opened(path: str | os.PathLike[str]) -> None:
    """Note that the cassette file at `path` was read or written (by its real path)."""
    real = os.path.realpath(path)
    with _lock:
        _opened.add(real)


def opened_cassettes() -> frozenset[str]:
    """The real paths of the cassette files read or written in this process so far."""
    with _lock:
        return frozenset(_opened)
