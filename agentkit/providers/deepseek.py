"""The DeepSeek provider: DeepSeek's OpenAI-compatible API, for `OpenAIModel`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentkit.exceptions import UserError
from agentkit.providers.openai import OpenAICompatibleProvider, check_client_alone

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

__all__ = ("DeepSeekProvider",)


class DeepSeekProvider(OpenAICompatibleProvider):
    """DeepSeek's API at `https://api.deepseek.com`.

    Args:
        api_key: the key; the `DEEPSEEK_API_KEY` environment variable when omitted (one of them is required).
        openai_client: a ready `openai.AsyncOpenAI` for DeepSeek; then `api_key` and `http_client` must be None.
        http_client: an `httpx2.AsyncClient` for the SDK client to send its requests with.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        openai_client: AsyncOpenAI | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        check_client_alone(openai_client, api_key=api_key, http_client=http_client)
        api_key = api_key or os.environ.get("DEEPSEEK_API_KEY")
        if api_key is None and openai_client is None:
            raise UserError(
                "No API key for DeepSeek: set the DEEPSEEK_API_KEY environment variable "
                "or pass it via DeepSeekProvider(api_key=...)"
            )
        super().__init__(
            base_url="https://api.deepseek.com", api_key=api_key, openai_client=openai_client, http_client=http_client
        )

    @property
    def name(self) -> str:
        return "deepseek"
