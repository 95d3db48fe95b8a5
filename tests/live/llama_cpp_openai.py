"""pydantic-ai's OpenAI chat model set up for the local llama.cpp server, with that server's quirks handled.

What a user of llama-cpp-python's server (`--chat_format chatml-function-calling`) and a 135M model
does, through pydantic-ai's public API only (see .ci/LLM_SERVER_NOTES.md for the server's behaviour):

- An assistant turn that only calls tools is sent with `"content": null`, as OpenAI documents; the
  server rejects that with HTTP 500 and accepts `""`. An httpx transport (`http_client=` of
  `OpenAIProvider`) rewrites it on the way out; nothing else in the request changes.
- `max_tokens` is sent as `max_tokens`, not `max_completion_tokens`, which this server ignores
  (`OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)`).
- The server's template drops tool results, so the model would call a tool forever: tools are
  offered only until they have returned once (`prepare=offer_until_returned`).
- With tools offered the model answers with a tool call or an empty text; pydantic-ai answers an
  empty response with a retry prompt, so the agents allow a few retries.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelRequest, ToolReturnPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.tools import ToolDefinition

__all__ = ("EmptyContentTransport", "llama_cpp_model", "offer_until_returned")


class EmptyContentTransport(httpx2.AsyncBaseTransport):
    """Sends assistant messages whose `content` is null with `content: ""`, which llama.cpp's server accepts."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and request.url.path.endswith("/chat/completions"):
            body: dict[str, Any] = json.loads(request.content)
            for message in body.get("messages", []):
                if message.get("role") == "assistant" and message.get("content") is None:
                    message["content"] = ""
            content = json.dumps(body).encode()
            headers = httpx2.Headers(request.headers)
            headers["content-length"] = str(len(content))
            request = httpx2.Request(
                request.method, request.url, headers=headers, content=content, extensions=request.extensions
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def llama_cpp_model(name: str, base_url: str, http_client: httpx2.AsyncClient) -> OpenAIChatModel:
    """pydantic-ai's OpenAI chat model on llama.cpp's server at `base_url` (the key comes from OPENAI_API_KEY)."""
    provider = OpenAIProvider(base_url=base_url, http_client=http_client)
    return OpenAIChatModel(
        name, provider=provider, profile=OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)
    )


async def offer_until_returned(ctx: RunContext[Any], definition: ToolDefinition) -> ToolDefinition | None:
    """A tool's `prepare`: offer it until it has returned once (the server's template hides its results)."""
    returned = any(
        isinstance(part, ToolReturnPart) and part.tool_name == definition.name
        for message in ctx.messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    return None if returned else definition
