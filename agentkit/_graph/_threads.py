"""Running sync functions in worker threads, and awaitables side by side, cheaply under asyncio.

anyio's `to_thread.run_sync` and task groups work under every backend but cost several event
loop turns each (checkpoints, a capacity limiter, cancel scopes). Under asyncio this module uses
native tasks and its own worker threads instead, with the same guarantees: the function never
runs on the event loop thread, it sees the caller's context variables, it holds one token of
anyio's default thread limiter while it runs (so `current_default_thread_limiter().total_tokens`
still bounds it), and a cancelled caller waits for a function already running to finish (a
function still queued is not started). Under trio (or anything else) anyio does the work.

One difference: these workers are not anyio worker threads, so inside them `anyio.from_thread.run`
needs its `token=` argument (from `anyio.lowlevel.current_token()`, taken on the loop).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Coroutine, Sequence
from contextvars import Context, copy_context
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.to_thread

from agentkit._imports import imported

if TYPE_CHECKING:
    import asyncio

__all__ = ("Outcome", "gather_in_order", "run_each_in_worker_thread", "run_in_worker_thread")

T = TypeVar("T")


def _running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop running in this thread, if any; asyncio is not imported to find out."""
    asyncio_module = imported("asyncio")
    if asyncio_module is None:
        return None
    try:
        loop: asyncio.AbstractEventLoop = asyncio_module.get_running_loop()
    except RuntimeError:
        return None
    return loop


async def run_in_worker_thread(function: Callable[[], T]) -> T:
    """Call `function` in a worker thread, in a copy of the caller's context, and return its value."""
    loop = _running_asyncio_loop()
    if loop is None:
        return await anyio.to_thread.run_sync(function)
    return await _POOL.run(loop, function)


