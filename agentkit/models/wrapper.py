"""`WrapperModel`: a model that hands everything to another model, so a subclass changes only what it overrides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from agentkit.messages import ModelMessage, ModelResponse
from agentkit.models._base import Model, ModelRequestParameters, StreamedResponse
from agentkit.models._infer import KnownModelName, infer_model
from agentkit.settings import ModelSettings
from agentkit.usage import Usage

__all__ = ("WrapperModel",)


@dataclass(init=False, eq=False, repr=False)
class WrapperModel(Model):
    """A `Model` that forwards every member to `wrapped`: subclass it and override what you change.

    `model_name`, `system`, `base_url`, `sends_real_requests`, `request` and `request_stream` are
    the wrapped model's, read at each access, so a wrapper around a test double is never blocked by
    the request guard and one around a provider model is. A subclass that overrides `request`
    usually overrides `request_stream` too: a streamed run goes through `request_stream` only.
    Models compare by identity, as every other model does.

    Args:
        wrapped: the model to forward to, as a `Model` or a name such as `'openai:gpt-4o'`
            (resolved as `Agent` resolves it: no SDK import and no key needed here).
    """

    wrapped: Model

    def __init__(self, wrapped: Model | KnownModelName) -> None:
        self.wrapped = infer_model(wrapped)

    # A class variable on `Model` (a fixed answer per kind of model); a wrapper's answer is its wrapped one's.
    @property
    def sends_real_requests(self) -> bool:  # type: ignore[override]
        """Whether requests leave the process: exactly when the wrapped model's do."""
        return self.wrapped.sends_real_requests

    @property
    def model_name(self) -> str:
        return self.wrapped.model_name

    @property
    def system(self) -> str | None:
        return self.wrapped.system

    @property
    def base_url(self) -> str | None:
        return self.wrapped.base_url

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        return await self.wrapped.request(messages, model_settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        async with self.wrapped.request_stream(messages, model_settings, model_request_parameters) as streamed:
            yield streamed
