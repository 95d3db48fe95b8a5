"""`RunContext`: what a tool, system prompt or validator can see of the run that called it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from agentkit.messages import ModelMessage, UserContent
from agentkit.usage import Usage

if TYPE_CHECKING:
    from agentkit.models import Model

__all__ = ("AgentDepsT", "RunContext")

AgentDepsT = TypeVar("AgentDepsT", default=None)


class _Unset:
    """The type of `_UNSET`: an argument left out, told apart from an explicit None."""


_UNSET = _Unset()


@dataclass
class RunContext(Generic[AgentDepsT]):
    """Information about the current run, passed to tools that ask for it."""

    deps: AgentDepsT
    """The dependencies given to the run."""
    model: Model
    """The model the run uses."""
    usage: Usage
    """Usage so far in this run."""
    prompt: str | Sequence[UserContent] | None
    """The user prompt the run was given, as given: text, or a sequence of text and media."""
    messages: list[ModelMessage] = field(default_factory=list)
    """The messages of the run so far."""
    tool_call_id: str | None = None
    """The id of the tool call being handled, inside a tool."""
    tool_name: str | None = None
    """The name of the tool being called, inside a tool."""
    retry: int = 0
    """How many times in a row the current tool (or the result) has been retried."""
    run_step: int = 0
    """How many model requests this run has made."""

    def replace_with(self, retry: int | None = None, tool_name: str | _Unset | None = _UNSET) -> RunContext[AgentDepsT]:
        """A copy of this context with a new `retry` count and/or `tool_name` (None clears the name)."""
        changes: dict[str, Any] = {}
        if retry is not None:
            changes["retry"] = retry
        if not isinstance(tool_name, _Unset):
            changes["tool_name"] = tool_name
        return dataclasses.replace(self, **changes)
