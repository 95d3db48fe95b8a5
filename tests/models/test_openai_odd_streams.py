"""`OpenAIModel`'s streamed answers from a real loopback server that sends chunks a well-behaved API never sends.

A stream either gives the run what the model meant, or fails with an error naming the model, what
was wrong and where: never a partial or wrong answer passed on as a whole one, never a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from scripted_server import Reply, ScriptedServer, serve_script, sse_event, sse_reply

from agentkit import Agent, AgentRunError, ModelHTTPError, ToolCallPart, UnexpectedModelBehavior
from agentkit.models import OpenAIModel, override_allow_model_requests

pytestmark = [
    pytest.mark.anyio,
    # Under trio the SDK leaves its inner stream generators unclosed after the last event (harmless).
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <async_generator object (SSEDecoder|AsyncStream|Response|PoolByteStream)\\."
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]

MODEL = "gpt-4o-mini"
DONE = "data: [DONE]\n\n"
USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny in {city}"


def chunk(delta: dict[str, Any] | None = None, finish_reason: str | None = None, **fields: Any) -> str:
    choices = [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}] if delta is not None else []
    document = {"id": "c1", "object": "chat.completion.chunk", "created": 1764148000, "model": MODEL}
    return sse_event(None, document | {"choices": choices} | fields)


def text_chunks(text: str, finish_reason: str | None = "stop") -> list[str]:
    return [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": text}),
        *([chunk({}, finish_reason)] if finish_reason else []),
        chunk(None, usage=USAGE),  # the usage chunk has no choices
    ]


def call_chunks(
    pieces: Sequence[str], finish_reason: str = "tool_calls", *, first: dict[str, Any], later: dict[str, Any]
) -> list[str]:
    """A streamed tool call: `first` opens it (name, and index/id as given), each piece adds `later` to its JSON."""
    opening = first | {"type": "function", "function": {"name": "get_weather", "arguments": ""}}
    return [
        chunk({"role": "assistant", "tool_calls": [opening]}),
        *(chunk({"tool_calls": [later | {"function": {"arguments": piece}}]}) for piece in pieces),
        chunk({}, finish_reason),
        chunk(None, usage=USAGE),
    ]


CITY = ['{"city":', ' "Paris"}']
INDEXED = {"first": {"index": 0, "id": "call_1"}, "later": {"index": 0}}


@asynccontextmanager
async def agent_on(server: ScriptedServer) -> AsyncIterator[Agent[None, str]]:
    async with openai.AsyncOpenAI(base_url=server.url, api_key="sk-test", max_retries=0) as client:
        yield Agent(OpenAIModel(MODEL, openai_client=client), tools=[get_weather])


async def stream(replies: Sequence[Reply]) -> tuple[str, list[ToolCallPart], list[Any]]:
    """The answer of a streamed run, the tool calls made on the way, and the JSON bodies the server got."""
    with serve_script(replies, path_prefix="/v1") as server:
        async with agent_on(server) as agent, agent.run_stream("What is the weather in Paris?") as streamed:
            data = await streamed.get_data()
        calls = [part for message in streamed.all_messages() for part in message.parts if part.part_kind == "tool-call"]
        return data, calls, [body for _, _, body in server.requests]


async def test_a_stream_without_done_is_whole_when_it_has_a_finish_reason() -> None:
    data, _, _ = await stream([sse_reply(text_chunks("Paris"))])
    assert data == "Paris"


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_a_stream_ending_without_a_finish_reason_is_an_error(framing: Any) -> None:
    cut = sse_reply([*text_chunks("Par", finish_reason=None)[:2], 'data: {"id": "c1", "obj'], framing=framing)
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await stream([cut])
    assert raised.value.message.startswith(f"The stream from OpenAI model {MODEL!r} at http://127.0.0.1:")
    assert "ended before the model finished (no chunk carried a finish_reason)" in raised.value.message
    assert '"content":"Par"' in str(raised.value.body)  # what arrived


async def test_a_stream_cut_mid_chunk_says_it_broke_off_not_that_the_server_is_unreachable() -> None:
    cut = sse_reply([*text_chunks("Par", finish_reason=None)[:2], 'data: {"id": "c1", "obj'], cut=True)
    with pytest.raises(AgentRunError, match=rf"^The stream from OpenAI model {MODEL!r} at .* broke off before its end"):
        await stream([cut])


async def test_a_chunk_without_choices_is_skipped() -> None:
    data, _, _ = await stream([sse_reply([chunk(None), *text_chunks("Paris"), DONE])])
    assert data == "Paris"


@pytest.mark.parametrize(
    "last", [{"index": 0, "finish_reason": "stop"}, {"index": 0, "delta": None, "finish_reason": "stop"}]
)
async def test_a_last_chunk_without_a_delta_ends_the_answer(last: dict[str, Any]) -> None:
    # It raised a bare AttributeError ('NoneType' object has no attribute 'content').
    replies = [sse_reply([*text_chunks("Paris", finish_reason=None)[:2], chunk(None, choices=[last]), DONE])]
    assert (await stream(replies))[0] == "Paris"


async def test_a_second_choice_is_an_error_not_text_joined_to_the_first() -> None:
    # The pieces of choice 1 were joined to the answer ('RomeParis').
    rome = chunk(None, choices=[{"index": 1, "delta": {"content": "Rome"}, "finish_reason": None}])
    with pytest.raises(UnexpectedModelBehavior, match=r"streamed choice 1 \(chunk 2\), but one answer was asked for"):
        await stream([sse_reply([chunk({"content": ""}), rome, *text_chunks("Paris"), DONE])])


@pytest.mark.parametrize(
    "keys",
    [
        {"first": {"id": "call_1"}, "later": {}},
        {"first": {"index": 0, "id": "call_1"}, "later": {}},
        {"first": {"id": "call_1"}, "later": {"id": "call_1"}},
    ],
    ids=["no-index-at-all", "index-only-first", "id-instead-of-index"],
)
async def test_tool_call_deltas_without_an_index_continue_their_call(keys: dict[str, dict[str, Any]]) -> None:
    # Pieces without an index used to start a nameless call of their own, and the call ran with no arguments.
    replies = [sse_reply([*call_chunks(CITY, **keys), DONE]), sse_reply([*text_chunks("Sunny"), DONE])]
    _, calls, _ = await stream(replies)
    assert calls == [ToolCallPart("get_weather", '{"city": "Paris"}', "call_1")]


async def test_a_tool_call_without_an_id_gets_one_that_its_return_carries_back() -> None:
    replies = [sse_reply([*call_chunks(CITY, first={"index": 0}, later={"index": 0}), DONE])]
    _, [call], bodies = await stream([*replies, sse_reply([*text_chunks("Sunny"), DONE])])
    assert call.tool_call_id is not None
    assistant, tool = bodies[1]["messages"][1:]
    assert assistant["tool_calls"][0]["id"] == tool["tool_call_id"] == call.tool_call_id  # was null, refused by OpenAI


async def test_a_first_tool_delta_with_neither_index_nor_id_is_an_error() -> None:
    nameless = call_chunks(CITY, first={}, later={})
    with pytest.raises(UnexpectedModelBehavior, match="a tool-call delta with neither an index nor an id, and no"):
        await stream([sse_reply([*nameless, DONE])])


async def test_invalid_json_arguments_at_the_end_go_back_to_the_model_as_a_retry() -> None:
    replies = [sse_reply([*call_chunks(['{"city":', ' "Pa'], **INDEXED), DONE]), sse_reply(text_chunks("Sunny"))]
    data, _, bodies = await stream(replies)
    assert data == "Sunny"
    retry = bodies[1]["messages"][-1]
    assert (retry["role"], retry["tool_call_id"]) == ("tool", "call_1")
    assert "Invalid JSON" in retry["content"]


async def test_text_cut_at_the_token_limit_is_the_answer() -> None:
    data, _, _ = await stream([sse_reply([*text_chunks("Par", "length"), DONE])])
    assert data == "Par"


async def test_a_tool_call_cut_at_the_token_limit_fails_at_once_naming_the_setting() -> None:
    cut = sse_reply([*call_chunks(['{"city":', ' "Pa'], "length", **INDEXED), DONE])
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await stream([cut, cut])
    assert raised.value.message == (
        f"OpenAI model {MODEL!r} reached its token limit in the middle of tool call 'get_weather' (finish_reason "
        "'length' in the stream's last choice): its arguments are cut off; raise the max_tokens setting"
    )
    assert raised.value.body == '{"city": "Pa'


async def test_a_filtered_answer_is_an_error_not_its_partial_text() -> None:
    with pytest.raises(UnexpectedModelBehavior, match="withheld by the server's content filter"):
        await stream([sse_reply([*text_chunks("Par", "content_filter"), DONE])])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ({"message": "The server had an error", "type": "server_error"}, 500),
        ({"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}, 429),
        ({"object": "error", "message": "Too long", "type": "BadRequestError", "code": 400}, 400),  # vLLM
    ],
)
async def test_an_error_chunk_mid_stream_is_a_model_http_error(error: dict[str, Any], status: int) -> None:
    broken = sse_reply([*text_chunks("Par", finish_reason=None)[:2], sse_event(None, {"error": error})])
    with pytest.raises(ModelHTTPError) as raised:
        await stream([broken])
    assert (raised.value.status_code, raised.value.model_name, raised.value.body) == (status, MODEL, error)


async def test_a_streamed_request_answered_with_html_quotes_the_page() -> None:
    page = Reply(body=b"<html>502 Bad Gateway</html>", content_type="text/html")
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await stream([page])
    assert "answered a streamed request with text/html, not server-sent events" in raised.value.message
    assert raised.value.body == "<html>502 Bad Gateway</html>"


async def test_a_chunk_whose_data_is_not_json_is_quoted_in_the_error() -> None:
    page = "data: <html>502 Bad Gateway</html>\n\n"
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await stream([sse_reply([*text_chunks("Par", finish_reason=None)[:2], page, DONE])])
    assert raised.value.message.startswith(f"OpenAI model {MODEL!r} at http://127.0.0.1:")
    assert "answered with an event whose data is not JSON" in raised.value.message
    assert raised.value.body == "<html>502 Bad Gateway</html>"
