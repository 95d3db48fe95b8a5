"""`OpenAIModel` against HTTP cassettes, replayed offline.

Two kinds of cassettes live in `cassettes/test_openai/`:

- recorded from a real llama.cpp server (llama-cpp-python's OpenAI-compatible one, started with
  `.ci/llm_server.sh start PY 8765`, SmolLM2-135M): the tests that use `LLAMA_URL`. Re-record one:
  `pytest tests/models/test_openai.py --record-mode=rewrite -W ignore::ResourceWarning
  -W ignore::pytest.PytestUnraisableExceptionWarning -k <test>` (a finished event loop leaves
  its pooled connection for the garbage collector, which warns);
- written by hand in the documented chat-completions wire format, for what that server cannot be
  made to do (a 500, an empty answer, refusing `stream_options`, parallel streamed tool calls):
  the tests that use `STUB_URL`. A local stub served them while recording; edit the YAML to change one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import openai
import pytest
from pydantic import BaseModel
from scripted_server import ScriptedServer

from agentkit import (
    Agent,
    AgentRunError,
    ModelHTTPError,
    ModelRequest,
    ModelRequestsBlocked,
    ModelResponse,
    ModelRetry,
    ModelSettings,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    RunContext,
    TextPart,
    Tool,
    ToolCallPart,
    ToolCallPartDelta,
    ToolDefinition,
    ToolReturnPart,
    UnexpectedModelBehavior,
    UserError,
    UserPromptPart,
    capture_run_messages,
)
from agentkit.models import ModelRequestParameters, OpenAIModel, infer_model, override_allow_model_requests

pytestmark = [
    pytest.mark.anyio,
    # Under trio the SDK's stream leaves its inner SSE generators unclosed after `[DONE]` (harmless).
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <async_generator object (SSEDecoder|AsyncStream|Response)\\."
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]

LLAMA_URL = "http://127.0.0.1:8765/v1"
LLAMA_MODEL = "smollm2-135m-instruct"
STUB_URL = "http://127.0.0.1:8766/v1"
STUB_MODEL = "gpt-4o-mini"
API_KEY = "sk-test-not-a-real-key"
SETTINGS = ModelSettings(temperature=0.0, seed=1, max_tokens=40)

RecordedBodies = Callable[[], list[Any]]


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def llama() -> OpenAIModel:
    return OpenAIModel(LLAMA_MODEL, base_url=LLAMA_URL, api_key=API_KEY)


def stub(*, max_retries: int = 2) -> OpenAIModel:
    client = openai.AsyncOpenAI(base_url=STUB_URL, api_key=API_KEY, max_retries=max_retries)
    return OpenAIModel(STUB_MODEL, openai_client=client)


class CityInfo(BaseModel):
    city: str
    country: str


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: the city name, e.g. Paris.
    """
    return f"Sunny, 21 C in {city}"


def look_up_order(order_id: int) -> str:
    """Look up an order by its number."""
    if order_id == 42:
        raise ModelRetry("Order 42 does not exist; the latest order is 43.")
    return f"Order {order_id}: shipped"


async def hide_after_first_return(ctx: RunContext[None], tool: ToolDefinition) -> ToolDefinition | None:
    """Offer the tool until it has returned once (the small model would call it forever)."""
    returned = any(
        isinstance(part, ToolReturnPart)
        for message in ctx.messages
        if message.kind == "request"
        for part in message.parts
    )
    return None if returned else tool


# --- recorded from the llama.cpp server -----------------------------------------------------


