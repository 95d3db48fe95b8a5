"""The OpenAI provider: OpenAI's API or any OpenAI-compatible server (llama.cpp, Ollama, vLLM...)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentkit.exceptions import UserError
from agentkit.models._provider import import_sdk, read_api_key
from agentkit.providers import Provider

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

__all__ = ("OpenAIProvider",)

OPENAI_BASE_URL = "https://api.openai.com/v1"
KEY_PLACEHOLDER = "api-key-not-set"
"""The key sent to a server other than OpenAI's when none is given: local servers need none, the SDK wants one."""


class OpenAICompatibleProvider(Provider["AsyncOpenAI"]):
    """What OpenAI-interface providers share: a base URL, a key, and the client a caller may hand in.

    When neither `openai_client` nor `http_client` is given, the model builds its own client per
    event loop from `base_url` and the key (pooled connections belong to the loop that opened them);
    `client` then builds one for callers that ask for it.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        openai_client: AsyncOpenAI | None,
        http_client: httpx2.AsyncClient | None,
    ) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._given_client = openai_client
        self._http_client = http_client
        self._built_client: AsyncOpenAI | None = None

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def client(self) -> AsyncOpenAI:
        if self._given_client is not None:
            return self._given_client
        if self._built_client is None:
            sdk = import_sdk("openai", "openai")
            self._built_client = sdk.AsyncOpenAI(
                base_url=self._base_url, api_key=self.api_key(), http_client=self._http_client
            )
        return self._built_client

    def api_key(self) -> str:
        """The key to send; a clear error naming the environment variable when one is needed and missing."""
        return read_api_key(self._api_key, "OPENAI_API_KEY", "OpenAI")

    def fixed_client(self) -> AsyncOpenAI | None:
        """The client every request must use (one the caller gave, or built on their `http_client`), else None."""
        if self._given_client is None and self._http_client is None:
            return None
        return self.client


def check_client_alone(openai_client: object, **others: object) -> None:
    """Refuse `openai_client` together with the settings it already carries."""
    if openai_client is None:
        return
    for name, value in others.items():
        if value is not None:
            raise UserError(f"Cannot provide both `openai_client` and `{name}`: the client already has its own")


class OpenAIProvider(OpenAICompatibleProvider):
    """OpenAI's API, or an OpenAI-compatible server at `base_url`.

    Args:
        base_url: the API root; the `OPENAI_BASE_URL` environment variable, else OpenAI's.
        api_key: the key; the `OPENAI_API_KEY` environment variable when omitted. A server other
            than OpenAI's gets a placeholder key when there is none (local servers need no key).
        openai_client: a ready `openai.AsyncOpenAI`; then `base_url`, `api_key` and `http_client` must be None.
        http_client: an `httpx2.AsyncClient` for the SDK client to send its requests with.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        openai_client: AsyncOpenAI | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        check_client_alone(openai_client, base_url=base_url, api_key=api_key, http_client=http_client)
        super().__init__(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
            api_key=api_key,
            openai_client=openai_client,
            http_client=http_client,
        )

    @property
    def name(self) -> str:
        return "openai"

    def api_key(self) -> str:
        if self._api_key is None and not os.environ.get("OPENAI_API_KEY") and self._base_url != OPENAI_BASE_URL:
            return KEY_PLACEHOLDER
        return super().api_key()
