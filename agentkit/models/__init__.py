"""Models: the `Model` interface, the test doubles, `WrapperModel`, and model-name resolution.

Provider models (`OpenAIModel`, `AnthropicModel`) are imported on first access, so importing
this package never imports a provider SDK; so are the test doubles (`TestModel`, `FunctionModel`
and its types) and `WrapperModel`, which `import agentkit` does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._guard import (
    check_allow_model_requests,
    check_model_request_allowed,
    model_requests_allowed,
    override_allow_model_requests,
)
from agentkit.models._infer import KnownModelName, infer_model

if TYPE_CHECKING:
    from agentkit.models.anthropic import AnthropicModel
    from agentkit.models.function import (
        AgentInfo,
        DeltaToolCall,
        DeltaToolCalls,
        FunctionDef,
        FunctionModel,
        StreamFunctionDef,
    )
    from agentkit.models.openai import OpenAIModel
    from agentkit.models.test import TestModel
    from agentkit.models.wrapper import WrapperModel

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
    "WrapperModel",
    "check_allow_model_requests",
    "check_model_request_allowed",
    "infer_model",
    "model_requests_allowed",
    "override_allow_model_requests",
)


_LAZY_MODULES = {
    "AgentInfo": "agentkit.models.function",
    "AnthropicModel": "agentkit.models.anthropic",
    "DeltaToolCall": "agentkit.models.function",
    "DeltaToolCalls": "agentkit.models.function",
    "FunctionDef": "agentkit.models.function",
    "FunctionModel": "agentkit.models.function",
    "OpenAIModel": "agentkit.models.openai",
    "StreamFunctionDef": "agentkit.models.function",
    "TestModel": "agentkit.models.test",
    "WrapperModel": "agentkit.models.wrapper",
}
"""The names imported from their module at first access."""


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'agentkit.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
