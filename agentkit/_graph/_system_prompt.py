"""System prompt functions: when they take the `RunContext`, and running them (sync ones in a thread)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agentkit._context import RunContext
from agentkit._graph._threads import run_in_worker_thread

__all__ = ("SystemPromptFunc", "SystemPromptRunner")

SystemPromptFunc = Callable[..., "str | Awaitable[str]"]


@dataclass
class SystemPromptRunner:
    """A registered system prompt function; `dynamic` ones are re-run when a message history is given."""

    function: SystemPromptFunc
    dynamic: bool = False
    _takes_ctx: bool = field(init=False)
    _is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        # As in the reference release: any parameter at all means the function takes the context.
        self._takes_ctx = len(inspect.signature(self.function).parameters) > 0
        self._is_async = inspect.iscoroutinefunction(self.function)

    @property
    def ref(self) -> str:
        """The `dynamic_ref` of the parts this function makes: its qualified name."""
        return self.function.__qualname__

    async def run(self, run_context: RunContext[Any]) -> str:
        args = (run_context,) if self._takes_ctx else ()
        if self._is_async:
            value: Any = await self.function(*args)  # type: ignore[misc]
        else:
            value = await run_in_worker_thread(lambda: self.function(*args))
        return str(value)
