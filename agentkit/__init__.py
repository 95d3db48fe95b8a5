"""agentkit: an agent runtime whose every step is a node you can see, stream, record and replay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit._capture import capture_run_messages
from agentkit._context import RunContext
from agentkit._graph._graph_context import EndStrategy
from agentkit._graph._hooks import RunInfo, RunInterceptor, RunObserver, intercept_runs
from agentkit._graph._nodes import AgentNode, CallToolsNode, End, GraphRunContext, ModelRequestNode, UserPromptNode
from agentkit._graph._run import AgentRun, RunResult
from agentkit._graph._run_stream import StreamedRunResult
from agentkit._sources import FixedClock, SequentialIds, override_sources
from agentkit._streaming._agent_stream import AgentStream
from agentkit.agent import Agent
from agentkit.exceptions import (
    AgentkitError,
    AgentRunError,
    FallbackExceptionGroup,
    ModelHTTPError,
    ModelRequestsBlocked,
    ModelRetry,
    UnexpectedModelBehavior,
    UnknownMediaType,
    UsageLimitExceeded,
    UserError,
)
from agentkit.messages import (
    AgentStreamEvent,
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    HandleResponseEvent,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
)
from agentkit.result import FinalResult
from agentkit.settings import ModelSettings
from agentkit.tools import Tool, ToolDefinition
from agentkit.usage import Usage, UsageLimits

if TYPE_CHECKING:
    from agentkit.messages import ModelMessagesTypeAdapter
else:

    def __getattr__(name: str) -> Any:
        # made at first use (it imports pydantic), as `agentkit.messages` does
        if name == "ModelMessagesTypeAdapter":
            from agentkit.messages import messages_type_adapter

            return messages_type_adapter()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = (
    "Agent",
    "AgentNode",
    "AgentRun",
    "AgentRunError",
    "AgentStream",
    "AgentStreamEvent",
    "AgentkitError",
    "AudioUrl",
    "BinaryContent",
    "CallToolsNode",
    "DocumentUrl",
    "End",
    "EndStrategy",
    "FallbackExceptionGroup",
    "FinalResult",
    "FixedClock",
    "FunctionToolCallEvent",
    "FunctionToolResultEvent",
    "GraphRunContext",
    "HandleResponseEvent",
    "ImageUrl",
    "ModelHTTPError",
    "ModelMessage",
    "ModelMessagesTypeAdapter",
    "ModelRequest",
    "ModelRequestNode",
    "ModelRequestPart",
    "ModelRequestsBlocked",
    "ModelResponse",
    "ModelResponsePart",
    "ModelResponseStreamEvent",
    "ModelRetry",
    "ModelSettings",
    "PartDeltaEvent",
    "PartStartEvent",
    "RetryPromptPart",
    "RunContext",
    "RunInfo",
    "RunInterceptor",
    "RunObserver",
    "RunResult",
    "SequentialIds",
    "StreamedRunResult",
    "SystemPromptPart",
    "TextPart",
    "TextPartDelta",
    "Tool",
    "ToolCallPart",
    "ToolCallPartDelta",
    "ToolDefinition",
    "ToolReturnPart",
    "UnexpectedModelBehavior",
    "UnknownMediaType",
    "Usage",
    "UsageLimitExceeded",
    "UsageLimits",
    "UserContent",
    "UserError",
    "UserPromptNode",
    "UserPromptPart",
    "__version__",
    "capture_run_messages",
    "intercept_runs",
    "override_sources",
)
