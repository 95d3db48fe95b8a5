"""OpenAI-compatible chat models on the official `openai` SDK (imported at first request)."""

from __future__ import annotations

from typing import Any

from agentkit._messages import ModelMessage, ModelResponse
from agentkit._settings import ModelSettings
from agentkit._usage import Usage
from agentkit.models._base import Model, ModelRequestParameters
from agentkit.models._guard import check_model_request_allowed
from agentkit.models._provider import import_sdk, read_api_key

__all__ = ("OpenAIModel",)


class OpenAIModel(Model):
    """A chat-completions model of OpenAI or any OpenAI-compatible server."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        openai_client: Any | None = None,
    ) -> None:
        self._model_name = model_name
        self.base_url = base_url
        self._api_key = api_key
        self._client = openai_client

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "openai"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        check_model_request_allowed(f"OpenAIModel {self._model_name!r}")
        import_sdk("openai", "openai")
        read_api_key(self._api_key, "OPENAI_API_KEY", "OpenAI")
        raise NotImplementedError("OpenAIModel requests arrive with the providers issue")
