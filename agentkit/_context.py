"""`RunContext`: what a tool, system prompt or validator can see of the run that called it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from agentkit.messages import ModelMessage
from agentkit.usage import Usage

if TYPE_CHECKING:
    from agentkit.models import Model

__all__ = ("AgentDepsT", "RunContext")

AgentDepsT = TypeVar("AgentDepsT", default=None)


@dataclass
class RunContext(Generic[AgentDepsT]):
    """Information about the current run, passed to tools that ask for it."""

    deps: AgentDepsT
    """The dependencies given to the run."""
    model: Model
    """The model the run uses."""
    usage: Usage
    """Usage so far in this run."""
    prompt: str | None
    """The user prompt of the run."""
    messages: list[ModelMessage] = field(default_factory=list)
    """The messages of the run so far."""
    tool_name: str | None = None
    """The name of the tool being called, inside a tool."""
    tool_call_id: str | None = None
    """The id of the tool call being handled, inside a tool."""
    retry: int = 0
    """How many times in a row the current tool (or the result) has been retried."""
    run_step: int = 0
    """How many model requests this run has made."""

    def replace_with(self, **changes: Any) -> RunContext[AgentDepsT]:
        """A copy of this context with `changes` applied."""
        return dataclasses.replace(self, **changes)
