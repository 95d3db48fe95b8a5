"""The state and fixed configuration of one run, shared by its nodes: `GraphRunContext`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from agentkit._context import RunContext
from agentkit._graph._hooks import RunObserver
from agentkit.exceptions import UnexpectedModelBehavior
from agentkit.messages import ModelMessage, UserContent
from agentkit.models._base import Model
from agentkit.result import ResultSchema, ResultValidator
from agentkit.settings import ModelSettings
from agentkit.tools import Tool
from agentkit.usage import Usage, UsageLimits

__all__ = ("EndStrategy", "GraphAgentDeps", "GraphAgentState", "GraphRunContext")

EndStrategy: TypeAlias = Literal["early", "exhaustive"]
"""What to do with the other tool calls of a response that carries a final result.

- `'early'`: answer them without running them;
- `'exhaustive'`: run the function tools anyway (their results are kept in the messages).
"""


@dataclass
class GraphAgentState:
    """What changes as a run goes: the messages, the usage, the retry counters."""

    message_history: list[ModelMessage]
    usage: Usage
    retries: int = 0
    """Retries of the result (text, result tool, unknown tool) so far."""
    run_step: int = 0
    tool_retries: dict[str, int] = field(default_factory=dict, repr=False)  # not in the reference's repr

    def increment_retries(self, max_result_retries: int, cause: BaseException | None = None) -> None:
        """Count one more result retry; past `max_result_retries`, the run fails."""
        self.retries += 1
        if self.retries > max_result_retries:
            error = UnexpectedModelBehavior(f"Exceeded maximum retries ({max_result_retries}) for result validation")
            raise error from cause


@dataclass
class GraphAgentDeps:
    """What stays fixed during a run: the model, tools, settings, limits, validators."""

    user_deps: Any
    prompt: str | Sequence[UserContent] | None
    new_message_index: int
    model: Model
    model_settings: ModelSettings | None
    usage_limits: UsageLimits
    max_result_retries: int
    default_tool_retries: int
    function_tools: dict[str, Tool[Any]]
    result_schema: ResultSchema
    result_validators: list[ResultValidator]
    observers: list[RunObserver]
    end_strategy: EndStrategy = "early"


@dataclass
class GraphRunContext:
    """The context each node runs in: `agent_run.ctx`."""

    state: GraphAgentState
    deps: GraphAgentDeps

    def run_context(self, **extra: Any) -> RunContext[Any]:
        state, deps = self.state, self.deps
        return RunContext(
            deps=deps.user_deps,
            model=deps.model,
            usage=state.usage,
            prompt=deps.prompt,
            messages=state.message_history,
            run_step=state.run_step,
            **extra,
        )
