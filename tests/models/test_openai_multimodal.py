"""`OpenAIModel` with multimodal user prompts, against HTTP cassettes replayed offline.

The llama.cpp server these tests otherwise use cannot see images, so the cassettes in
`cassettes/test_openai_multimodal/` were recorded from a local stub answering in the documented
chat-completions wire format (the same `STUB_URL` as test_openai.py's hand-written cassettes); the
request bodies are what the real `openai` SDK sent. Items OpenAI's chat API cannot take (documents,
audio by URL) fail before any request with a `UserError` that says what to do instead.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from agentkit import Agent, AudioUrl, BinaryContent, DocumentUrl, ImageUrl, UserContent, UserError
from agentkit.models import OpenAIModel, override_allow_model_requests

pytestmark = pytest.mark.anyio

STUB_URL = "http://127.0.0.1:8766/v1"
STUB_MODEL = "gpt-4o-mini"
API_KEY = "sk-test-not-a-real-key"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)  # a 1x1 PNG
WAV = (  # a WAV header with no samples
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00"
    b"data\x00\x00\x00\x00"
)

RecordedBodies = Callable[[], list[Any]]


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def stub() -> OpenAIModel:
    client = openai.AsyncOpenAI(base_url=STUB_URL, api_key=API_KEY, max_retries=0)
    return OpenAIModel(STUB_MODEL, openai_client=client)


def user_content(body: dict[str, Any]) -> list[dict[str, Any]]:
    [message] = body["messages"]
    assert message["role"] == "user"
    content: list[dict[str, Any]] = message["content"]
    return content


@pytest.mark.vcr
async def test_an_image_url_is_sent_as_an_image_url_part(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(stub()).run(["What is in this image?", ImageUrl("https://example.com/cat.png")])

    assert result.data == "A cat."
    assert result.usage().request_tokens == 283
    [body] = recorded_request_bodies()
    assert user_content(body) == [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]


@pytest.mark.vcr
async def test_a_binary_image_is_sent_as_a_base64_data_url(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(stub()).run(["What is in this image?", BinaryContent(PNG, "image/png")])

    assert result.data == "A cat."
    [body] = recorded_request_bodies()
    part = user_content(body)[1]
    assert part["type"] == "image_url"
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.removeprefix("data:image/png;base64,")) == PNG


@pytest.mark.vcr
async def test_binary_audio_is_sent_as_input_audio(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(stub()).run(["What do you hear?", BinaryContent(WAV, "audio/wav")])

    assert result.data == "A cat."
    [body] = recorded_request_bodies()
    assert user_content(body)[1] == {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"},
    }


@pytest.mark.parametrize(
    ("item", "pattern"),
    [
        (DocumentUrl("https://example.com/report.pdf"), r"cannot read documents \(DocumentUrl https://example"),
        (BinaryContent(b"%PDF-1.4", "application/pdf"), r"not 'application/pdf' \(BinaryContent in the user prompt\)"),
        (BinaryContent(b"OggS", "audio/ogg"), r"wav or mp3 audio as binary content, not 'audio/ogg'"),
        (AudioUrl("https://example.com/purr.mp3"), r"download https://example.com/purr.mp3 and pass BinaryContent"),
    ],
)
async def test_content_the_chat_api_cannot_take_is_a_user_error_before_any_request(
    item: UserContent, pattern: str
) -> None:
    with pytest.raises(UserError, match=pattern):
        await Agent(stub()).run(["Summarize", item])
