"""Turning a model string such as `'openai:gpt-4o'` into a `Model`, without importing any SDK."""

from __future__ import annotations

from typing import Literal, TypeAlias

from agentkit.exceptions import UserError
from agentkit.models._base import Model

__all__ = ("KnownModelName", "infer_model")

KnownModelName: TypeAlias = (
    Literal["test", "openai:gpt-4o", "openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-latest"] | str
)

_PROVIDERS = {"openai": "OpenAIModel", "anthropic": "AnthropicModel"}


def infer_model(model: Model | KnownModelName) -> Model:
    """A `Model` for `model`; strings name a provider and a model, e.g. `'openai:gpt-4o'`.

    No SDK is imported and no key is read here: providers do that at their first request.
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str):
        raise UserError(f"Expected a Model or a model name string, got {model!r} (type={type(model).__name__})")
    if model == "test":
        from agentkit.models.test import TestModel

        return TestModel()
    provider, _, name = model.partition(":")
    if not name:
        if model.startswith(("gpt-", "o1", "o3")):
            provider, name = "openai", model
        elif model.startswith("claude"):
            provider, name = "anthropic", model
    if provider == "openai" and name:
        from agentkit.models.openai import OpenAIModel

        return OpenAIModel(name)
    if provider == "anthropic" and name:
        from agentkit.models.anthropic import AnthropicModel

        return AnthropicModel(name)
    error = UserError(f"Unknown model: {model}")  # the reference release's text
    error.add_note("expected 'test', 'openai:<model>' or 'anthropic:<model>', or a Model instance")
    raise error
