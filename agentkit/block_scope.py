"""Settings installed by `with` blocks: context-local first, process-wide for contexts with none (threads).

Public so that extensions (the harness's pydantic-ai adapter among them) give their own blocks the
same rules as agentkit's run interceptors and request guard; `agentkit` itself does not re-export it.

A `ContextVar` is the primary home of such a setting. It follows the block's own task, every
task it starts, and `asyncio.to_thread` / `anyio.to_thread.run_sync` (which copy the context),
and it lets concurrent asyncio or trio tasks hold different settings at once. It does not follow
a run into a plain `threading.Thread`, a `ThreadPoolExecutor` worker or a web framework's handler
thread: those start with an empty context. So each block also registers its stack, while it is
active, in a lock-protected process-wide registry, and a context with no setting of its own (or
only settings of blocks that have ended) resolves against that registry:

- no block active anywhere: nothing is in force;
- the active blocks nest (one block, or blocks opened inside one another): the innermost is in
  force, with the ones around it;
- blocks that do not nest are active at once (opened in unrelated tasks or threads): the setting
  is ambiguous, and the caller decides (the run interceptors refuse the run with an error, the
  request guard blocks unless every candidate allows).

A block nests only inside the blocks of its own context. One opened in a context with no setting
of its own starts a stack of its own: it does not nest inside a block that happens to be open in
another thread, since two concurrent tasks started from an empty context would otherwise see
each other's blocks. Whatever a context holds, a block stops applying when it exits: stacks are
read through the liveness of their frames, so a thread or a task that outlives the block (with a
copy of its context) is no longer subject to it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

__all__ = ("BlockScopedStack", "Resolution")

T = TypeVar("T")


class _Frame(Generic[T]):
    """One block's entry in a stack; compared by identity, so equal values in two blocks stay apart."""

    __slots__ = ("active", "value")

    def __init__(self, value: T) -> None:
        self.value = value
        self.active = True


@dataclass(frozen=True)
class Resolution(Generic[T]):
    """What is in force for the current context, and where it came from."""

    values: tuple[T, ...]
    """The stack in force, outermost first; empty when nothing is in force or when it is ambiguous."""
    source: Literal["context", "process", "none", "ambiguous"]
    """`context`: this context's own blocks; `process`: the blocks active process-wide (this context
    has none of its own); `none`: no block is active; `ambiguous`: see `candidates`."""
    candidates: tuple[tuple[T, ...], ...] = ()
    """When ambiguous: the stacks of the blocks active at once that do not nest, each outermost first."""


def _live(stack: tuple[_Frame[T], ...]) -> tuple[_Frame[T], ...]:
    return tuple(frame for frame in stack if frame.active)


def _extends(longer: tuple[_Frame[T], ...], shorter: tuple[_Frame[T], ...]) -> bool:
    return len(longer) >= len(shorter) and all(a is b for a, b in zip(longer, shorter, strict=False))


def _values(stack: tuple[_Frame[T], ...]) -> tuple[T, ...]:
    return tuple(frame.value for frame in stack)


class _Stack(Generic[T]):
    """A context's stack of frames, with its resolution computed once (it is read on every run)."""

    __slots__ = ("frames", "resolution")

    def __init__(self, frames: tuple[_Frame[T], ...]) -> None:
        self.frames = frames
        self.resolution: Resolution[T] = Resolution(_values(frames), "context")


class BlockScopedStack(Generic[T]):
    """A stack of values pushed by nested `with` blocks; see the module docstring for the resolution."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._local: ContextVar[_Stack[T] | None] = ContextVar(name, default=None)
        self._lock = threading.Lock()
        self._active: dict[_Frame[T], tuple[_Frame[T], ...]] = {}
        """Every block active right now, in any thread: its innermost frame -> its whole stack."""
        self._version = 0
        """Bumped (under the lock) whenever a block starts or ends: every change of a frame's liveness."""
        self._process: tuple[int, Resolution[T]] = (0, Resolution((), "none"))
        """The process-wide resolution and the version it was computed at."""

    def resolve(self) -> Resolution[T]:
        """The stack in force for the current context."""
        own = self._local.get()
        if own is not None:
            for frame in own.frames:
                if not frame.active:
                    break
            else:
                return own.resolution  # the common case: every block of this context is still open
            live = _live(own.frames)
            if live:
                return Resolution(_values(live), "context")
        version, resolution = self._process
        if version == self._version:
            return resolution
        with self._lock:
            resolution = self._resolve_process()
            self._process = (self._version, resolution)
        return resolution

    @contextmanager
    def push(self, value: T) -> Iterator[None]:
        """Put `value` in force for this context and, as the fallback, for contexts with none of their own."""
        frame = _Frame(value)
        own = self._local.get()
        frames = (*(_live(own.frames) if own is not None else ()), frame)
        token = self._local.set(_Stack(frames))
        with self._lock:
            self._active[frame] = frames
            self._version += 1
        try:
            yield
        finally:
            # Unregister before anything that could raise, so the process-wide fallback never keeps
            # a block that has ended.
            with self._lock:
                frame.active = False
                del self._active[frame]
                self._version += 1
            self._local.reset(token)

    def _resolve_process(self) -> Resolution[T]:
        """From the live stacks of the active blocks, keep those no other active block nests inside."""
        stacks = [_live(stack) for stack in self._active.values()]
        innermost: list[tuple[_Frame[T], ...]] = []
        for stack in stacks:
            if not stack or any(other != stack and _extends(other, stack) for other in stacks):
                continue
            if not any(_extends(kept, stack) for kept in innermost):
                innermost.append(stack)
        if not innermost:
            return Resolution((), "none")
        if len(innermost) == 1:
            return Resolution(_values(innermost[0]), "process")
        return Resolution((), "ambiguous", tuple(_values(stack) for stack in innermost))
