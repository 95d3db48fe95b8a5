"""Models: the `Model` interface, the test doubles, and model-name resolution.

Provider models (`OpenAIModel`, `AnthropicModel`) are imported on first access, so importing
this package never imports a provider SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._guard import (
    check_allow_model_requests,
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

ALLOW_MODEL_REQUESTS: bool = True
"""Whether models that talk to real services may send requests, for runs no guard block covers.

pydantic-ai's switch: set `agentkit.models.ALLOW_MODEL_REQUESTS = False` (assign the attribute of
this module; a `from ... import` copy changes nothing) to block real requests everywhere. `TestModel`,
`FunctionModel` and cassette replay are never blocked. An `override_allow_model_requests` block in
force for a run (in its context, or active process-wide for a plain thread) takes precedence; the
agentkit pytest plugin opens one for every test, so there the record mode decides.
"""

__all__ = (
    "ALLOW_MODEL_REQUESTS",
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
    "check_allow_model_requests",
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
