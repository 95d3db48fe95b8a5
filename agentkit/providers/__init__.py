"""Providers: where a model's API lives and how to authenticate to it (`OpenAIProvider`, `DeepSeekProvider`).

A provider is handed to a model, e.g. `OpenAIModel('llama3.2', provider=OpenAIProvider(base_url=...))`.
Importing this package imports no SDK; each provider module imports its SDK when a client is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from agentkit.exceptions import UserError

__all__ = ("Provider", "infer_provider")

InterfaceClient = TypeVar("InterfaceClient")


class Provider(ABC, Generic[InterfaceClient]):
    """Where one API lives and how to authenticate to it; each serves one client interface.

    The OpenAI interface, for instance, is served by `OpenAIProvider` and `DeepSeekProvider`.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """The provider's name, e.g. `openai`."""

    @property
    @abstractmethod
    def base_url(self) -> str:
        """The API root."""

    @property
    @abstractmethod
    def client(self) -> InterfaceClient:
        """An authenticated SDK client for this provider."""


def infer_provider(provider: str) -> Provider[Any]:
    """The provider named `provider` (`'openai'` or `'deepseek'`), built with its defaults."""
    if provider == "openai":
        from agentkit.providers.openai import OpenAIProvider

        return OpenAIProvider()
    if provider == "deepseek":
        from agentkit.providers.deepseek import DeepSeekProvider

        return DeepSeekProvider()
    raise UserError(f"Unknown provider: {provider!r} (agentkit has 'openai' and 'deepseek')")
