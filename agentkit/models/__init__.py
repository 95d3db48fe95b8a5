"""Models: the `Model` interface, the test doubles, and model-name resolution.

Provider models (`OpenAIModel`, `AnthropicModel`) are imported on first access, so importing
this package never imports a provider SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._guard import (
    check_model_request_allowed,
    model_requests_allowed,
    override_allow_model_requests,
)
from agentkit.models._infer import KnownModelName, infer_model
from agentkit.models.function import (
    AgentInfo,
    DeltaToolCall,
    DeltaToolCalls,
    FunctionDef,
    FunctionModel,
    StreamFunctionDef,
)
from agentkit.models.test import TestModel

if TYPE_CHECKING:
    from agentkit.models.anthropic import AnthropicModel
    from agentkit.models.openai import OpenAIModel

__all__ = (
    "AgentInfo",
    "AnthropicModel",
    "DeltaToolCall",
    "DeltaToolCalls",
    "FunctionDef",
    "FunctionModel",
    "KnownModelName",
    "Model",
    "ModelRequestParameters",
    "OpenAIModel",
    "StreamFunctionDef",
    "StreamedResponse",
    "TestModel",
    "check_model_request_allowed",
    "infer_model",
    "model_requests_allowed",
    "override_allow_model_requests",
)


def __getattr__(name: str) -> Any:
    if name == "OpenAIModel":
        from agentkit.models.openai import OpenAIModel

        return OpenAIModel
    if name == "AnthropicModel":
        from agentkit.models.anthropic import AnthropicModel

        return AnthropicModel
    raise AttributeError(f"module 'agentkit.models' has no attribute {name!r}")
