"""`AnthropicModel` with multimodal user prompts, against HTTP cassettes replayed offline.

Like test_anthropic.py's, the cassettes in `cassettes/test_anthropic_multimodal/` were made without
reaching the Anthropic API: a local stub answered in the documented messages-API wire format while
the real `anthropic` SDK sent its requests, which were recorded as sent (then filed under the API's
URL); the streamed one reuses test_anthropic.py's events with its own request, written by hand.
Images go as `image` blocks with a `url` or `base64` source, PDFs as `document` blocks; what the
API cannot take (audio, non-PDF documents) fails before any request with a `UserError`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest

from agentkit import Agent, AudioUrl, BinaryContent, DocumentUrl, ImageUrl, UserContent, UserError
from agentkit.models import AnthropicModel, override_allow_model_requests

pytestmark = pytest.mark.anyio

ANTHROPIC_URL = "https://api.anthropic.com"
MODEL = "claude-haiku-4-5"
API_KEY = "sk-ant-test-not-a-real-key"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)  # a 1x1 PNG
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

RecordedBodies = Callable[[], list[Any]]


@pytest.fixture(autouse=True)
def _allow_model_requests() -> Iterator[None]:
    with override_allow_model_requests(True):
        yield


def claude() -> AnthropicModel:
    client = anthropic.AsyncAnthropic(base_url=ANTHROPIC_URL, api_key=API_KEY, max_retries=0)
    return AnthropicModel(MODEL, anthropic_client=client)


def user_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    [message] = body["messages"]
    assert message["role"] == "user"
    blocks: list[dict[str, Any]] = message["content"]
    return blocks


@pytest.mark.vcr
async def test_an_image_url_is_sent_as_an_image_block_with_a_url_source(
    recorded_request_bodies: RecordedBodies,
) -> None:
    result = await Agent(claude()).run(["What is in this image?", ImageUrl("https://example.com/cat.png")])

    assert result.data == "A cat."
    assert (result.usage().request_tokens, result.usage().response_tokens) == (1570, 5)
    [body] = recorded_request_bodies()
    assert user_blocks(body) == [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ]


@pytest.mark.vcr
async def test_a_binary_image_is_sent_as_an_image_block_with_a_base64_source(
    recorded_request_bodies: RecordedBodies,
) -> None:
    result = await Agent(claude()).run(["What is in this image?", BinaryContent(PNG, "image/png")])

    assert result.data == "A cat."
    [body] = recorded_request_bodies()
    assert user_blocks(body)[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()},
    }


@pytest.mark.vcr
async def test_a_pdf_url_is_sent_as_a_document_block_with_a_url_source(recorded_request_bodies: RecordedBodies) -> None:
    result = await Agent(claude()).run(["Summarize this.", DocumentUrl("https://example.com/report.pdf")])

    assert result.data == "A cat."
    [body] = recorded_request_bodies()
    assert user_blocks(body)[1] == {
        "type": "document",
        "source": {"type": "url", "url": "https://example.com/report.pdf"},
    }


@pytest.mark.vcr
async def test_a_binary_pdf_is_sent_as_a_document_block_with_a_base64_source(
    recorded_request_bodies: RecordedBodies,
) -> None:
    result = await Agent(claude()).run(["Summarize this.", BinaryContent(PDF, "application/pdf")])

    assert result.data == "A cat."
    [body] = recorded_request_bodies()
    assert user_blocks(body)[1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(PDF).decode()},
    }


@pytest.mark.vcr
async def test_a_streamed_run_sends_the_image_block_too(recorded_request_bodies: RecordedBodies) -> None:
    prompt: list[UserContent] = ["Which city is this?", ImageUrl("https://example.com/paris.jpg")]
    async with Agent(claude()).run_stream(prompt) as streamed:
        text = await streamed.get_data()

    assert text == "The capital of France is Paris."
    [body] = recorded_request_bodies()
    assert body["stream"] is True
    assert user_blocks(body)[1] == {"type": "image", "source": {"type": "url", "url": "https://example.com/paris.jpg"}}


@pytest.mark.parametrize(
    ("item", "pattern"),
    [
        (AudioUrl("https://example.com/purr.mp3"), r"cannot take audio \(AudioUrl https://example.com/purr.mp3"),
        (BinaryContent(b"RIFF", "audio/wav"), r"images and PDFs as binary content, not 'audio/wav'"),
        (DocumentUrl("https://example.com/notes.txt"), r"PDF documents by URL, not 'text/plain' \(DocumentUrl"),
    ],
)
async def test_content_the_messages_api_cannot_take_is_a_user_error_before_any_request(
    item: UserContent, pattern: str
) -> None:
    with pytest.raises(UserError, match=pattern):
        await Agent(claude()).run(["Summarize", item])