async def run_each_in_worker_thread(functions: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
    """Run every function in a worker thread of its own, all at once; what each gave, in their order.

    No task is made for them under asyncio: the caller waits for the threads itself. Cancelled, it
    still waits for the functions running (the ones not started are dropped), then is cancelled.
    """
    loop = _running_asyncio_loop()
    if loop is not None:
        return await _POOL.run_each(loop, functions)
    outcomes: list[Outcome[T]] = [Outcome() for _ in functions]

    async def run_at(index: int) -> None:
        try:
            outcomes[index] = Outcome(await anyio.to_thread.run_sync(functions[index]))
        except Exception as error:
            outcomes[index] = Outcome(error=error)

    async with anyio.create_task_group() as group:
        for index in range(len(functions)):
            group.start_soon(run_at, index)
    return outcomes


async def gather_in_order(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run the coroutines concurrently, each in a task of its own, and return their values in their order.

    The first failure (in completion order) cancels the others and is raised, as a task group does;
    callers that want every outcome catch their coroutines' own errors.
    """
    if _running_asyncio_loop() is None:
        results: list[Any] = [None] * len(coroutines)
        async with anyio.create_task_group() as group:
            for index, coroutine in enumerate(coroutines):
                group.start_soon(_store, results, index, coroutine)
        return results
    import asyncio

    async with asyncio.TaskGroup() as task_group:
        tasks = [task_group.create_task(coroutine) for coroutine in coroutines]
    return [task.result() for task in tasks]


async def _store(results: list[Any], index: int, coroutine: Coroutine[Any, Any, Any]) -> None:
    results[index] = await coroutine


def _worker_context() -> Context:
    """A copy of the caller's context in which sniffio finds no async library, as in anyio's workers."""
    context = copy_context()
    sniffio = imported("sniffio")
    if sniffio is not None and context.get(sniffio.current_async_library_cvar) is not None:
        context.run(sniffio.current_async_library_cvar.set, None)
    return context


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a function run in a worker thread gave: its value, or the exception it raised."""

    value: T | None = None
    error: BaseException | None = None

    def unwrap(self) -> T:
        """The value; the exception if the function raised one."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class _Job:
    """One call handed to a worker: what to run, and (once it ran) its outcome."""

    __slots__ = ("abandoned", "context", "error", "finished", "function", "limiter", "loop", "value", "wakeup")

    def __init__(
        self, function: Callable[[], Any], loop: asyncio.AbstractEventLoop, limiter: anyio.CapacityLimiter
    ) -> None:
        self.function = function
        self.context: Context = _worker_context()
        self.loop = loop
        self.limiter = limiter
        self.wakeup: asyncio.Future[None] = loop.create_future()
        self.abandoned = False
        self.finished = False
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """In the worker: run the function, unless the caller gave up on it before it started."""
        if self.abandoned:
            return
        try:
            self.value = self.context.run(self.function)
        except BaseException as error:  # handed to the caller, which raises it
            self.error = error

    def wake_caller(self) -> None:
        """In the worker, once it is ready for its next job: tell the caller's loop that this one is done."""
        try:
            self.loop.call_soon_threadsafe(self._finish)
        except RuntimeError:  # the loop is closed: nobody waits any more
            if not self.loop.is_closed():
                raise

    def _finish(self) -> None:
        """On the loop: the job is over; its limiter token goes back at once, whoever waits for it."""
        self.finished = True
        self.limiter.release_on_behalf_of(self)
        if not self.wakeup.done():
            self.wakeup.set_result(None)

    def outcome(self) -> Outcome[Any]:
        error, self.error = self.error, None  # no reference cycle through the traceback
        return Outcome(self.value, error)


class _WorkerPool:
    """Worker threads shared by every asyncio loop of the process; idle ones end after a while.

    Each job submitted promises itself to an idle worker or starts a new one, so every job has a
    thread of its own and a job that blocks never holds up another (jobs are not batched). The
    jobs share one queue, so a worker that is already awake may take the next job first.
    """

    def __init__(self, idle_seconds: float = 10.0) -> None:
        self.idle_seconds = idle_seconds
        """How long an idle worker waits for a job before it ends (anyio's workers wait as long)."""
        self.workers = 0
        """Worker threads alive."""
        self._reset()

    def _reset(self) -> None:
        """Forget every worker: in a forked child the parent's threads do not exist."""
        self._jobs: SimpleQueue[_Job] = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        """Workers waiting for a job and not yet promised one."""
        self.workers = 0
        self._last_limiter: tuple[weakref.ref[asyncio.AbstractEventLoop], anyio.CapacityLimiter] | None = None

    def _limiter(self, loop: asyncio.AbstractEventLoop) -> anyio.CapacityLimiter:
        """anyio's default thread limiter of `loop`: one per loop, kept for the loop's life, so it is cached."""
        last = self._last_limiter  # one read: another thread's loop may replace it meanwhile
        if last is not None and last[0]() is loop:
            return last[1]
        limiter = anyio.to_thread.current_default_thread_limiter()  # tens of µs: a lookup through sniffio
        self._last_limiter = (weakref.ref(loop), limiter)
        return limiter

    async def run(self, loop: asyncio.AbstractEventLoop, function: Callable[[], T]) -> T:
        """Run `function` in a worker; if cancelled meanwhile, its own exception still wins."""
        job = await self._start(loop, function)
        try:
            await job.wakeup
        except BaseException:
            await _outlive_cancellation([job])
            if job.error is None:
                raise
        value: T = job.outcome().unwrap()
        return value

    async def run_each(self, loop: asyncio.AbstractEventLoop, functions: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
        """Run every function in a worker of its own, all at once, and wait for them all."""
        jobs: list[_Job] = []
        try:
            for function in functions:
                jobs.append(await self._start(loop, function))
            for job in jobs:
                if not job.finished:
                    await job.wakeup
        except BaseException:
            await _outlive_cancellation(jobs)
            raise
        return [job.outcome() for job in jobs]

    async def _start(self, loop: asyncio.AbstractEventLoop, function: Callable[[], Any]) -> _Job:
        """Hand `function` to a worker once the loop's thread limiter has a token for it."""
        job = _Job(function, loop, self._limiter(loop))
        try:
            job.limiter.acquire_on_behalf_of_nowait(job)
        except anyio.WouldBlock:
            await job.limiter.acquire_on_behalf_of(job)
        try:
            self._submit(job)
        except BaseException:
            job.limiter.release_on_behalf_of(job)
            raise
        return job

    def _submit(self, job: _Job) -> None:
        with self._lock:
            start = self._idle == 0
            if start:
                self.workers += 1
            else:
                self._idle -= 1
        if start:
            # Daemon threads: an idle worker must not hold up the interpreter's exit; a running job
            # always has a caller waiting for it, so no job is cut short at exit by this.
            worker = threading.Thread(target=self._work, name="agentkit worker thread", daemon=True)
            try:
                worker.start()
            except BaseException:
                with self._lock:
                    self.workers -= 1
                raise
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self.idle_seconds)
            except Empty:
                with self._lock:
                    if self._idle:  # no job is promised to this many idle workers: one of them ends
                        self._idle -= 1
                        self.workers -= 1
                        return
                continue
            job.run()
            # Counted idle before the caller is woken: its next job then finds this worker rather
            # than starting a thread, and this worker needs the GIL no more before it waits again.
            with self._lock:
                self._idle += 1
            job.wake_caller()
            del job


async def _outlive_cancellation(jobs: list[_Job]) -> None:
    """The caller was cancelled: jobs not started yet are dropped; running ones are waited for."""
    for job in jobs:
        job.abandoned = True
    with anyio.CancelScope(shield=True):  # anyio would deliver the cancellation again and again
        for job in jobs:
            while not job.finished:
                job.wakeup = job.loop.create_future()
                try:
                    await job.wakeup
                except BaseException:  # a second plain-asyncio cancellation: still wait for the thread
                    continue


_POOL = _WorkerPool()
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_POOL._reset)
