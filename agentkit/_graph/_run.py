"""`AgentRun` (a run in progress, node by node) and `AgentRunResult` (a finished run)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from agentkit._context import AgentDepsT
from agentkit._graph._graph_context import GraphRunContext
from agentkit._graph._hooks import RunObserver
from agentkit._graph._nodes import AgentNode, End, ModelRequestNode, UserPromptNode
from agentkit.exceptions import UserError
from agentkit.messages import ModelMessage, ToolReturnPart, UserContent, messages_to_json
from agentkit.result import FinalResult, ResultDataT
from agentkit.usage import Usage

__all__ = ("AgentRun", "AgentRunResult", "RunResult")


class _MessagesMixin:
    """Accessors shared by running and finished runs."""

    _messages: list[ModelMessage]
    _new_message_index: int
    _result_tool_name: str | None = None

    def all_messages(self, *, result_tool_return_content: str | None = None) -> list[ModelMessage]:
        """Every message of the conversation, including any `message_history` given to the run.

        Args:
            result_tool_return_content: if given, a copy of the messages is returned in which the
                return of the result tool call (in the last message) has this content instead, to
                continue the conversation with a different answer to that call.
        """
        if result_tool_return_content is not None:
            return self._with_result_tool_return(result_tool_return_content)
        return list(self._messages)

    def new_messages(self, *, result_tool_return_content: str | None = None) -> list[ModelMessage]:
        """The messages made by this run (see `all_messages` for `result_tool_return_content`)."""
        return self.all_messages(result_tool_return_content=result_tool_return_content)[self._new_message_index :]

    def all_messages_json(self, *, result_tool_return_content: str | None = None) -> bytes:
        """`all_messages()` as JSON; load it back with `ModelMessagesTypeAdapter.validate_json`."""
        return messages_to_json(self.all_messages(result_tool_return_content=result_tool_return_content))

    def new_messages_json(self, *, result_tool_return_content: str | None = None) -> bytes:
        """`new_messages()` as JSON."""
        return messages_to_json(self.new_messages(result_tool_return_content=result_tool_return_content))

    def _with_result_tool_return(self, content: str) -> list[ModelMessage]:
        name = self._result_tool_name
        if not name:
            raise ValueError("Cannot set result tool return content when the return type is `str`.")
        messages = copy.deepcopy(self._messages)
        last = messages[-1]
        for part in last.parts:
            if isinstance(part, ToolReturnPart) and part.tool_name == name:
                part.content = content
                return messages
        raise LookupError(f"No tool call found with tool name {name!r}.")


@dataclass
class AgentRunResult(_MessagesMixin, Generic[ResultDataT]):
    """A finished run: its typed `data`, its messages and its usage."""

    data: ResultDataT
    _messages: list[ModelMessage] = field(repr=False)
    _new_message_index: int = field(repr=False)
    _usage: Usage = field(repr=False)
    _result_tool_name: str | None = field(default=None, repr=False)

    def usage(self) -> Usage:
        return self._usage


RunResult = AgentRunResult
"""The name agentkit gave `AgentRunResult` first; the reference release (and its reprs) say `AgentRunResult`."""


class AgentRun(_MessagesMixin, Generic[AgentDepsT, ResultDataT]):
    """A run in progress. Iterate it for its nodes, or drive it by hand with `next(node)`.

    The first node yielded is the `ModelRequestNode` carrying the prompt; the last is `End`. Driven
    by hand, the run starts at `next_node`, a `UserPromptNode`, as in the reference release.
    """

    def __init__(
        self,
        ctx: GraphRunContext,
        first_node: ModelRequestNode,
        observers: list[RunObserver],
        user_prompt: str | Sequence[UserContent] = "",
    ) -> None:
        self._ctx = ctx
        self._next_node: AgentNode | UserPromptNode = UserPromptNode(user_prompt, first_node)
        self._observers = observers
        self._yielded = 0
        self._result: AgentRunResult[ResultDataT] | None = None
        self._messages = ctx.state.message_history
        self._new_message_index = ctx.deps.new_message_index
        self._notify(first_node)

    @property
    def ctx(self) -> GraphRunContext:
        """The context the next node runs in (pass it to `node.stream(...)`)."""
        return self._ctx

    @property
    def next_node(self) -> AgentNode | UserPromptNode:
        """The node that will run next (or `End` when the run is over)."""
        return self._next_node

    @property
    def result(self) -> AgentRunResult[ResultDataT] | None:
        """The result, once the run has reached `End`; `None` before."""
        return self._result

    def usage(self) -> Usage:
        """Usage of the run so far."""
        return self._ctx.state.usage

    def __aiter__(self) -> AgentRun[AgentDepsT, ResultDataT]:
        return self

    async def __anext__(self) -> AgentNode:
        if isinstance(self._next_node, UserPromptNode):
            return await self.next(self._next_node)
        if isinstance(self._next_node, End):
            raise StopAsyncIteration
        return await self.next(self._next_node)

    async def next(self, node: AgentNode | UserPromptNode) -> AgentNode:
        """Run `node` and return the node after it."""
        if isinstance(node, UserPromptNode):
            # The first request was built (and shown to observers) with the run; this only hands it over.
            self._next_node = node.first_request
            return node.first_request
        if isinstance(node, End):
            raise UserError("The run has already ended; there is no node after End")
        next_node = await node.run(self._ctx)
        self._next_node = next_node
        if isinstance(next_node, End):
            self._finish(next_node.data)
        self._notify(next_node)
        return next_node

    def _notify(self, node: AgentNode) -> None:
        for observer in self._observers:
            observer.on_node(self._yielded, node)
        self._yielded += 1

    def _finish(self, final: FinalResult[Any]) -> None:
        self._result = AgentRunResult(
            final.data,
            self._messages,
            self._new_message_index,
            self._ctx.state.usage,
            final.tool_name,
        )

    def __repr__(self) -> str:
        # The reference's shape: what the run ended with (its FinalResult), or that it has not ended.
        ended = self._next_node.data if isinstance(self._next_node, End) else "<run not finished>"
        return f"<AgentRun result={ended} usage={self.usage()}>"
