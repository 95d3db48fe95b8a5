"""`AnthropicModel` against a real loopback server sending answers a well-behaved API never sends.

Each answer either gives the run what the model meant, or fails with an error naming the model,
what was wrong and where (the field, the content block, the stream event): never a partial or
wrong answer passed on as a whole one, never a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anthropic
import pytest
from scripted_server import (
    SDK_STREAMS_LEFT_OPEN_UNDER_TRIO,
    Reply,
    ScriptedServer,
    json_reply,
    serve_script,
    sse_event,
    sse_reply,
)

from agentkit import Agent, AgentRunError, ModelHTTPError, UnexpectedModelBehavior
from agentkit.models import AnthropicModel, override_allow_model_requests

pytestmark = [
    pytest.mark.anyio,
    SDK_STREAMS_LEFT_OPEN_UNDER_TRIO,
]

MODEL = "claude-haiku-4-5"
TEXT = [{"type": "text", "text": "Paris"}]
TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny in {city}"


def message(content: list[dict[str, Any]], stop_reason: str | None = "end_turn", **fields: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    } | fields


def events(blocks: Sequence[str], stop_reason: str = "end_turn", *, stop: bool = True) -> list[str]:
    """A whole message stream around the content-block events `blocks`."""
    start = message([], None, usage={"input_tokens": 10, "output_tokens": 1})
    return [
        sse_event("message_start", {"type": "message_start", "message": start}),
        *blocks,
        sse_event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 7}},
        ),
        *([sse_event("message_stop", {"type": "message_stop"})] if stop else []),
    ]


def block_events(index: int, block: dict[str, Any], deltas: Sequence[dict[str, Any]] = ()) -> list[str]:
    return [
        sse_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}),
        *(
            sse_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            for delta in deltas
        ),
        sse_event("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def text_events(index: int, text: str) -> list[str]:
    return block_events(index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": text}])


def tool_events(index: int, pieces: Sequence[str]) -> list[str]:
    start = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
    return block_events(index, start, [{"type": "input_json_delta", "partial_json": piece} for piece in pieces])


@asynccontextmanager
async def agent_on(server: ScriptedServer, *, max_retries: int = 0) -> AsyncIterator[Agent[None, str]]:
    """An agent on a client of `server`, closed at the end (a pooled connection left open warns)."""
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=max_retries) as client:
        yield Agent(AnthropicModel(MODEL, anthropic_client=client), tools=[get_weather])


async def run(replies: Sequence[Reply], *, stream: bool = False, max_retries: int = 0) -> str:
    with serve_script(replies) as server:
        async with agent_on(server, max_retries=max_retries) as agent:
            if not stream:
                return (await agent.run("What is the weather in Paris?")).data
            async with agent.run_stream("What is the weather in Paris?") as streamed:
                return await streamed.get_data()


# --- stop reasons ------------------------------------------------------------------------------


async def test_text_cut_at_max_tokens_is_the_answer() -> None:
    assert await run([json_reply(message(TEXT, "max_tokens"))]) == "Paris"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_tool_call_cut_at_max_tokens_fails_at_once_naming_the_setting(stream: bool) -> None:
    cut = message([TOOL_USE | {"input": {}}], "max_tokens")
    reply = sse_reply(events(tool_events(0, ['{"ci', 'ty": "Pa']), "max_tokens")) if stream else json_reply(cut)
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([reply], stream=stream)
    assert raised.value.message.startswith(
        f"Anthropic model {MODEL!r} reached max_tokens in the middle of tool call 'get_weather' (stop_reason "
        "'max_tokens' in the "
    )
    assert raised.value.message.endswith("its arguments are cut off; raise the max_tokens setting")


async def test_nothing_before_max_tokens_names_the_setting() -> None:
    with pytest.raises(UnexpectedModelBehavior, match="reached max_tokens before it answered anything"):
        await run([json_reply(message([], "max_tokens"))])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_refusal_is_an_error_even_with_text_before_it(stream: bool) -> None:
    reply = sse_reply(events(text_events(0, "I can"), "refusal")) if stream else json_reply(message([], "refusal"))
    with pytest.raises(UnexpectedModelBehavior, match=rf"^Anthropic model {MODEL!r} declined to answer \(stop_reason"):
        await run([reply], stream=stream)


async def test_an_unknown_stop_reason_is_not_taken_for_a_whole_answer() -> None:
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([json_reply(message(TEXT, "pause_turn"))])
    assert "stopped for a reason agentkit does not know (stop_reason 'pause_turn' in the response" in str(raised.value)
    assert '"text":"Paris"' in str(raised.value)  # the body, to see what came


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_missing_stop_reason_is_not_taken_for_a_whole_answer(stream: bool) -> None:
    without_delta = [event for event in events(text_events(0, "Paris")) if "message_delta" not in event]
    reply = sse_reply(without_delta) if stream else json_reply(message(TEXT, None))
    with pytest.raises(UnexpectedModelBehavior, match=rf"^Anthropic model {MODEL!r} gave no stop_reason \(the "):
        await run([reply], stream=stream)


# --- content blocks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reasoning",
    [
        {"type": "thinking", "thinking": "Paris, surely.", "signature": "c2ln"},
        {"type": "redacted_thinking", "data": "x"},
    ],
    ids=["thinking", "redacted_thinking"],
)
async def test_reasoning_blocks_are_skipped(reasoning: dict[str, Any]) -> None:
    assert await run([json_reply(message([reasoning, *TEXT]))]) == "Paris"


async def test_a_streamed_thinking_block_is_skipped_with_its_deltas() -> None:
    thinking = block_events(
        0,
        {"type": "thinking", "thinking": "", "signature": ""},
        [{"type": "thinking_delta", "thinking": "Paris."}, {"type": "signature_delta", "signature": "c2ln"}],
    )
    assert await run([sse_reply(events([*thinking, *text_events(1, "Paris")]))], stream=True) == "Paris"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_an_unknown_block_type_fails_naming_it_and_its_index(stream: bool) -> None:
    odd = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
    if stream:
        reply = sse_reply(events([*text_events(0, "Paris"), *block_events(1, odd)]))
    else:
        reply = json_reply(message([*TEXT, odd]))
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([reply], stream=stream)
    assert raised.value.message.startswith(
        f"Anthropic model {MODEL!r} answered with a 'server_tool_use' content block (content block 1), which "
        "agentkit cannot read"
    )


async def test_an_unknown_delta_type_fails_naming_it() -> None:
    text = block_events(0, {"type": "text", "text": ""}, [{"type": "citations_delta", "citation": {}}])
    with pytest.raises(UnexpectedModelBehavior, match="sent a 'citations_delta' delta for content block 0"):
        await run([sse_reply(events(text))], stream=True)


@pytest.mark.parametrize(("value", "kind"), [([["city", "Paris"]], "an array"), ("Paris", "a string"), (None, "null")])
async def test_a_tool_input_that_is_not_an_object_fails_naming_the_tool(value: object, kind: str) -> None:
    # A list of pairs used to become a dict of them: a call the model never made.
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([json_reply(message([TOOL_USE | {"input": value}], "tool_use"))])
    assert raised.value.message == (
        f"Anthropic model {MODEL!r} called tool 'get_weather' (content[0]) with an `input` that is {kind}, not a "
        "JSON object of arguments"
    )


async def test_an_empty_content_list_is_an_empty_response() -> None:
    with pytest.raises(UnexpectedModelBehavior, match=r"^Received empty model response$"):
        await run([json_reply(message([]))])


async def test_missing_usage_leaves_the_tokens_unknown() -> None:
    document = message(TEXT)
    del document["usage"]
    with serve_script([json_reply(document)]) as server:
        async with agent_on(server) as agent:
            result = await agent.run("What is the weather in Paris?")
    assert result.data == "Paris"
    assert (result.usage().requests, result.usage().total_tokens) == (1, None)


# --- HTTP ----------------------------------------------------------------------------------------

RATE_LIMITED = {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}


async def test_a_429_is_retried_after_the_time_the_server_asks() -> None:
    limited = json_reply(RATE_LIMITED, status=429, headers=[("retry-after", "0")])
    assert await run([limited, json_reply(message(TEXT))], max_retries=1) == "Paris"


@pytest.mark.parametrize("header", [("retry-after", "3600"), ("retry-after-ms", "3600000")])
def test_a_429_asking_for_an_hour_fails_at_once_instead_of_sleeping(header: tuple[str, str]) -> None:
    # The client agentkit builds, with the SDK's default retries: it slept the hour (twice) before.
    # run_sync, as it closes that client when its loop ends.
    limited = json_reply(RATE_LIMITED, status=429, headers=[header])
    with serve_script([limited, json_reply(message(TEXT))]) as server, pytest.raises(ModelHTTPError) as raised:
        Agent(AnthropicModel(MODEL, api_key="sk-ant-test", base_url=server.url)).run_sync("Hi")
    assert (raised.value.status_code, raised.value.body, len(server.requests)) == (429, RATE_LIMITED, 1)


@pytest.mark.parametrize(
    ("status", "body"),
    [(429, RATE_LIMITED), (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})],
)
async def test_an_error_status_past_the_retries_is_a_model_http_error(status: int, body: dict[str, Any]) -> None:
    reply = json_reply(body, status=status, headers=[("retry-after", "0")])
    with pytest.raises(ModelHTTPError) as raised:
        await run([reply, reply], max_retries=1)
    assert (raised.value.status_code, raised.value.model_name, raised.value.body) == (status, MODEL, body)


@pytest.mark.parametrize("content_type", ["text/html", "application/json"])
async def test_a_body_that_is_not_json_is_quoted_in_the_error(content_type: str) -> None:
    page = Reply(body=b"<html>502 Bad Gateway</html>", content_type=content_type)
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([page])
    assert raised.value.message.startswith(f"Anthropic model {MODEL!r} at http://127.0.0.1:")
    assert "answered with a body that is not JSON" in raised.value.message
    assert raised.value.body == "<html>502 Bad Gateway</html>"


async def test_a_streamed_request_answered_with_json_is_not_an_empty_stream() -> None:
    with pytest.raises(UnexpectedModelBehavior, match="answered a streamed request with application/json, not server"):
        await run([json_reply(message(TEXT))], stream=True)


# --- broken streams ------------------------------------------------------------------------------

CUT_EVENT = 'event: content_block_delta\ndata: {"type": "content_block_delta", "ind'


async def test_a_stream_cut_mid_chunk_is_an_error_not_a_partial_answer() -> None:
    cut = sse_reply([*events(text_events(0, "Paris"))[:3], CUT_EVENT], cut=True)
    with pytest.raises(AgentRunError, match=rf"^The stream from Anthropic model {MODEL!r} at .* broke off before its"):
        await run([cut], stream=True)


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_a_stream_ending_without_message_stop_is_an_error(framing: Any) -> None:
    # The body ends cleanly, so only the missing message_stop tells the answer is incomplete.
    partial = sse_reply([*events(text_events(0, "Paris"))[:3], CUT_EVENT], framing=framing)
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([partial], stream=True)
    assert raised.value.message == (
        f"The stream of Anthropic model {MODEL!r} ended without its message_stop event after 3 events (the last "
        "a 'content_block_delta'): the answer is incomplete and was not used; send the request again"
    )


async def test_an_error_event_mid_stream_has_the_status_of_its_type() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    broken = sse_reply([*events(text_events(0, "Paris"))[:3], sse_event("error", overloaded)])
    with pytest.raises(ModelHTTPError) as raised:
        await run([broken], stream=True)
    assert (raised.value.status_code, raised.value.body) == (529, overloaded)  # was 200, the stream's status


async def test_tool_arguments_that_never_close_go_back_to_the_model_as_a_retry() -> None:
    broken = sse_reply(events(tool_events(0, ['{"ci', 'ty": "Pa']), "tool_use"))
    with serve_script([broken, sse_reply(events(text_events(0, "Sunny in Paris")))]) as server:
        async with agent_on(server) as agent, agent.run_stream("What is the weather in Paris?") as streamed:
            assert await streamed.get_data() == "Sunny in Paris"
        retry = server.requests[1][2]["messages"][-1]["content"][0]
    assert (retry["type"], retry["tool_use_id"], retry["is_error"]) == ("tool_result", "toolu_1", True)
    assert "Invalid JSON" in retry["content"]


async def test_an_event_whose_data_is_not_json_is_quoted_in_the_error() -> None:
    page = "event: content_block_delta\ndata: <html>502 Bad Gateway</html>\n\n"
    with pytest.raises(UnexpectedModelBehavior) as raised:
        await run([sse_reply([*events(text_events(0, "Paris"))[:3], page])], stream=True)
    assert "answered with an event whose data is not JSON" in raised.value.message
    assert raised.value.body == "<html>502 Bad Gateway</html>"
