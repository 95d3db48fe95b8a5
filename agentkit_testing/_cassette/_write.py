"""Writing cassette files atomically: a private temp file renamed over the target, stale temp files swept.

A writer puts the new bytes in `.<name>.<16 hex digits>.tmp` beside the cassette, created with
mode 0o600 and held under an exclusive `flock` while it is written, then renamed over the
cassette. A writer killed mid-write leaves its temp file behind (the cassette itself is intact);
the next write of the same cassette removes it once no live writer holds its lock and it is
older than a short grace period.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ("STALE_TEMP_GRACE_SECONDS", "atomic_write", "remove_stale_temp_files", "temp_name_pattern")

STALE_TEMP_GRACE_SECONDS = 2.0
"""A temp file younger than this is left alone: its writer may not have locked it yet."""

STALE_TEMP_GRACE_UNLOCKED_SECONDS = 3600.0
"""Where `flock` is missing (Windows) a temp file is only known stale by its age."""

_fcntl: ModuleType | None
try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - not POSIX
    _fcntl = None


def temp_name_pattern(name: str) -> re.Pattern[str]:
    """The names of the temp files that `atomic_write` makes for a file called `name`, and no others.

    Besides today's `.<name>.<16 hex digits>.tmp`, the names made by earlier versions
    (`tempfile.mkstemp`: 8 characters of `[a-z0-9_]`) match, so their leftovers are swept too.
    """
    return re.compile(rf"\.{re.escape(name)}\.(?:[0-9a-f]{{16}}|[a-z0-9_]{{8}})\.tmp")


def atomic_write(path: Path, data: bytes | Sequence[bytes | memoryview]) -> None:
    """Write `data` (bytes, or pieces written one after the other) to `path` so that readers see the old
    file or the new one, never a mix.

    The bytes go to a temp file in the same directory (mode 0o600, locked while written), which
    is flushed, fsynced and renamed over `path`; an interruption at any point leaves the previous
    file as it was. The new file keeps the mode of the file it replaces, or gets the mode a new
    file gets under the process umask. Stale temp files of earlier writers of `path` are removed
    first (`remove_stale_temp_files`).
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else _new_file_mode()
    descriptor, temporary = _create_temp_file(path)
    try:
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
            if hasattr(os, "fchmod"):
                os.fchmod(descriptor, mode)
            else:  # pragma: no cover - Windows before Python 3.13
                os.chmod(temporary, mode)
            if _fcntl is not None:
                # Renamed while still open and locked, so no sweeper can take it for a dead writer's.
                os.replace(temporary, path)
        finally:
            os.close(descriptor)
        if _fcntl is None:  # pragma: no cover - Windows cannot rename a file that is open
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def remove_stale_temp_files(path: Path, *, grace_seconds: float = STALE_TEMP_GRACE_SECONDS) -> list[Path]:
    """Remove the temp files that writers of `path` left behind when they were killed; return them.

    Only names `atomic_write` makes for this file are considered (`temp_name_pattern`), only
    regular files, and only those no live writer holds locked and older than `grace_seconds`.
    Where `flock` is missing, only files older than an hour.
    """
    pattern = temp_name_pattern(path.name)
    try:
        names = [name for name in os.listdir(path.parent) if pattern.fullmatch(name)]
    except FileNotFoundError:
        return []
    removed = []
    for name in names:
        candidate = path.parent / name
        if _remove_if_stale(candidate, grace_seconds):
            removed.append(candidate)
    return removed


def _remove_if_stale(candidate: Path, grace_seconds: float) -> bool:
    # No following symlinks, and no waiting on a FIFO that merely has the name of a temp file.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(candidate, flags)
    except OSError:
        return False  # gone already, a symlink, or not ours to open
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return False
        age = time.time() - status.st_mtime
        if _fcntl is None:
            if age < STALE_TEMP_GRACE_UNLOCKED_SECONDS:
                return False
        else:
            if age < grace_seconds:
                return False
            try:
                _fcntl.flock(descriptor, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # a live writer holds it
        try:
            os.unlink(candidate)
        except FileNotFoundError:
            return False  # its writer renamed it into place meanwhile
        return True
    finally:
        os.close(descriptor)


def _create_temp_file(path: Path) -> tuple[int, Path]:
    """A new, empty temp file beside `path`, open for writing, mode 0o600, exclusively locked."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            descriptor = os.open(temporary, flags, 0o600)
        except FileExistsError:
            continue
        if _fcntl is not None:
            _fcntl.flock(descriptor, _fcntl.LOCK_EX)
        return descriptor, temporary
    raise FileExistsError(f"{path.parent}: could not create a temp file for {path.name}")  # pragma: no cover


def _write_all(descriptor: int, data: bytes | Sequence[bytes | memoryview]) -> None:
    for piece in (data,) if isinstance(data, bytes) else data:
        view = memoryview(piece)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]


def _new_file_mode() -> int:
    """The mode a file created now with 0o666 gets: what the umask allows, as `open()` would give."""
    return 0o666 & ~_umask()


def _umask() -> int:
    # Reading the umask through os.umask means setting it, which races with other threads creating
    # files; Linux shows it in /proc without changing it.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is fine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