@pytest.mark.vcr
async def test_text_answer(recorded_request_bodies: RecordedBodies) -> None:
    settings = ModelSettings(
        **SETTINGS, top_p=0.9, presence_penalty=0.1, frequency_penalty=0.2, stop_sequences=["\n\n"], timeout=60.0
    )
    result = await Agent(llama(), model_settings=settings).run("What is the capital of France?")

    assert result.data == "The capital of France is Paris."
    assert result.usage().requests == 1
    assert result.usage().request_tokens == 16
    assert result.usage().response_tokens == 7
    assert result.usage().total_tokens == 23
    response = result.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.model_name == LLAMA_MODEL
    assert response.timestamp.tzinfo is not None
    [body] = recorded_request_bodies()
    assert body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert {key: body[key] for key in ("temperature", "seed", "max_tokens", "top_p", "stop")} == {
        "temperature": 0.0,
        "seed": 1,
        "max_tokens": 40,
        "top_p": 0.9,
        "stop": ["\n\n"],
    }
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.1, 0.2)
    assert "tools" not in body
    assert "tool_choice" not in body


@pytest.mark.vcr
async def test_tool_call_round_trip(recorded_request_bodies: RecordedBodies) -> None:
    agent = Agent(
        llama(),
        tools=[Tool(get_weather, prepare=hide_after_first_return)],
        system_prompt="Use the tools to answer. Be brief.",
        model_settings=SETTINGS,
    )
    result = await agent.run("What is the weather in Paris?")

    messages = result.all_messages()
    call = messages[1].parts[0]
    assert isinstance(call, ToolCallPart)
    assert call.tool_name == "get_weather"
    assert call.args_as_dict() == {"city": "Paris"}
    assert isinstance(call.args, str)  # the JSON text exactly as received
    assert call.tool_call_id.startswith("call_")
    tool_return = messages[2].parts[0]
    assert isinstance(tool_return, ToolReturnPart)
    assert (tool_return.content, tool_return.tool_call_id) == ("Sunny, 21 C in Paris", call.tool_call_id)
    assert isinstance(result.data, str)
    assert result.data
    assert result.usage().requests == 2

    first, second = recorded_request_bodies()
    assert first["tool_choice"] == "auto"
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather in a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "description": "the city name, e.g. Paris."}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert second["messages"][0] == {"role": "system", "content": "Use the tools to answer. Be brief."}
    assistant, tool_message = second["messages"][2:]
    # llama.cpp's server rejects `content: null` beside tool calls: an empty string is sent.
    assert assistant["content"] == ""
    assert assistant["tool_calls"] == [
        {"id": call.tool_call_id, "type": "function", "function": {"name": "get_weather", "arguments": call.args}}
    ]
    assert tool_message == {"role": "tool", "tool_call_id": call.tool_call_id, "content": "Sunny, 21 C in Paris"}
    assert "tools" not in second


