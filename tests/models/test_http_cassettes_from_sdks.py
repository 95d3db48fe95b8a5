"""vcrpy HTTP cassettes around the provider SDKs (`agentkit_testing.vcr_config()`), from a real loopback server.

What is written holds no key (headers, query strings, error bodies that echo the key), and a
streamed (server-sent events) answer replays through vcrpy to the same run with the server gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import anthropic
import openai
import pytest
import vcr  # type: ignore[import-untyped]
from scripted_server import SDK_STREAMS_LEFT_OPEN_UNDER_TRIO, Reply, json_reply, serve_script, sse_reply
from test_anthropic_odd_answers import MODEL as CLAUDE
from test_anthropic_odd_answers import events, text_events
from test_openai_odd_streams import DONE, text_chunks

import agentkit_testing
from agentkit import Agent, ModelHTTPError, ModelMessage
from agentkit.models import AnthropicModel, Model, OpenAIModel, override_allow_model_requests

pytest_plugins = ["pytester"]

pytestmark = [
    pytest.mark.anyio,
    SDK_STREAMS_LEFT_OPEN_UNDER_TRIO,
]

KEY = "local-server-key-7f3a9c21"
"""A key of no known shape, as a local or Azure server takes: only the request shows that it is one."""

Provider = Literal["openai", "anthropic"]


def model_on(provider: Provider, url: str) -> tuple[Model, openai.AsyncOpenAI | anthropic.AsyncAnthropic]:
    if provider == "openai":
        azure_style = {"default_query": {"api-key": KEY}, "default_headers": {"api-key": KEY}}
        client: Any = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, **azure_style)
        return OpenAIModel("gpt-4o-mini", openai_client=client), client
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    client = anthropic.AsyncAnthropic(base_url=url, api_key=KEY, max_retries=0, default_headers=headers)
    return AnthropicModel(CLAUDE, anthropic_client=client), client


async def run_through_vcr(
    provider: Provider, cassette: Path, url: str, *, stream: bool, mode: str
) -> tuple[str, list[ModelMessage]]:
    """A run on `url` inside a vcrpy cassette: its answer and messages (or `ModelHTTPError` raised)."""
    model, client = model_on(provider, url)
    with vcr.VCR(**agentkit_testing.vcr_config(), record_mode=mode).use_cassette(str(cassette)):
        async with client:
            agent = Agent(model)
            if not stream:
                result = await agent.run("What is the capital of France?")
                return result.data, result.all_messages()
            async with agent.run_stream("What is the capital of France?") as streamed:
                return await streamed.get_data(), streamed.all_messages()


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def sse_answer(provider: Provider) -> Reply:
    if provider == "openai":
        return sse_reply([*text_chunks("Paris"), DONE])
    return sse_reply(events(text_events(0, "Paris")))


def echoing_401(provider: Provider) -> Reply:
    if provider == "openai":
        error: dict[str, Any] = {"message": f"Incorrect API key provided: {KEY}.", "type": "invalid_request_error"}
        return json_reply({"error": error}, status=401)
    return json_reply(
        {"type": "error", "error": {"type": "authentication_error", "message": f"bad key {KEY}"}}, status=401
    )


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_key_echoed_in_an_error_body_is_not_written(provider: Provider, tmp_path: Path) -> None:
    cassette = tmp_path / "http.yaml"
    with serve_script([echoing_401(provider)]) as server:
        with pytest.raises(ModelHTTPError) as recorded:
            await run_through_vcr(provider, cassette, server.url, stream=False, mode="once")
        url = server.url
    assert KEY in str(recorded.value)  # the server did echo it
    text = cassette.read_text()
    assert KEY not in text  # before the fix, the echoed key was written: it has no known shape
    assert text.count("<redacted:") >= 3  # the headers that carried it, and the echo

    with pytest.raises(ModelHTTPError) as replayed:
        await run_through_vcr(provider, cassette, url, stream=False, mode="none")
    assert replayed.value.status_code == 401
    assert KEY not in str(replayed.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_streamed_answer_replays_through_vcrpy_to_the_same_run(provider: Provider, tmp_path: Path) -> None:
    cassette = tmp_path / "http.yaml"
    with serve_script([sse_answer(provider)]) as server:
        live = await run_through_vcr(provider, cassette, server.url, stream=True, mode="once")
        url = server.url
    assert live[0] == "Paris"
    text = cassette.read_text()
    assert KEY not in text
    assert "text/event-stream" in text

    replayed = await run_through_vcr(provider, cassette, url, stream=True, mode="none")  # the server is gone
    assert replayed[0] == live[0]
    assert [message.parts for message in replayed[1][1:]] == [message.parts for message in live[1][1:]]


INNER_TESTS = """
import asyncio, os

import anthropic, openai, pytest

import agentkit_testing
from agentkit import Agent, ModelHTTPError
from agentkit.models import AnthropicModel, OpenAIModel

KEY, URL = "{key}", os.environ["INNER_URL"]  # not in a *_KEY variable, which the scrubber knows


@pytest.fixture
def vcr_config():
    return agentkit_testing.vcr_config()


async def openai_stream():
    client = openai.AsyncOpenAI(base_url=URL + "/v1", api_key=KEY, max_retries=0, default_query={"api-key": KEY})
    async with client, Agent(OpenAIModel("gpt-4o-mini", openai_client=client)).run_stream("Hi") as streamed:
        return await streamed.get_data()


async def anthropic_run():
    headers = {"x-api-key": KEY}
    async with anthropic.AsyncAnthropic(base_url=URL, api_key=KEY, max_retries=0, default_headers=headers) as client:
        return (await Agent(AnthropicModel("claude-haiku-4-5", anthropic_client=client)).run("Hi")).data


@pytest.mark.vcr
@pytest.mark.agentkit_allow_model_requests
def test_openai_stream():
    assert asyncio.run(openai_stream()) == "Paris"


@pytest.mark.vcr
@pytest.mark.agentkit_allow_model_requests
def test_anthropic_401():
    with pytest.raises(ModelHTTPError) as raised:
        asyncio.run(anthropic_run())
    assert raised.value.status_code == 401
"""


def test_pytest_recording_writes_no_key_and_replays_with_the_server_gone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_inner=INNER_TESTS.replace("{key}", KEY))
    with serve_script([sse_answer("openai"), echoing_401("anthropic")]) as server:
        monkeypatch.setenv("INNER_URL", server.url)
        pytester.runpytest("--record-mode=once", "-p", "no:cacheprovider").assert_outcomes(passed=2)
    written = sorted((pytester.path / "cassettes" / "test_inner").glob("*.yaml"))
    assert [path.name for path in written] == ["test_anthropic_401.yaml", "test_openai_stream.yaml"]
    for path in written:
        assert KEY not in path.read_text(), path.name
    pytester.runpytest("--record-mode=none", "-p", "no:cacheprovider").assert_outcomes(passed=2)
