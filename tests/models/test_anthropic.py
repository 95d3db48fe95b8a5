"""`AnthropicModel` against HTTP cassettes, replayed offline.

The Anthropic API cannot be reached from where these were made, so every cassette in
`cassettes/test_anthropic/` was written by hand in the documented messages-API wire format (JSON
bodies and `event:`/`data:` server-sent events): a local stub served those responses while the
real `anthropic` SDK sent its requests, and the requests were recorded as the SDK sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from pydantic import BaseModel

from agentkit import (
    Agent,
    ModelHTTPError,
    ModelRequest,
    ModelRequestsBlocked,
    ModelResponse,
    ModelRetry,
    ModelSettings,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolCallPartDelta,
    ToolDefinition,
    ToolReturnPart,
    UserError,
    UserPromptPart,
)
from agentkit.models import AnthropicModel, ModelRequestParameters, infer_model, override_allow_model_requests

pytestmark = [
    pytest.mark.anyio,
    # Under trio the SDK's stream leaves its inner SSE generators unclosed after the last event (harmless).
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <async_generator object (SSEDecoder|AsyncStream|Stream|Response)\\."
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]

ANTHROPIC_URL = "https://api.anthropic.com"
MODEL = "claude-haiku-4-5"
API_KEY = "sk-ant-test-not-a-real-key"

RecordedBodies = Callable[[], list[Any]]


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def claude(*, max_retries: int = 2) -> AnthropicModel:
    client = anthropic.AsyncAnthropic(base_url=ANTHROPIC_URL, api_key=API_KEY, max_retries=max_retries)
    return AnthropicModel(MODEL, anthropic_client=client)


class CityInfo(BaseModel):
    city: str
    country: str
    population: int


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny, 21 C in {city}"


def look_up_order(order_id: int) -> str:
    """Look up an order by its number."""
    if order_id == 42:
        raise ModelRetry("Order 42 does not exist; the latest order is 43.")
    return f"Order {order_id}: shipped"


@pytest.mark.vcr
async def test_text_answer(recorded_request_bodies: RecordedBodies) -> None:
    agent = Agent(
        AnthropicModel(MODEL, api_key=API_KEY, base_url=ANTHROPIC_URL),
        system_prompt=["Be brief.", "Answer in English."],
        model_settings=ModelSettings(temperature=0.0, top_p=0.9, stop_sequences=["\n\n"]),
    )
    result = await agent.run("What is the capital of France?")

    assert result.data == "The capital of France is Paris."
    assert (result.usage().request_tokens, result.usage().response_tokens, result.usage().total_tokens) == (14, 10, 24)
    response = result.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.model_name == MODEL
    [body] = recorded_request_bodies()
    assert body["system"] == "Be brief.\n\nAnswer in English."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}
    ]
    assert body["max_tokens"] == 1024  # required by the API; sent when the settings give none
    assert (body["temperature"], body["top_p"], body["stop_sequences"]) == (0.0, 0.9, ["\n\n"])
    assert "tools" not in body


@pytest.mark.vcr
async def test_tool_call_round_trip(recorded_request_bodies: RecordedBodies) -> None:
    agent = Agent(claude(), tools=[get_weather], model_settings=ModelSettings(max_tokens=300))
    result = await agent.run("What is the weather in Paris?")

    assert result.data == "It is sunny in Paris, 21 °C."
    first_response = result.all_messages()[1]
    assert isinstance(first_response, ModelResponse)
    assert first_response.parts == [
        TextPart("Let me check the weather."),
        ToolCallPart("get_weather", {"city": "Paris"}, "toolu_01A09q90qw90lq917835lq9"),
    ]
    assert result.usage().requests == 2
    assert result.usage().total_tokens == 380 + 58 + 470 + 14

    first, second = recorded_request_bodies()
    assert first["max_tokens"] == 300
    assert first["tools"] == [
        {
            "name": "get_weather",
            "description": "Get the current weather in a city.",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        }
    ]
    assert "tool_choice" not in first  # auto is the API's default
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check the weather."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                    "content": "Sunny, 21 C in Paris",
                }
            ],
        },
    ]


@pytest.mark.vcr
async def test_retry_prompt_is_an_error_tool_result(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(claude(), tools=[look_up_order]).run("Look up the order.")

    assert result.data == "Order 43 has shipped."
    retry = result.all_messages()[2].parts[0]
    assert isinstance(retry, RetryPromptPart)
    tool_result = recorded_request_bodies()[1]["messages"][-1]["content"][0]
    assert tool_result == {
        "type": "tool_result",
        "tool_use_id": "toolu_01ZQ8kJH2y5bDf3aJ1p9xXcV",
        "content": "Order 42 does not exist; the latest order is 43.\n\nFix the errors and try again.",
        "is_error": True,
    }
    final_return = recorded_request_bodies()[2]["messages"][-1]["content"][0]
    assert final_return["content"] == "Order 43: shipped"
    assert "is_error" not in final_return


@pytest.mark.vcr
async def test_structured_result_via_final_result_tool(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(claude(), result_type=CityInfo).run("Tell me about Paris.")

    assert result.data == CityInfo(city="Paris", country="France", population=2102650)
    [body] = recorded_request_bodies()
    assert body["tool_choice"] == {"type": "any"}
    assert [tool["name"] for tool in body["tools"]] == ["final_result"]


@pytest.mark.vcr
async def test_stream_text() -> None:
    async with Agent(claude()).run_stream("What is the capital of France?") as streamed:
        deltas = [delta async for delta in streamed.stream_text(delta=True, debounce_by=None)]

    assert deltas == ["The capital", " of France", " is Paris."]
    response = streamed.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.model_name == MODEL
    assert (streamed.usage().request_tokens, streamed.usage().response_tokens) == (14, 10)


@pytest.mark.vcr
async def test_stream_tool_call_args_split_across_chunks(recorded_request_bodies: RecordedBodies) -> None:
    parameters = ModelRequestParameters(
        function_tools=[ToolDefinition("get_weather", "Get the current weather in a city.", {"type": "object"})]
    )
    messages: list[Any] = [ModelRequest([UserPromptPart("What is the weather in Paris?")])]
    async with claude().request_stream(messages, None, parameters) as streamed:
        events = [event async for event in streamed]

    start, *deltas = events
    assert start == PartStartEvent(0, ToolCallPart("get_weather", "", "toolu_01A09q90qw90lq917835lq9"))
    assert deltas == [
        PartDeltaEvent(0, ToolCallPartDelta(args_delta='{"ci')),
        PartDeltaEvent(0, ToolCallPartDelta(args_delta='ty": "Pa')),
        PartDeltaEvent(0, ToolCallPartDelta(args_delta='ris"}')),
    ]
    assert streamed.get().parts == [ToolCallPart("get_weather", '{"city": "Paris"}', "toolu_01A09q90qw90lq917835lq9")]
    assert (streamed.usage().request_tokens, streamed.usage().response_tokens) == (380, 58)
    assert recorded_request_bodies()[0]["stream"] is True


@pytest.mark.vcr
async def test_stream_tool_call_then_text() -> None:
    agent = Agent(claude(), tools=[get_weather])
    async with agent.run_stream("What is the weather in Paris?") as streamed:
        text = await streamed.get_data()

    assert text == "It is sunny in Paris, 21 °C."
    tool_return = streamed.all_messages()[2].parts[0]
    assert isinstance(tool_return, ToolReturnPart)
    assert tool_return.content == "Sunny, 21 C in Paris"


@pytest.mark.vcr
async def test_stream_structured_result() -> None:
    async with Agent(claude(), result_type=CityInfo).run_stream("Tell me about Paris.") as streamed:
        data = await streamed.get_data()

    assert data == CityInfo(city="Paris", country="France", population=2102650)


@pytest.mark.vcr
async def test_http_4xx_raises_model_http_error() -> None:
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(claude()).run("trigger a 400")

    assert raised.value.status_code == 400
    assert raised.value.model_name == MODEL
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }


@pytest.mark.vcr
async def test_http_5xx_raises_model_http_error() -> None:
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(claude(max_retries=0)).run("trigger a 529")

    assert raised.value.status_code == 529
    assert raised.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


async def test_missing_key_raises_user_error_naming_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        await Agent("anthropic:claude-3-5-sonnet-latest").run("Hello")


def test_model_string_builds_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    Agent("anthropic:claude-3-5-sonnet-latest")
    model = infer_model("anthropic:claude-3-5-sonnet-latest")

    assert isinstance(model, AnthropicModel)
    assert (model.model_name, model.system) == ("claude-3-5-sonnet-latest", "anthropic")


async def test_blocked_requests_raise_before_anything_is_sent() -> None:
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked, match="AnthropicModel"):
        await AnthropicModel(MODEL, api_key=API_KEY).request([], None, ModelRequestParameters())