@pytest.mark.vcr
async def test_structured_result_via_final_result_tool(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(llama(), result_type=CityInfo, model_settings=SETTINGS).run("Tell me about Paris.")

    assert result.data == CityInfo(city="Paris", country="France")
    call = result.all_messages()[1].parts[0]
    assert isinstance(call, ToolCallPart)
    assert call.tool_name == "final_result"
    [body] = recorded_request_bodies()
    # The one required tool is named: llama.cpp's server refuses tool_choice='required'.
    assert body["tool_choice"] == {"type": "function", "function": {"name": "final_result"}}
    assert [tool["function"]["name"] for tool in body["tools"]] == ["final_result"]


@pytest.mark.vcr
async def test_stream_text() -> None:
    agent = Agent(llama(), model_settings=SETTINGS)
    async with agent.run_stream("What is the capital of France?") as streamed:
        deltas = [delta async for delta in streamed.stream_text(delta=True, debounce_by=None)]

    assert "".join(deltas) == "The capital of France is Paris."
    assert len(deltas) > 3
    response = streamed.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.parts == [TextPart("The capital of France is Paris.")]
    assert response.model_name == LLAMA_MODEL
    assert streamed.usage().requests == 1


@pytest.mark.vcr
async def test_stream_tool_call_args_split_across_chunks() -> None:
    model = llama()
    result_tool = ToolDefinition(
        "final_result",
        "The final response",
        CityInfo.model_json_schema(),
    )
    parameters = ModelRequestParameters(allow_text_result=False, result_tools=[result_tool])
    messages: list[Any] = [ModelRequest([UserPromptPart("Tell me about Paris.")])]
    async with model.request_stream(messages, SETTINGS, parameters) as streamed:
        events = [event async for event in streamed]

    start, *deltas = events
    assert isinstance(start, PartStartEvent)
    assert isinstance(start.part, ToolCallPart)
    assert start.part.tool_name == "final_result"  # the server repeats the name on every chunk; taken once
    assert len(deltas) > 5
    pieces = [
        event.delta.args_delta
        for event in deltas
        if isinstance(event, PartDeltaEvent) and event.index == 0 and isinstance(event.delta, ToolCallPartDelta)
    ]
    assert len(pieces) == len(deltas)
    [call] = streamed.get().parts
    assert isinstance(call, ToolCallPart)
    assert call.args == str(start.part.args) + "".join(piece for piece in pieces if isinstance(piece, str))
    assert CityInfo.model_validate_json(call.args_as_json_str()) == CityInfo(city="Paris", country="France")


@pytest.mark.vcr
async def test_stream_structured_result() -> None:
    agent = Agent(llama(), result_type=CityInfo, model_settings=SETTINGS)
    async with agent.run_stream("Tell me about Paris.") as streamed:
        data = await streamed.get_data()

    assert data == CityInfo(city="Paris", country="France")


@pytest.mark.vcr
async def test_http_4xx_raises_model_http_error() -> None:
    too_long = " ".join(["Paris"] * 2100)  # more tokens than the server's 2048-token context
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(llama(), model_settings=SETTINGS).run(too_long)

    assert raised.value.status_code == 400
    assert raised.value.model_name == LLAMA_MODEL
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "context_length_exceeded"


# --- written by hand in the chat-completions wire format --------------------------------------


@pytest.mark.vcr
async def test_http_5xx_raises_model_http_error() -> None:
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(stub(max_retries=0)).run("trigger a 500")

    assert raised.value.status_code == 500
    assert raised.value.model_name == STUB_MODEL
    assert raised.value.body == {
        "message": "The server had an error while processing your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }


@pytest.mark.vcr
async def test_retry_prompt_goes_back_as_a_tool_message(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(stub(), tools=[Tool(look_up_order)]).run("Look up the order.")

    assert result.data == "Order 43 has shipped."
    retry = result.all_messages()[2].parts[0]
    assert isinstance(retry, RetryPromptPart)
    assert recorded_request_bodies()[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_0rd3r1",
        "content": "Order 42 does not exist; the latest order is 43.\n\nFix the errors and try again.",
    }
    assert recorded_request_bodies()[2]["messages"][-1]["content"] == "Order 43: shipped"


@pytest.mark.vcr
async def test_empty_answer_is_unexpected_model_behavior() -> None:
    # pydantic-ai 0.0.39 fails at once on an empty answer (agentkit used to retry; the cassette keeps that retry)
    with (
        capture_run_messages() as messages,
        pytest.raises(UnexpectedModelBehavior, match=r"^Received empty model response$"),
    ):
        await Agent(stub(), retries=1).run("Say nothing, then answer.")
    empty = messages[1]
    assert isinstance(empty, ModelResponse)
    assert empty.parts == []


@pytest.mark.vcr
async def test_stream_options_refused_then_streamed_without_them(recorded_request_bodies: RecordedBodies) -> None:
    model = stub()
    async with Agent(model).run_stream("Stream without stream_options.") as streamed:
        assert await streamed.get_data() == "Fine, no usage."

    refused, accepted = recorded_request_bodies()
    assert refused["stream_options"] == {"include_usage": True}
    assert "stream_options" not in accepted
    assert streamed.usage().requests == 1
    assert streamed.usage().total_tokens is None


@pytest.mark.vcr
async def test_stream_parallel_tool_calls_by_index(recorded_request_bodies: RecordedBodies) -> None:
    agent = Agent(stub(), tools=[Tool(get_weather)])
    async with agent.run_stream("Stream the weather in Paris and Rome.") as streamed:
        text = await streamed.get_data()

    assert text == "Sunny in Paris, rainy in Rome."
    calls = streamed.all_messages()[1].parts
    assert calls == [
        ToolCallPart("get_weather", '{"city": "Paris"}', "call_p4r1s"),
        ToolCallPart("get_weather", '{"city": "Rome"}', "call_r0m3"),
    ]
    returns = streamed.all_messages()[2].parts
    assert [part.content for part in returns if isinstance(part, ToolReturnPart)] == [
        "Sunny, 21 C in Paris",
        "Sunny, 21 C in Rome",
    ]
    assert streamed.usage().request_tokens == 90 + 150
    assert streamed.usage().response_tokens == 30 + 8
    first_request = recorded_request_bodies()[0]
    assert first_request["stream"] is True
    assert first_request["stream_options"] == {"include_usage": True}


# --- no network ---------------------------------------------------------------------------


async def test_missing_key_raises_user_error_naming_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        await Agent("openai:gpt-4o").run("Hello")


def test_model_string_builds_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    Agent("openai:gpt-4o")
    model = infer_model("openai:gpt-4o")

    assert isinstance(model, OpenAIModel)
    assert (model.model_name, model.system) == ("gpt-4o", "openai")


async def test_blocked_requests_raise_before_anything_is_sent() -> None:
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked, match="OpenAIModel 'gpt-4o'"):
        await OpenAIModel("gpt-4o", api_key=API_KEY).request([], None, ModelRequestParameters())


async def test_connection_error_names_the_model_and_url() -> None:
    client = openai.AsyncOpenAI(base_url="http://127.0.0.1:1/v1", api_key=API_KEY, max_retries=0)
    model = OpenAIModel("local-model", openai_client=client)
    with pytest.raises(AgentRunError, match=r"Could not reach OpenAI model 'local-model' at http://127.0.0.1:1/v1"):
        await Agent(model).run("Hello")


async def test_timeout_names_the_model_and_the_setting() -> None:
    def time_out(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    http_client = httpx2.AsyncClient(transport=httpx2.MockTransport(time_out))
    client = openai.AsyncOpenAI(base_url=STUB_URL, api_key=API_KEY, max_retries=0, http_client=http_client)
    model = OpenAIModel(STUB_MODEL, openai_client=client)
    with pytest.raises(AgentRunError, match=r"'gpt-4o-mini' at http://127.0.0.1:8766/v1/ timed out.*timeout") as raised:
        await Agent(model).run("Hello")
    assert isinstance(raised.value.__cause__, openai.APITimeoutError)


def test_run_sync_twice_gets_a_client_per_event_loop(loopback_server: ScriptedServer) -> None:
    agent = Agent(OpenAIModel(STUB_MODEL, base_url=loopback_server.url, api_key=API_KEY))

    assert agent.run_sync("ping").data == "pong"
    assert agent.run_sync("ping").data == "pong"  # a client shared across loops fails: "Event loop is closed"


def test_run_sync_closes_the_client_it_built_before_its_loop_ends(
    loopback_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    close = openai.AsyncOpenAI.close

    async def closing(client: openai.AsyncOpenAI) -> None:
        await close(client)
        closed.append(client.is_closed())

    monkeypatch.setattr(openai.AsyncOpenAI, "close", closing)
    agent = Agent(OpenAIModel(STUB_MODEL, base_url=loopback_server.url, api_key=API_KEY))
    assert agent.run_sync("ping").data == "pong"
    assert agent.run_sync("ping").data == "pong"
    assert closed == [True, True]  # one client per loop, each closed by its run_sync
