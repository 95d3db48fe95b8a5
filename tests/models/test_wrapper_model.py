"""`WrapperModel`: every `Model` member is the wrapped model's until a subclass overrides it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

import pytest

from agentkit import Agent, ModelMessage, ModelResponse, ModelSettings, TextPart, Usage
from agentkit.exceptions import ModelRequestsBlocked
from agentkit.messages import ModelRequest, UserPromptPart
from agentkit.models import (
    Model,
    ModelRequestParameters,
    StreamedResponse,
    TestModel,
    WrapperModel,
    override_allow_model_requests,
)
from agentkit.models._base import CompleteStreamedResponse
from agentkit.models.openai import OpenAIModel

pytestmark = pytest.mark.anyio

Call = tuple[list[ModelMessage], ModelSettings | None, ModelRequestParameters]


class Inner(Model):
    """A model with a value of its own for every member, which notes each call it gets."""

    sends_real_requests: ClassVar[bool] = False

    def __init__(self) -> None:
        self.requests: list[Call] = []
        self.streams: list[Call] = []
        self.stream: StreamedResponse | None = None

    @property
    def model_name(self) -> str:
        return "inner-model"

    @property
    def system(self) -> str | None:
        return "inner-system"

    @property
    def base_url(self) -> str | None:
        return "http://inner.invalid/v1"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        self.requests.append((messages, model_settings, model_request_parameters))
        return ModelResponse([TextPart("from inner")], model_name="inner-model"), Usage(requests=1)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> AsyncIterator[StreamedResponse]:
        self.streams.append((messages, model_settings, model_request_parameters))
        self.stream = CompleteStreamedResponse(
            ModelResponse([TextPart("streamed by inner")], model_name="inner-model"), Usage(requests=1)
        )
        yield self.stream


def call() -> Call:
    return [ModelRequest([UserPromptPart("hi")])], {"temperature": 0.5}, ModelRequestParameters()


def test_model_name_is_the_wrapped_models() -> None:
    assert WrapperModel(Inner()).model_name == "inner-model"


def test_system_is_the_wrapped_models() -> None:
    assert WrapperModel(Inner()).system == "inner-system"


def test_base_url_is_the_wrapped_models() -> None:
    assert WrapperModel(Inner()).base_url == "http://inner.invalid/v1"


def test_sends_real_requests_is_the_wrapped_models() -> None:
    assert WrapperModel(TestModel()).sends_real_requests is False
    assert WrapperModel(OpenAIModel("gpt-4o", api_key="not-a-key")).sends_real_requests is True


def test_members_follow_a_replaced_wrapped_model() -> None:
    wrapper = WrapperModel(TestModel())
    wrapper.wrapped = OpenAIModel("gpt-4o", api_key="not-a-key")
    assert (wrapper.model_name, wrapper.system, wrapper.sends_real_requests) == ("gpt-4o", "openai", True)


def test_a_model_name_string_is_resolved_to_a_model() -> None:
    assert isinstance(WrapperModel("test").wrapped, TestModel)


async def test_request_is_forwarded_with_its_arguments() -> None:
    inner = Inner()
    arguments = call()
    response, usage = await WrapperModel(inner).request(*arguments)
    assert inner.requests == [arguments]
    assert inner.requests[0][0] is arguments[0]
    assert (response.parts, usage.requests) == ([TextPart("from inner")], 1)


async def test_request_stream_yields_the_wrapped_models_stream() -> None:
    inner = Inner()
    arguments = call()
    async with WrapperModel(inner).request_stream(*arguments) as streamed:
        events = [event async for event in streamed]
    assert streamed is inner.stream
    assert inner.streams == [arguments]
    assert len(events) == 1
    assert streamed.get().parts == [TextPart("streamed by inner")]


async def test_an_agent_runs_and_streams_through_a_wrapper() -> None:
    agent = Agent(WrapperModel(TestModel(custom_result_text="wrapped")))
    assert (await agent.run("hi")).data == "wrapped"
    async with agent.run_stream("hi") as result:
        assert await result.get_data() == "wrapped"


async def test_a_wrapper_around_a_provider_model_is_blocked_by_the_request_guard() -> None:
    agent = Agent(WrapperModel(OpenAIModel("gpt-4o", api_key="not-a-key", base_url="http://127.0.0.1:9/v1")))
    with override_allow_model_requests(False), pytest.raises(ModelRequestsBlocked, match="WrapperModel 'gpt-4o'"):
        await agent.run("hi")


class Shouting(WrapperModel):
    """Overrides one member: its answers are the wrapped model's, upper-cased."""

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> tuple[ModelResponse, Usage]:
        response, usage = await super().request(messages, model_settings, model_request_parameters)
        parts = [TextPart(part.content.upper()) if isinstance(part, TextPart) else part for part in response.parts]
        return ModelResponse(parts, response.model_name, response.timestamp), usage


async def test_a_subclass_overrides_one_member_and_inherits_the_rest() -> None:
    inner = Inner()
    shouting = Shouting(inner)
    response, _ = await shouting.request(*call())
    assert response.parts == [TextPart("FROM INNER")]
    async with shouting.request_stream(*call()) as streamed:
        [event async for event in streamed]
    assert streamed is inner.stream
    assert (shouting.model_name, shouting.system, shouting.base_url) == (
        "inner-model",
        "inner-system",
        "http://inner.invalid/v1",
    )


def test_a_subclass_may_fix_sends_real_requests_with_a_class_attribute() -> None:
    class NeverSends(WrapperModel):
        sends_real_requests = False

    assert NeverSends(OpenAIModel("gpt-4o", api_key="not-a-key")).sends_real_requests is False


def test_wrappers_compare_by_identity_and_hash() -> None:
    inner = TestModel()
    first, second = WrapperModel(inner), WrapperModel(inner)
    assert first != second
    assert len({first, second}) == 2


def test_repr_names_the_subclass_and_model() -> None:
    assert repr(Shouting(TestModel())) == "Shouting(model_name='test')"
