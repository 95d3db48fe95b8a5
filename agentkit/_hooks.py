"""A small, documented seam for code outside the core to observe and wrap every run.

`intercept_runs(interceptor)` installs an interceptor for the current context (task-local,
so concurrent tests do not see each other's). For every run started in that context the core
calls `interceptor.start_run(info)`; the `RunObserver` it returns can wrap the run's model,
wrap each tool call, and sees every node and the end of the run. The cassette recorder in
`agentkit_testing` is built on this; the core never imports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from agentkit.messages import ModelMessage, RetryPromptPart, ToolCallPart, ToolReturnPart

if TYPE_CHECKING:
    from agentkit._nodes import AgentNode
    from agentkit.models import Model

__all__ = ("RunInfo", "RunInterceptor", "RunObserver", "active_interceptors", "intercept_runs")


@dataclass(frozen=True)
class RunInfo:
    """Identifies a run to an interceptor."""

    agent_name: str | None
    model: Model
    user_prompt: str
    message_history: list[ModelMessage] | None
    streamed: bool


class RunObserver:
    """Per-run callbacks; every method has a do-nothing default, so override only what you need."""

    def wrap_model(self, model: Model) -> Model:
        """Return the model the run should use instead of `model` (e.g. a recorder around it)."""
        return model

    async def call_tool(
        self,
        call: ToolCallPart,
        execute: Callable[[], Awaitable[ToolReturnPart | RetryPromptPart]],
    ) -> ToolReturnPart | RetryPromptPart:
        """Run one tool call; `execute()` runs it for real."""
        return await execute()

    def on_node(self, index: int, node: AgentNode) -> None:
        """Called with each node as the run yields it, numbered from 0."""

    def on_end(self, result: Any, error: BaseException | None) -> None:
        """Called once when the run ends: with its `FinalResult`, or with the error that ended it."""


class RunInterceptor(Protocol):
    """Something that wants to observe runs: returns a `RunObserver` for a run, or `None` to skip it."""

    def start_run(self, info: RunInfo) -> RunObserver | None: ...


_interceptors: ContextVar[tuple[RunInterceptor, ...]] = ContextVar("agentkit_interceptors", default=())


def active_interceptors() -> tuple[RunInterceptor, ...]:
    """The interceptors in force in this context, outermost first."""
    return _interceptors.get()


@contextmanager
def intercept_runs(interceptor: RunInterceptor) -> Iterator[None]:
    """Install `interceptor` for runs started in this context, inside the block."""
    token = _interceptors.set((*_interceptors.get(), interceptor))
    try:
        yield
    finally:
        _interceptors.reset(token)
