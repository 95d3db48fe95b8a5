"""What both runtimes' `cassette()` blocks share: opening the file, the replay-or-record decision, the played runs.

`CassetteSession` (agentkit runs, `_context`) and `PydanticAISession` (`pydantic_ai._session`) tell
runs apart and replay them differently; the cassette they open and how the record mode reads are one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import ClassVar, NotRequired

from typing_extensions import TypedDict, Unpack

from agentkit_testing._cassette._file import BeforeRecord, Cassette
from agentkit_testing._cassette._records import RecordedRun, RecordMode
from agentkit_testing._cassette._selection import RunSelector
from agentkit_testing._divergence import current_advice
from agentkit_testing._matching import Comparator, Matching, RunKey
from agentkit_testing._secrets import Scrubber

__all__ = ("BlockOptions", "BlockSession", "open_cassette")

_RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")


def open_cassette(
    path: str | os.PathLike[str] | Cassette,
    record_mode: RecordMode,
    *,
    scrub_patterns: Iterable[str | re.Pattern[str]],
    scrubber: Scrubber | None,
    before_record: BeforeRecord | None,
    lazy: bool,
) -> tuple[Cassette, bool]:
    """The cassette a block works on and whether it existed; emptied for `rewrite`, never read for it.

    `lazy` loads the file's runs as they are looked at (see `Cassette.load`).
    """
    if record_mode not in _RECORD_MODES:
        raise ValueError(f"record_mode must be one of {', '.join(_RECORD_MODES)}; got {record_mode!r}")
    if isinstance(path, Cassette):
        store = path
        existed = store.path.exists() if store.path is not None else bool(store.runs)
    else:
        active_scrubber = scrubber if scrubber is not None else Scrubber(scrub_patterns)
        file = os.fspath(path)
        existed = os.path.exists(file)
        if existed and record_mode != "rewrite":
            store = Cassette.load(file, scrubber=active_scrubber, before_record=before_record, lazy=lazy)
        else:
            store = Cassette(file, scrubber=active_scrubber, before_record=before_record)
    if record_mode == "rewrite":
        store.clear()
    return store, existed


class BlockOptions(TypedDict):
    """How a `cassette()` block was asked to work, beside its cassette and record mode."""

    existed: bool
    """Whether the cassette file (or the in-memory cassette's runs) was there before the block."""
    matching: Matching
    external_tools: frozenset[str]
    label: str | None
    allow_playback_repeats: NotRequired[bool]


class BlockSession:
    """The state every `cassette()` block keeps: its cassette and mode, whether it replays or records, its selector."""

    _foreign_runs: ClassVar[bool] = False
    """Whether the block answers for runs of another runtime than agentkit's (`RecordedRun.runtime` set)."""

    def __init__(
        self,
        cassette: Cassette,
        record_mode: RecordMode,
        *,
        identity: Callable[[RecordedRun], RunKey] | None = None,
        **options: Unpack[BlockOptions],
    ) -> None:
        """`identity` is how the selector keys a recorded run (by default as agentkit runs are keyed)."""
        existed, matching, label = options["existed"], options["matching"], options["label"]
        self.cassette = cassette
        self.record_mode = record_mode
        self.label = label
        self.advice = current_advice()
        """How this block's errors tell the user to record again (the pytest option, or `record_mode=`)."""
        self._existed = existed
        self._external_tools = options["external_tools"]
        self._comparator = Comparator(matching, cassette.scrubber)
        self._replays = record_mode in ("none", "new_episodes") or (record_mode == "once" and existed)
        self._records = record_mode in ("new_episodes", "all", "rewrite") or (record_mode == "once" and not existed)
        self._selector = (
            RunSelector(
                cassette.runs,
                self._comparator,
                repeats=options.get("allow_playback_repeats", False),
                path=cassette.path,
                identity=identity,
                advice=self.advice,
            )
            if self._replays
            else None
        )
        self.check_unplayed_runs = True
        """Whether the end of the block checks that every recorded run was played (see `check_all_played`);
        the pytest fixture turns it off when the test itself failed, so that failure is the one reported."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.cassette.path} record_mode={self.record_mode!r}>"

    @property
    def replays(self) -> bool:
        """Whether this block replays runs: `none`, `new_episodes`, or `once` on a file that exists."""
        return self._replays

    @property
    def records(self) -> bool:
        """Whether this block records runs: its mode records, or it is `once` on a file with nothing to replay."""
        return self._records

    @property
    def replayed_runs(self) -> list[RecordedRun]:
        """Recorded runs replayed in this block."""
        return self._selector.played() if self._selector is not None else []

    def check_all_played(self) -> None:
        """Raise `UnplayedRuns` when this block replays and recorded runs of its runtime were never played.

        Only runs with the block's `label` (or none) are checked. Skipped when
        `Matching(allow_unplayed_runs=True)`, when `check_unplayed_runs` is off, and in the modes that
        record (`new_episodes`, `all`, `rewrite`, `once` on a new file). `cassette()` calls it when its
        block ends without an error (an error leaving the block is never masked by it).
        """
        allowed = self._comparator.matching.allow_unplayed_runs or not self.check_unplayed_runs
        if self._selector is not None and not self._records and not allowed:
            self._selector.check_all_played(self.record_mode, self.label, foreign=self._foreign_runs)
