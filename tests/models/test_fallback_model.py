"""`FallbackModel`: the next model answers when one fails with an error `fallback_on` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent, ModelHTTPError, ModelMessage, ModelResponse, TextPart, capture_run_messages
from agentkit.exceptions import FallbackExceptionGroup
from agentkit.models import AgentInfo, FunctionModel
from agentkit.models.fallback import FallbackModel
from agentkit.models.test import TestModel
from agentkit_testing import cassette

pytestmark = pytest.mark.anyio


def failing(status: int, name: str) -> FunctionModel:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ModelHTTPError(status, name, {"error": "unavailable"})

    return FunctionModel(answer, model_name=name)


def answering(text: str, name: str) -> FunctionModel:
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(text)])

    return FunctionModel(answer, model_name=name)


async def test_the_default_model_answers_when_it_can() -> None:
    model = FallbackModel(answering("first", "a"), answering("second", "b"))
    assert (await Agent(model).run("hi")).data == "first"


async def test_an_http_error_moves_on_to_the_next_model() -> None:
    model = FallbackModel(failing(503, "a"), answering("second", "b"))
    with capture_run_messages() as messages:
        result = await Agent(model).run("hi")
    assert result.data == "second"
    response = messages[-1]
    assert isinstance(response, ModelResponse)
    assert response.model_name == "b"


async def test_streaming_moves_on_too() -> None:
    model = FallbackModel(failing(500, "a"), TestModel(custom_result_text="streamed"))
    async with Agent(model).run_stream("hi") as result:
        assert await result.get_data() == "streamed"


async def test_other_errors_are_raised_at_once() -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise KeyError("bug")

    model = FallbackModel(FunctionModel(broken), answering("second", "b"))
    with pytest.raises(KeyError, match="bug"):
        await Agent(model).run("hi")


async def test_when_every_model_fails_the_group_holds_each_error_in_order() -> None:
    model = FallbackModel(failing(500, "a"), failing(429, "b"))
    with pytest.raises(FallbackExceptionGroup, match="All models from FallbackModel failed") as raised:
        await Agent(model).run("hi")
    assert [error.status_code for error in raised.value.exceptions] == [500, 429]  # type: ignore[attr-defined]


async def test_fallback_on_may_be_a_function_of_the_error() -> None:
    model = FallbackModel(
        failing(400, "a"),
        answering("second", "b"),
        fallback_on=lambda error: isinstance(error, ModelHTTPError) and error.status_code >= 500,
    )
    with pytest.raises(ModelHTTPError):
        await Agent(model).run("hi")


async def test_fallback_on_may_be_a_tuple_of_error_types() -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise TimeoutError("slow")

    model = FallbackModel(FunctionModel(broken), answering("second", "b"), fallback_on=(TimeoutError,))
    assert (await Agent(model).run("hi")).data == "second"


def test_names_and_urls_come_from_the_models() -> None:
    model = FallbackModel("test", "openai:gpt-4o")
    assert model.model_name == "FallBackModel[test, gpt-4o]"
    assert model.system is None
    assert model.base_url is None
    assert model.sends_real_requests
    assert not FallbackModel("test").sends_real_requests


def test_a_fallback_run_records_and_replays(tmp_path: Path) -> None:
    agent = Agent(FallbackModel(failing(503, "a"), answering("second", "b")))
    path = tmp_path / "fallback.yaml"
    with cassette(path, record_mode="all"):
        assert agent.run_sync("hi").data == "second"
    with cassette(path, record_mode="none"):
        assert agent.run_sync("hi").data == "second"
    assert "FallBackModel[a, b]" in path.read_text()
