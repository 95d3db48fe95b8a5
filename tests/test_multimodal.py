"""Multimodal user prompts: the content types, their properties and errors, JSON, and runs that carry them."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentkitError,
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    ImageUrl,
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    RunInfo,
    RunObserver,
    TextPart,
    UnknownMediaType,
    UserContent,
    UserError,
    UserPromptPart,
    intercept_runs,
)
from agentkit.messages import user_prompt_text
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
ALL_KINDS: list[UserContent] = [
    "What are these?",
    ImageUrl("https://example.com/cat.png"),
    AudioUrl("https://example.com/purr.mp3"),
    DocumentUrl("https://example.com/report.pdf"),
    BinaryContent(PNG, "image/png"),
    BinaryContent(WAV, "audio/wav"),
    BinaryContent(PDF, "application/pdf"),
]


# --- the types -----------------------------------------------------------------------------


def test_reprs_have_the_seed_shape() -> None:
    assert repr(ImageUrl("https://x.test/a.png")) == "ImageUrl(url='https://x.test/a.png', kind='image-url')"
    assert repr(AudioUrl("https://x.test/a.mp3")) == "AudioUrl(url='https://x.test/a.mp3', kind='audio-url')"
    assert repr(DocumentUrl("https://x.test/a.pdf")) == "DocumentUrl(url='https://x.test/a.pdf', kind='document-url')"
    assert (
        repr(BinaryContent(b"\x00", "image/png"))
        == "BinaryContent(data=b'\\x00', media_type='image/png', kind='binary')"
    )


@pytest.mark.parametrize(
    ("url", "media_type", "file_format"),
    [
        ("https://example.com/cat.jpg", "image/jpeg", "jpeg"),
        ("https://example.com/cat.jpeg", "image/jpeg", "jpeg"),
        ("https://example.com/cat.png", "image/png", "png"),
        ("https://example.com/cat.gif", "image/gif", "gif"),
        ("https://example.com/cat.webp", "image/webp", "webp"),
        ("https://example.com/cat.PNG?size=large#top", "image/png", "png"),
    ],
)
def test_image_url_media_type_and_format_come_from_the_extension(url: str, media_type: str, file_format: str) -> None:
    assert (ImageUrl(url).media_type, ImageUrl(url).format) == (media_type, file_format)


@pytest.mark.parametrize(
    ("url", "media_type", "file_format"),
    [("https://example.com/a.mp3", "audio/mpeg", "mp3"), ("https://example.com/a.wav", "audio/wav", "wav")],
)
def test_audio_url_media_type_and_format_come_from_the_extension(url: str, media_type: str, file_format: str) -> None:
    assert (AudioUrl(url).media_type, AudioUrl(url).format) == (media_type, file_format)


@pytest.mark.parametrize(
    ("extension", "media_type", "file_format"),
    [
        ("pdf", "application/pdf", "pdf"),
        ("txt", "text/plain", "txt"),
        ("csv", "text/csv", "csv"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("html", "text/html", "html"),
        ("md", "text/markdown", "md"),
        ("xls", "application/vnd.ms-excel", "xls"),
    ],
)
def test_document_url_media_type_and_format_come_from_the_extension(
    extension: str, media_type: str, file_format: str
) -> None:
    document = DocumentUrl(f"https://example.com/report.{extension}")
    assert (document.media_type, document.format) == (media_type, file_format)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (ImageUrl("https://example.com/cat.bmp"), r"Unknown image file extension: https://example.com/cat.bmp \("),
        (ImageUrl("https://example.com/cat"), r"Unknown image file extension: .*\.jpg, \.jpeg, \.png"),
        (AudioUrl("https://example.com/a.ogg"), r"Unknown audio file extension: .*AudioUrl expects .*\.mp3, \.wav"),
        (DocumentUrl("https://example.com/a.zip"), r"Unknown document file extension: .*BinaryContent\(data"),
    ],
)
def test_an_unknown_extension_is_a_clear_error(content: ImageUrl | AudioUrl | DocumentUrl, pattern: str) -> None:
    with pytest.raises(UnknownMediaType, match=pattern) as caught:
        _ = content.media_type
    # pydantic-ai raised ValueError (images, audio) and RuntimeError (documents): both still catch it.
    assert isinstance(caught.value, ValueError | RuntimeError | AgentkitError | UserError)


def test_a_document_url_of_a_known_type_without_a_format_is_a_clear_error() -> None:
    document = DocumentUrl("https://example.com/letter.doc")
    assert document.media_type == "application/msword"
    with pytest.raises(UnknownMediaType, match="Unknown document media type 'application/msword'"):
        _ = document.format


@pytest.mark.parametrize(
    ("media_type", "flags", "file_format"),
    [
        ("image/png", (True, False, False), "png"),
        ("image/jpeg", (True, False, False), "jpeg"),
        ("audio/mpeg", (False, True, False), "mp3"),
        ("audio/wav", (False, True, False), "wav"),
        ("application/pdf", (False, False, True), "pdf"),
        ("text/csv", (False, False, True), "csv"),
    ],
)
def test_binary_content_kind_flags_and_format(media_type: str, flags: tuple[bool, ...], file_format: str) -> None:
    content = BinaryContent(b"...", media_type)
    assert (content.is_image, content.is_audio, content.is_document) == flags
    assert content.format == file_format


@pytest.mark.parametrize("media_type", ["image/bmp", "audio/ogg", "application/zip"])
def test_binary_content_of_an_unknown_media_type_has_no_format(media_type: str) -> None:
    with pytest.raises(UnknownMediaType, match=f"Unknown media type '{media_type}' of BinaryContent"):
        _ = BinaryContent(b"...", media_type).format


def test_user_prompt_text_names_each_item_on_its_own_line() -> None:
    text = user_prompt_text(["Look:", ImageUrl("https://example.com/cat.png"), BinaryContent(b"abc", "image/png")])
    assert text == ("Look:\n[image-url https://example.com/cat.png]\n[binary image/png, 3 bytes, sha256 ba7816bf]")
    assert user_prompt_text(["a", "b"]) == "a\nb"
    assert user_prompt_text("plain") == "plain"


# --- JSON ------------------------------------------------------------------------------------


def multimodal_history() -> list[ModelMessage]:
    return [
        ModelRequest([UserPromptPart(list(ALL_KINDS)), UserPromptPart("plain"), UserPromptPart(["a", "b"])]),
        ModelResponse([TextPart("done")], model_name="m"),
    ]


def test_binary_data_is_base64_in_json_and_bytes_again_after() -> None:
    messages = multimodal_history()
    data = ModelMessagesTypeAdapter.dump_json(messages)
    assert b'{"data":"iVBORw0KGgoAAAANSUhEUv/+","media_type":"image/png","kind":"binary"}' in data
    back = ModelMessagesTypeAdapter.validate_json(data)
    assert back == messages
    binary = back[0].parts[0].content[4]  # type: ignore[union-attr]
    assert isinstance(binary, BinaryContent)
    assert type(binary.data) is bytes
    assert binary.data == PNG


def test_json_mode_python_data_round_trips_too() -> None:
    messages = multimodal_history()
    plain = ModelMessagesTypeAdapter.dump_python(messages, mode="json")
    assert ModelMessagesTypeAdapter.validate_python(plain) == messages
    assert ModelMessagesTypeAdapter.validate_python(ModelMessagesTypeAdapter.dump_python(messages)) == messages


def _request_with(content: Any) -> list[dict[str, Any]]:
    return [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": content}]}]


def test_binary_data_that_is_not_base64_is_a_validation_error_at_the_item() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError) as caught:
        ModelMessagesTypeAdapter.validate_python(
            _request_with(["x", {"kind": "binary", "data": "not base64!", "media_type": "image/png"}])
        )
    first = caught.value.errors()[0]
    assert first["loc"][-3:] == (1, "binary", "data")
    assert "BinaryContent.data given as text must be base64" in first["msg"]


def test_an_item_of_an_unknown_kind_is_a_validation_error_naming_the_kinds() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError) as caught:
        ModelMessagesTypeAdapter.validate_python(_request_with(["x", {"kind": "video-url", "url": "https://v"}]))
    first = caught.value.errors()[0]
    assert first["loc"][-1] == 1
    assert "'image-url', 'audio-url', 'document-url' or 'binary'" in first["msg"]


# --- runs ------------------------------------------------------------------------------------


def sent_prompt(messages: list[ModelMessage]) -> Any:
    first = messages[0]
    assert isinstance(first, ModelRequest)
    part = first.parts[-1]
    assert isinstance(part, UserPromptPart)
    return part.content


@pytest.mark.parametrize("item", ALL_KINDS[1:], ids=lambda item: type(item).__name__ + ":" + str(item.kind))
async def test_a_test_model_run_carries_each_content_kind(item: UserContent) -> None:
    agent: Agent[None, str] = Agent(TestModel(custom_result_text="seen"))
    result = await agent.run(["Describe this", item])
    assert result.data == "seen"
    assert sent_prompt(result.all_messages()) == ["Describe this", item]


def test_the_usage_estimate_counts_words_bytes_and_no_urls() -> None:
    # As pydantic-ai v0.0.39's TestModel: 50 + words of text + one per byte of binary content; URLs count 0.
    agent: Agent[None, str] = Agent(TestModel(custom_result_text="seen"))
    result = agent.run_sync(["Describe these", ImageUrl("https://example.com/cat.png"), BinaryContent(b"123456", "x")])
    assert (result.usage().request_tokens, result.usage().response_tokens) == (58, 1)


def test_a_prompt_item_of_the_wrong_type_is_a_clear_error_naming_it() -> None:
    agent: Agent[None, str] = Agent(TestModel())
    with pytest.raises(UserError, match=r"but item 1 is 42 \(type=int\)"):
        agent.run_sync(["hello", 42])  # type: ignore[list-item]


async def test_a_function_model_sees_the_content_items() -> None:
    seen: list[Any] = []

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(sent_prompt(messages))
        return ModelResponse([TextPart("ok")])

    agent: Agent[None, str] = Agent(FunctionModel(reply))
    result = await agent.run(list(ALL_KINDS))
    assert result.data == "ok"
    assert seen == [ALL_KINDS]


async def test_run_stream_carries_the_content() -> None:
    agent: Agent[None, str] = Agent(TestModel(custom_result_text="streamed answer"))
    async with agent.run_stream(["Listen", BinaryContent(WAV, "audio/wav")]) as result:
        text = await result.get_data()
    assert text == "streamed answer"
    assert sent_prompt(result.all_messages()) == ["Listen", BinaryContent(WAV, "audio/wav")]


async def test_iter_carries_the_content_in_the_first_request_node() -> None:
    agent: Agent[None, str] = Agent(TestModel(custom_result_text="read"))
    prompt: list[UserContent] = ["Read", DocumentUrl("https://example.com/report.pdf")]
    async with agent.iter(prompt) as agent_run:
        nodes = [node async for node in agent_run]
    first = nodes[0]
    assert type(first).__name__ == "ModelRequestNode"
    assert first.request.parts[-1].content == prompt  # type: ignore[union-attr]
    assert agent_run.result is not None
    assert agent_run.result.data == "read"


def test_run_hooks_see_the_prompt_as_text() -> None:
    prompts: list[str] = []

    class Watcher:
        def start_run(self, info: RunInfo) -> RunObserver | None:
            prompts.append(info.user_prompt)
            return None

    agent: Agent[None, str] = Agent(TestModel())
    with intercept_runs(Watcher()):
        agent.run_sync(["Look", ImageUrl("https://example.com/cat.png")])
    assert prompts == ["Look\n[image-url https://example.com/cat.png]"]
