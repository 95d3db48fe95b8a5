"""Where a run gets the current time and fresh ids from: swappable per context for repeatable runs.

Every timestamp the runtime stamps on a message part and every tool-call id it makes comes from
here, so a test can pin both with `override_sources` and get bit-for-bit identical messages.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ("FixedClock", "SequentialIds", "new_id", "now", "override_sources")

Clock = Callable[[], datetime]
IdSource = Callable[[], str]


def _system_clock() -> datetime:
    return datetime.now(tz=UTC)


def _random_id() -> str:
    return os.urandom(12).hex()


_clock: ContextVar[Clock] = ContextVar("agentkit_clock", default=_system_clock)
_ids: ContextVar[IdSource] = ContextVar("agentkit_ids", default=_random_id)


def now() -> datetime:
    """The current time according to the clock in force in this context."""
    return _clock.get()()


def new_id(prefix: str = "call_") -> str:
    """A fresh id from the id source in force in this context, with `prefix` in front."""
    return prefix + _ids.get()()


@contextmanager
def override_sources(*, clock: Clock | None = None, ids: IdSource | None = None) -> Iterator[None]:
    """Use `clock` for timestamps and `ids` for tool-call ids inside this block (context-local)."""
    clock_token = _clock.set(clock) if clock is not None else None
    ids_token = _ids.set(ids) if ids is not None else None
    try:
        yield
    finally:
        if ids_token is not None:
            _ids.reset(ids_token)
        if clock_token is not None:
            _clock.reset(clock_token)


@dataclass
class FixedClock:
    """A clock that starts at `start` and moves by `step` each time it is read."""

    start: datetime = field(default_factory=lambda: datetime(2025, 1, 1, tzinfo=UTC))
    step: timedelta = timedelta(0)
    _reads: int = field(default=0, repr=False)

    def __call__(self) -> datetime:
        value = self.start + self.step * self._reads
        self._reads += 1
        return value


@dataclass
class SequentialIds:
    """An id source giving `000001`, `000002`, ... in order."""

    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def __call__(self) -> str:
        return f"{next(self._counter):06d}"
