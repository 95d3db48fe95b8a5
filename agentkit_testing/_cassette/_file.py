"""`Cassette`: the recorded runs of one file, in memory; loaded safely, saved atomically and scrubbed."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeAlias, cast

from agentkit_testing._cassette._codec import encode_document
from agentkit_testing._cassette._eager import load_eagerly, load_whole
from agentkit_testing._cassette._io import FileFormat, cassette_text, dump_document, file_format_for, header_comment
from agentkit_testing._cassette._lazy import RunSource, answered_runs, load_lazily
from agentkit_testing._cassette._opened import note_opened
from agentkit_testing._cassette._parse._limits import check_savable
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._cassette._splice import pair_rerecorded, splice_yaml
from agentkit_testing._cassette._stream import scrub_document
from agentkit_testing._cassette._write import atomic_write
from agentkit_testing._exceptions import CassetteError
from agentkit_testing._secrets import Scrubber

__all__ = ("DEFAULT_COMMENT", "BeforeRecord", "Cassette", "PendingRun")

BeforeRecord: TypeAlias = Callable[[RecordedRun], "RecordedRun | None"]
"""Called with each newly recorded run before it is written; return it (changed or not), or `None` to drop it."""

DEFAULT_COMMENT = (
    "agentkit cassette: agent runs recorded by agentkit_testing and replayed offline.\n"
    "Format: docs/cassette-format.md. Re-record with record_mode='rewrite' rather than editing by hand."
)


class PendingRun(Protocol):
    """A run being recorded; its record is taken when the cassette is saved."""

    def snapshot(self) -> RecordedRun | None:
        """The run as recorded so far, or `None` if it should not be written (yet)."""
        ...


class Cassette:
    """The runs of one cassette file, in memory.

    Args:
        path: the file this cassette is loaded from and saved to; `.json` files are JSON, others YAML.
        runs: runs to start with.
        comment: the header comment written at the top of the file (a `comment` field in JSON).
        scrubber: what removes secrets before writing; `Scrubber()` (known key shapes and secret
            environment variables) by default.
        before_record: a hook called with every newly recorded run before it is written.
        file_format: `"yaml"` or `"json"`, to override what the file name says.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        runs: Iterable[RecordedRun] = (),
        *,
        comment: str | None = None,
        scrubber: Scrubber | None = None,
        before_record: BeforeRecord | None = None,
        file_format: FileFormat | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.comment = comment
        self.scrubber = scrubber if scrubber is not None else Scrubber()
        self.before_record = before_record
        self.file_format: FileFormat = file_format or (file_format_for(self.path) if self.path else "yaml")
        self._entries: list[RecordedRun | PendingRun] = list(runs)
        self._given = len(self._entries)
        """How many entries, from the first, are the runs this cassette started with (never pending)."""
        self._ids = {run.id for run in self._entries if isinstance(run, RecordedRun)}
        self._initial_ids = frozenset(self._ids)
        """The runs this cassette started with (e.g. loaded from its file); the others are new."""
        self._lock = threading.Lock()
        self._source: RunSource | None = None
        """The loaded file's text, run by run, when it follows the writer's layout (see `_lazy`)."""
        self._loaded: tuple[RecordedRun, ...] = ()
        self._loaded_ids: frozenset[str] = frozenset()
        self._loaded_signature: tuple[int, ...] | None = None
        """What the file held when loaded: a save that merges with the file reads it again only if it changed."""

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        scrubber: Scrubber | None = None,
        before_record: BeforeRecord | None = None,
        file_format: FileFormat | None = None,
        lazy: bool = False,
    ) -> Cassette:
        """Read a cassette file; `CassetteFormatError` naming the file and the line or field if it is invalid.

        With `lazy` (what `cassette()` does), a YAML file in the writer's layout is read run by run:
        its header and the identity of every run now, the rest of a run when it is first used
        (replayed, shown, compared), so an error inside a run is raised then, naming its place
        the same way. Without, every run is read and checked now.
        """
        file = Path(path)
        note_opened(file)
        file_format = file_format or file_format_for(file)
        # Taken before reading: if the file is replaced in between, a merging save sees a
        # signature that is not the file's and reads it again (the safe side).
        signature = _signature(file.stat())
        data = file.read_bytes()
        text = cassette_text(data, file)
        runs, comment, source = _read_runs(data, text, file, file_format, lazy=lazy)
        cassette = cls(
            file,
            runs,
            comment=comment,
            scrubber=scrubber,
            before_record=before_record,
            file_format=file_format,
        )
        if source is not None and len(data) == len(text):
            source.data = data
        cassette._source = source
        cassette._loaded = tuple(runs)
        cassette._loaded_ids = cassette._initial_ids
        cassette._loaded_signature = signature
        return cassette

    def __repr__(self) -> str:
        return f"Cassette({str(self.path) if self.path else None!r}, runs={len(self._entries)})"

    @property
    def runs(self) -> tuple[RecordedRun, ...]:
        """The recorded runs, in recording order, including runs being recorded now."""
        with self._lock:
            entries = list(self._entries)
            given = self._given
        runs = cast(list[RecordedRun], entries[:given])  # never pending: taken without a look at each
        for entry in entries[given:]:
            run = entry if isinstance(entry, RecordedRun) else entry.snapshot()
            if run is not None:
                runs.append(run)
        return tuple(runs)

    def add_run(self, run: RecordedRun) -> None:
        """Append a finished run; its id must not be one this cassette already has (see `new_run_id`)."""
        with self._lock:
            # (`_ids` also holds ids handed out by `new_run_id`, which the run added may carry.)
            added = (entry.id for entry in self._entries[self._given :] if isinstance(entry, RecordedRun))
            if run.id in self._initial_ids or run.id in added:
                where = f" ({self.path})" if self.path is not None else ""
                raise CassetteError(
                    f"This cassette{where} already has a run with id {run.id!r}; two runs of one cassette "
                    "cannot share an id. Add it with a new one: "
                    "dataclasses.replace(run, id=cassette.new_run_id())",
                    path=self.path,
                )
            self._entries.append(run)
            self._ids.add(run.id)

    def add_pending(self, pending: PendingRun) -> None:
        """Append a run being recorded; it is written with whatever it holds when the cassette is saved."""
        with self._lock:
            self._entries.append(pending)

    def clear(self) -> None:
        """Forget every run, and that any came from the file (`rewrite`; `once` over a file with nothing to replay)."""
        with self._lock:
            self._entries.clear()
            self._given = 0
            self._ids.clear()
            self._initial_ids = frozenset()

    def new_run_id(self) -> str:
        """A run id not used yet in this cassette: `run-1`, `run-2`, ..."""
        with self._lock:
            number = len(self._entries) + 1
            while f"run-{number}" in self._ids:
                number += 1
            self._ids.add(f"run-{number}")
            return f"run-{number}"

    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        merge: bool = False,
        rerecorded: bool = False,
        replacing_label: str | None = None,
    ) -> None:
        """Write the cassette atomically, after the `before_record` hook and the scrubber.

        To another `path`, the format follows that file's name (`.json` is JSON). With `merge`,
        runs that another process wrote to the file since it was loaded are kept: the file ends
        up with them plus this cassette's new runs (renumbered on an id clash), so parallel test
        workers recording into one cassette lose nothing. With `rerecorded` (record modes `all`
        and `rewrite`), a new run that records what a run of the file holds, volatile values
        aside (see `_splice`), leaves that run as it is in the file instead of being
        added (with `merge`) or taking its place (without). With `replacing_label` (`rewrite` in a
        block with a label: a cassette shared by several tests), only the file's runs with that
        label, or none, are replaced: the runs other blocks recorded under other labels are kept
        as the file holds them now, even those another process wrote since it was loaded.

        Runs loaded from the file and not changed keep their text byte for byte: a YAML file in
        the writer's layout is written by splicing the header, those texts and the new runs.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise CassetteError("This cassette has no file: pass a path to save() or create it with one")
        note_opened(target)
        with self._lock:
            entries = list(self._entries)
            given = self._given
        # The runs it started with are taken as they are, without a look at each (a big file's).
        runs = cast(list[RecordedRun], entries[:given])
        for entry in entries[given:]:
            if isinstance(entry, RecordedRun):
                runs.append(entry)
                continue
            run = entry.snapshot()
            if run is not None and self.before_record is not None:
                run = self.before_record(run)
            if run is not None:
                runs.append(run)
        file_format = self.file_format if path is None else file_format_for(target)
        source = self._source
        # Through a symlink, the file it points to gets the new text and the link stays (a rename
        # over the link would replace it by a copy, leaving the shared file as it was).
        destination = Path(os.path.realpath(target)) if target.is_symlink() else target
        with exclusive_directory_lock(destination.parent):
            if replacing_label is not None and target.exists():
                runs, source = self._replacing(target, file_format, runs, replacing_label, rerecorded=rerecorded)
            elif merge and target.exists():
                on_disk, source = self._on_disk(target, file_format)
                runs = self._merged_with(on_disk, source, runs, rerecorded=rerecorded, given=given)
            elif rerecorded and target.exists():
                runs, source = self._rerecorded_over(target, file_format, runs)
            comment = self.scrubber.scrub_text(self.comment if self.comment is not None else DEFAULT_COMMENT)
            data: bytes | list[bytes | memoryview]
            if file_format == "yaml" and runs:
                data = splice_yaml(runs, source, comment, self.scrubber, target)
            else:
                document = scrub_document(encode_document(runs), self.scrubber)
                check_savable(document, target)
                data = dump_document(document, file_format, comment)
            atomic_write(destination, data)

    def _on_disk(self, target: Path, file_format: FileFormat) -> tuple[tuple[RecordedRun, ...], RunSource | None]:
        """The runs in the file now, and its source: those loaded, unless another process wrote it since."""
        if (
            target == self.path
            and self._loaded_signature is not None
            and _signature(target.stat()) == self._loaded_signature
        ):
            return self._loaded, self._source
        current = Cassette.load(target, file_format=file_format, lazy=True)
        return current.runs, current._source

    def _rerecorded_over(
        self, target: Path, file_format: FileFormat, runs: list[RecordedRun]
    ) -> tuple[list[RecordedRun], RunSource | None]:
        """`runs`, each new one that records a run of the file unchanged replaced by that run.

        Those keep their ids; the others are renumbered where their ids clash.
        """
        try:
            previous, source = self._on_disk(target, file_format)
        except CassetteError:
            return runs, None  # the file is being re-recorded because it cannot be read: nothing to keep
        return self._unchanged_kept(runs, previous, set()), source

    def _replacing(
        self, target: Path, file_format: FileFormat, runs: list[RecordedRun], label: str, *, rerecorded: bool
    ) -> tuple[list[RecordedRun], RunSource | None]:
        """The file's runs with other labels, as they are now, then `runs` in place of those with `label` or none."""
        try:
            on_disk, source = self._on_disk(target, file_format)
        except CassetteError:
            return runs, None  # the file is being re-recorded because it cannot be read: nothing to keep
        others: list[RecordedRun] = []
        replaced: list[RecordedRun] = []
        for run in answered_runs(on_disk, source):
            (replaced if run.label in (label, None) else others).append(run)
        own = self._unchanged_kept(runs, replaced if rerecorded else [], {run.id for run in others})
        return others + own, source

    def _unchanged_kept(
        self, runs: list[RecordedRun], previous: Sequence[RecordedRun], taken: set[str]
    ) -> list[RecordedRun]:
        """`runs`, each one that records a run of `previous` unchanged replaced by that run; no id among `taken`."""
        pairs = pair_rerecorded(runs, previous, self.scrubber)
        used = taken | {pair.id for pair in pairs if pair is not None}
        written: list[RecordedRun] = []
        number = 1
        for run, pair in zip(runs, pairs, strict=True):
            if pair is not None:
                written.append(pair)
                continue
            if run.id in used:
                while f"run-{number}" in used:
                    number += 1
                run = dataclasses.replace(run, id=f"run-{number}")
            used.add(run.id)
            written.append(run)
        return written

    def _merged_with(
        self,
        on_disk: tuple[RecordedRun, ...],
        source: RunSource | None,
        runs: list[RecordedRun],
        *,
        rerecorded: bool = False,
        given: int = 0,
    ) -> list[RecordedRun]:
        """The runs on disk, then this cassette's new runs, with fresh ids where they clash.

        Runs on disk that no model ever answered (no request, an error: what earlier versions
        recorded for a run that failed at once) are dropped: they cannot be replayed, and left in
        place they would be picked for the live runs re-recorded now. With `rerecorded`, new runs
        that record a run on disk unchanged are not added: that run stays. The first `given` of
        `runs` are runs this cassette started with.
        """
        merged = answered_runs(on_disk, source)
        # The ids on disk: when all the runs loaded are kept, the set made at load serves.
        kept_all_loaded = on_disk is self._loaded and len(merged) == len(on_disk)
        on_disk_ids = self._loaded_ids if kept_all_loaded else frozenset(run.id for run in merged)
        # Runs this cassette started with (loaded from the file) are never edited, so never added; the
        # others are new, whatever their ids (a clash gets a fresh id below, never a dropped run).
        fresh = runs[given:]
        if rerecorded:
            pairs = pair_rerecorded(fresh, merged, self.scrubber)
            fresh = [run for run, pair in zip(fresh, pairs, strict=True) if pair is None]
        added: set[str] = set()
        number = len(merged)
        for run in fresh:
            if run.id in on_disk_ids or run.id in added:
                while f"run-{number}" in on_disk_ids or f"run-{number}" in added:
                    number += 1
                run = dataclasses.replace(run, id=f"run-{number}")
            added.add(run.id)
            merged.append(run)
        return merged


def _read_runs(
    data: bytes, text: str, file: Path, file_format: FileFormat, *, lazy: bool
) -> tuple[list[RecordedRun], str | None, RunSource | None]:
    """The runs, header comment and source of a cassette file: run by run where it follows the writer's layout."""
    if file_format == "yaml":
        if lazy:
            loaded = load_lazily(text, file)
            if loaded is not None:
                return loaded
        else:
            comment = header_comment(text)
            checked = load_eagerly(text, file, comment)
            if checked is not None:
                return checked[0], comment, checked[1]
    return load_whole(data, text, file, file_format)


def _signature(status: os.stat_result) -> tuple[int, ...]:
    """What tells a file from its next version: saves rename a new file into place (a new inode), and
    any write in place changes the modification and change times."""
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


@contextmanager
def exclusive_directory_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `directory` (POSIX `flock`) while reading and writing in it.

    Separate processes (pytest-xdist workers) saving cassettes there take turns. Where `fcntl` is
    missing (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock
