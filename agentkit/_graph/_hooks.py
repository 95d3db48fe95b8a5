"""A small, documented seam for code outside the core to observe and wrap every run.

`intercept_runs(interceptor)` installs an interceptor for the runs started while its block is
active. For every such run the core calls `interceptor.start_run(info)`; the `RunObserver` it
returns can wrap the run's model, wrap each tool call, and sees every node and the end of the
run. The cassette recorder in `agentkit_testing` is built on this; the core never imports it.

Which runs a block sees (see `agentkit.block_scope`): the block's own context comes first, so
concurrent tasks each keep their own interceptors (two asyncio or trio tasks with two cassettes);
a run started where no block of its own is in force (a `threading.Thread`, a `ThreadPoolExecutor`
worker, a sync web framework's handler thread, which all start with an empty context) is seen by
the blocks active in the process at that moment, the innermost of nested ones. If blocks that do
not nest are open at once in unrelated threads or tasks, such a run cannot be attributed to one
of them and `active_interceptors()` raises `UserError`. A block stops applying when it exits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentkit.block_scope import BlockScopedStack
from agentkit.exceptions import UserError
from agentkit.messages import ModelMessage, RetryPromptPart, ToolCallPart, ToolReturnPart

if TYPE_CHECKING:
    from agentkit._graph._nodes import AgentNode
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
    interceptors: tuple[RunInterceptor, ...] = field(default=(), compare=False)
    """Every interceptor in force for this run, outermost first, so one can tell whether an inner
    one of its kind takes the run (nested cassettes: the innermost records or replays it)."""
    deps: Any = field(default=None, compare=False)
    """The run's dependencies (after `Agent.override`), so an interceptor can tell runs apart by them."""


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


_interceptors: BlockScopedStack[RunInterceptor] = BlockScopedStack("agentkit_interceptors")


def active_interceptors() -> tuple[RunInterceptor, ...]:
    """The interceptors in force for a run started here, outermost first.

    Raises:
        UserError: this context has no interceptor block of its own (e.g. a new thread) and blocks
            that do not nest are active at once elsewhere, so the run belongs to none of them clearly.
    """
    resolution = _interceptors.resolve()
    if resolution.source == "ambiguous":
        blocks = "; ".join(
            "[" + ", ".join(repr(interceptor) for interceptor in stack) + "]" for stack in resolution.candidates
        )
        raise UserError(
            "An agent run started in a context with no run interceptor of its own (e.g. a new thread), "
            f"while {len(resolution.candidates)} interception blocks that do not nest are active in other "
            f"threads or tasks: {blocks}. agentkit cannot tell which block the run belongs to. Start the run "
            "inside the block's context (asyncio.to_thread and anyio.to_thread.run_sync copy it; for a thread "
            "use contextvars.copy_context().run), open the block in the thread that runs the agent, or do "
            "not keep two such blocks open at once."
        )
    return resolution.values


@contextmanager
def intercept_runs(interceptor: RunInterceptor) -> Iterator[None]:
    """Install `interceptor` for every run started while the block is active.

    Runs in this context (and in tasks and `to_thread` workers that copy it) always see it; runs
    started in a context with no interceptor of its own, such as a plain thread, see it too (see
    the module docstring for nested and overlapping blocks). The block is unregistered when it
    exits, even on error.
    """
    with _interceptors.push(interceptor):
        yield
