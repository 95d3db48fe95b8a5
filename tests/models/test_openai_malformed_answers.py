"""The OpenAI-compatible model against a server that answers badly: one clear error per case, naming model and URL.

A real HTTP server on loopback sends the exact bytes of each case (bad JSON, a body that is not a
chat completion, wrong field types, a stream cut short or carrying an error event); the error must be
an `AgentkitError` naming the model, the server and what was wrong, never a bare `JSONDecodeError`,
`AttributeError` or `TypeError` from deep inside the SDK, and a stream cut short must not pass for
a complete answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from scripted_server import Reply, serve_script

from agentkit import Agent, AgentkitError, ModelHTTPError, UnexpectedModelBehavior
from agentkit.models import OpenAIModel, override_allow_model_requests
from agentkit.models._provider import close_loop_clients

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: at `[DONE]` the openai SDK (3.57) leaves its own SSE and httpx generators
    # unfinished, and trio reports them with a ResourceWarning when they are collected (any stream
    # from a real server does it, with or without these errors); the translation tested here does
    # not depend on the event loop.
    return "asyncio"


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


@contextmanager
def serve_bytes(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """A loopback server answering with exactly these bytes; yields its URL."""
    with serve_script([Reply(status=status, body=body, content_type=content_type)]) as server:
        yield server.url


@asynccontextmanager
async def agent_at(url: str) -> AsyncIterator[Agent[None, str]]:
    """An agent on the server at `url`; its HTTP client is closed before the test's event loop ends."""
    try:
        yield Agent(OpenAIModel("m", base_url=url, api_key="sk-test"))
    finally:
        await close_loop_clients()


def completion(message: Any, **fields: Any) -> bytes:
    body = {"id": "c", "object": "chat.completion", "created": 1764148000, "model": "m"}
    body["choices"] = [{"index": 0, "message": message, "finish_reason": "stop"}]
    return json.dumps({**body, **fields}).encode()


def events(*chunks: Any, done: bool = True) -> bytes:
    lines = [b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks]
    return b"".join(lines) + (b"data: [DONE]\n\n" if done else b"")


def chunk(delta: Any, finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return {"id": "c", "object": "chat.completion.chunk", "created": 1764148000, "model": "m", "choices": [choice]}


HI = {"role": "assistant", "content": "hi"}

MALFORMED_COMPLETIONS = {
    "bad JSON": (b'{"id": "c", "choices": [', "application/json", "not JSON"),
    "an empty body": (b"", "application/json", "not JSON"),
    "an HTML page": (b"<html>hello</html>", "text/html", "not JSON"),
    "a choice without a message": (
        json.dumps(
            {"id": "c", "created": 1, "model": "m", "choices": [{"index": 0, "finish_reason": "stop"}]}
        ).encode(),
        "application/json",
        "not a chat completion",
    ),
    "a text 'created'": (completion(HI, created="yesterday"), "application/json", "not a chat completion"),
    "text token counts": (
        completion(HI, usage={"prompt_tokens": "many", "completion_tokens": 1, "total_tokens": 2}),
        "application/json",
        "not a chat completion",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED_COMPLETIONS))
async def test_a_malformed_completion_is_one_error_naming_the_model_and_server(case: str) -> None:
    body, content_type, said = MALFORMED_COMPLETIONS[case]
    with serve_bytes(200, body, content_type) as url:
        async with agent_at(url) as agent:
            with pytest.raises(UnexpectedModelBehavior) as caught:
                await agent.run("hi")
    message = str(caught.value)
    assert "OpenAI model 'm'" in message
    assert url in message
    assert said in message


MALFORMED_STREAMS = {
    "a stream cut before its end": (
        events(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}), done=False),
        "ended before the model finished",
    ),
    "an event that is not JSON": (b'data: {"id": "c", "choices": [\n\n', "not JSON"),
    "a chunk with a text 'created'": (
        events({**chunk({"role": "assistant", "content": "hi"}, "stop"), "created": "yesterday"}),
        "not a chat completion chunk",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED_STREAMS))
async def test_a_malformed_stream_is_one_error_naming_the_model_and_server(case: str) -> None:
    body, said = MALFORMED_STREAMS[case]
    with serve_bytes(200, body, "text/event-stream") as url:
        async with agent_at(url) as agent:
            with pytest.raises(AgentkitError) as caught:
                async with agent.run_stream("hi") as result:
                    await result.get_data()
    message = str(caught.value)
    assert "OpenAI model 'm'" in message
    assert url in message
    assert said in message


async def test_an_error_event_in_a_stream_is_an_http_error_with_its_message() -> None:
    with serve_bytes(200, b'data: {"error": {"message": "server overloaded"}}\n\n', "text/event-stream") as url:
        async with agent_at(url) as agent:
            with pytest.raises(ModelHTTPError, match="server overloaded"):
                async with agent.run_stream("hi") as result:
                    await result.get_data()


async def test_a_json_answer_to_a_streamed_request_is_refused_by_its_content_type() -> None:
    with serve_bytes(200, completion(HI), "application/json") as url:
        async with agent_at(url) as agent:
            with pytest.raises(UnexpectedModelBehavior, match="not server-sent events"):
                async with agent.run_stream("hi") as result:
                    await result.get_data()


async def test_a_stream_cut_short_keeps_what_arrived_in_the_error() -> None:
    body = events(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}), done=False)
    with serve_bytes(200, body, "text/event-stream") as url:
        async with agent_at(url) as agent:
            with pytest.raises(UnexpectedModelBehavior) as caught:
                async with agent.run_stream("hi") as result:
                    await result.get_data()
    assert caught.value.body is not None
    assert "Hello" in caught.value.body


async def test_a_complete_stream_still_answers() -> None:
    body = events(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}), chunk({}, "stop"))
    with serve_bytes(200, body, "text/event-stream") as url:
        async with agent_at(url) as agent, agent.run_stream("hi") as result:
            assert await result.get_data() == "Hello"


async def test_an_unknown_finish_reason_is_accepted() -> None:
    body = completion(HI)
    body = body.replace(b'"finish_reason": "stop"', b'"finish_reason": "something_new"')
    with serve_bytes(200, body, "application/json") as url:
        async with agent_at(url) as agent:
            result = await agent.run("hi")
    assert result.data == "hi"
