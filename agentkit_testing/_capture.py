"""Capturing the agent runs made in a block, for assertions in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agentkit import (
    AgentNode,
    CallToolsNode,
    ModelMessage,
    ModelRequestNode,
    RunInfo,
    RunObserver,
    RunResult,
    intercept_runs,
)

__all__ = ("CapturedRun", "CapturedRuns", "capture_runs")


@dataclass
class CapturedRun:
    """One run seen in the block: who ran it, its nodes and messages, and how it ended."""

    agent_name: str | None
    model_name: str
    user_prompt: str
    nodes: list[AgentNode] = field(default_factory=list)
    result: RunResult[Any] | None = None
    error: BaseException | None = None
    _history: list[ModelMessage] = field(default_factory=list, repr=False)

    @property
    def messages(self) -> list[ModelMessage]:
        """Every message of the run, including any history it was given; complete even when it failed."""
        if self.result is not None:
            return self.result.all_messages()
        messages = list(self._history)
        for node in self.nodes:
            if isinstance(node, ModelRequestNode):
                messages.append(node.request)
            elif isinstance(node, CallToolsNode):
                messages.append(node.model_response)
        return messages


class CapturedRuns(list[CapturedRun]):
    """The runs made in a block, in the order they started."""

    def all_messages(self) -> list[ModelMessage]:
        """The messages of every run, one run after the other."""
        return [message for run in self for message in run.messages]


class _Observer(RunObserver):
    def __init__(self, run: CapturedRun) -> None:
        self.run = run

    def on_node(self, index: int, node: AgentNode) -> None:
        self.run.nodes.append(node)

    def on_end(self, result: Any, error: BaseException | None) -> None:
        self.run.result = result
        self.run.error = error


class _Capturer:
    def __init__(self) -> None:
        self.runs = CapturedRuns()

    def start_run(self, info: RunInfo) -> RunObserver:
        run = CapturedRun(
            info.agent_name, info.model.model_name, info.user_prompt, _history=list(info.message_history or ())
        )
        self.runs.append(run)
        return _Observer(run)


@contextmanager
def capture_runs() -> Iterator[CapturedRuns]:
    """Collect every agent run started while this block is active, with its nodes and messages.

    Runs of this context come first; runs started in threads with no interceptor of their own are
    collected too (see `agentkit.intercept_runs`). Join such threads before reading the list.
    """
    capturer = _Capturer()
    with intercept_runs(capturer):
        yield capturer.runs
