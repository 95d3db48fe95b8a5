"""Anthropic messages models on the official `anthropic` SDK (imported at first request)."""

from __future__ import annotations

from typing import Any

from agentkit._messages import ModelMessage, ModelResponse
from agentkit._settings import ModelSettings
from agentkit._usage import Usage
from agentkit.models._base import Model, ModelRequestParameters
from agentkit.models._guard import check_model_request_allowed
from agentkit.models._provider import import_sdk, read_api_key

__all__ = ("AnthropicModel",)


class AnthropicModel(Model):
    """A Claude model on the Anthropic messages API."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        anthropic_client: Any | None = None,
    ) -> None:
        self._model_name = model_name
        self.base_url = base_url
        self._api_key = api_key
        self._client = anthropic_client

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "anthropic"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        check_model_request_allowed(f"AnthropicModel {self._model_name!r}")
        import_sdk("anthropic", "anthropic")
        read_api_key(self._api_key, "ANTHROPIC_API_KEY", "Anthropic")
        raise NotImplementedError("AnthropicModel requests arrive with the providers issue")
