"""Cassettes with multimodal prompts: lossless in YAML and JSON, readable, replayable, shown as short lines."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentkit import (
    Agent,
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    ImageUrl,
    ModelRequest,
    UserContent,
    UserPromptPart,
)
from agentkit.models import TestModel
from agentkit_testing import CassetteDivergence, CassetteFormatError, serialize_run
from agentkit_testing._cassette._context import cassette
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cli import main

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe\x80"
# Bytes whose base64 text has the shape of a Google API key: a scrubber looking at that text would
# rewrite it and corrupt the data, so binary data must reach the file untouched.
KEY_SHAPED = base64.b64decode("AIzaSyA" + "B" * 33)
PROMPT: list[UserContent] = [
    "What are these?",
    ImageUrl("https://example.com/cat.png"),
    AudioUrl("https://example.com/purr.mp3"),
    DocumentUrl("https://example.com/report.pdf"),
    BinaryContent(PNG, "image/png"),
    BinaryContent(KEY_SHAPED, "application/pdf"),
]


def agent() -> Agent[None, str]:
    return Agent(TestModel(custom_result_text="Two cats."), name="viewer")


def recorded_prompt(path: Path) -> object:
    run = Cassette.load(path).runs[0]
    message = run.requests[0].messages[0]
    assert isinstance(message, ModelRequest)
    part = message.parts[0]
    assert isinstance(part, UserPromptPart)
    return part.content


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_binary_content_round_trips_losslessly(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"multimodal.{suffix}"
    with cassette(path, "once"):
        agent().run_sync(PROMPT)

    content = recorded_prompt(path)
    assert content == PROMPT
    assert isinstance(content, list)
    assert all(type(item.data) is bytes for item in content if isinstance(item, BinaryContent))


def test_yaml_cassette_writes_binary_data_as_a_base64_block(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.yaml"
    with cassette(path, "once"):
        agent().run_sync(PROMPT)

    text = path.read_text()
    assert "      - kind: binary\n        media_type: image/png\n        data: !!binary |\n" in text
    assert base64.b64encode(PNG).decode() in text.replace("\n          ", "")
    assert "      - kind: image-url\n        url: https://example.com/cat.png\n" in text
    assert "b'" not in text  # never a Python bytes repr


def test_json_cassette_writes_binary_data_as_base64_text(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.json"
    with cassette(path, "once"):
        agent().run_sync(PROMPT)

    document = json.loads(path.read_text())
    content = document["runs"][0]["requests"][0]["request"][0]["content"]
    assert content[4] == {"kind": "binary", "media_type": "image/png", "data": base64.b64encode(PNG).decode()}
    assert content[1] == {"kind": "image-url", "url": "https://example.com/cat.png"}


def test_the_scrubber_leaves_binary_data_whole_but_still_scrubs_text(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.yaml"
    secret = "sk-proj-" + "x" * 40
    with cassette(path, "once"):
        agent().run_sync([f"My key is {secret}", BinaryContent(KEY_SHAPED, "application/pdf")])

    text = path.read_text()
    assert secret not in text
    content = recorded_prompt(path)
    assert isinstance(content, list)
    assert content[1] == BinaryContent(KEY_SHAPED, "application/pdf")


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_multimodal_run_replays_offline(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"multimodal.{suffix}"
    with cassette(path, "once"):
        recorded = agent().run_sync(PROMPT)
    with cassette(path, "none") as session:
        replayed = agent().run_sync(PROMPT)
    assert replayed.data == recorded.data
    assert len(session.replayed_runs) == 1


def test_a_run_continuing_a_multimodal_conversation_replays(tmp_path: Path) -> None:
    # The history's fingerprint is taken over plain data, where non-UTF-8 bytes used to fail.
    path = tmp_path / "conversation.yaml"
    with cassette(path, "once"):
        first = agent().run_sync(PROMPT)
        agent().run_sync("And the second one?", message_history=first.all_messages())
    with cassette(path, "none") as session:
        first = agent().run_sync(PROMPT)
        agent().run_sync("And the second one?", message_history=first.all_messages())
    assert len(session.replayed_runs) == 2


def test_a_changed_image_is_a_divergence_in_the_user_prompt(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.yaml"
    with cassette(path, "once"):
        agent().run_sync(["Look", BinaryContent(PNG, "image/png")])
    changed: list[UserContent] = ["Look", BinaryContent(PNG + b"\x00", "image/png")]
    with pytest.raises(CassetteDivergence, match="the user prompt differs") as caught, cassette(path, "none"):
        agent().run_sync(changed)
    assert f"-[binary image/png, {len(PNG)} bytes, sha256 " in str(caught.value)
    assert f"+[binary image/png, {len(PNG) + 1} bytes, sha256 " in str(caught.value)


def test_binary_data_that_is_not_base64_is_a_format_error_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.json"
    with cassette(path, "once"):
        agent().run_sync(["Look", BinaryContent(PNG, "image/png")])
    path.write_text(path.read_text().replace(base64.b64encode(PNG).decode(), "not base64!"))

    with pytest.raises(CassetteFormatError, match=r"request\[0\]\.content\[1\]\.data: .*must be base64") as caught:
        Cassette.load(path)
    assert caught.value.line is not None


def test_cassette_show_prints_each_prompt_item_on_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "multimodal.yaml"
    with cassette(path, "once"):
        agent().run_sync(PROMPT)

    output = CliRunner().invoke(main, ["cassette", "show", str(path)]).output
    assert "user prompt: 'What are these?'" in output
    assert "user prompt: [image-url https://example.com/cat.png]" in output
    assert "user prompt: [audio-url https://example.com/purr.mp3]" in output
    assert "user prompt: [document-url https://example.com/report.pdf]" in output
    assert f"user prompt: [binary image/png, {len(PNG)} bytes, sha256 " in output
    assert "!!binary" not in output


def test_a_run_snapshot_names_the_files_of_a_prompt() -> None:
    text = serialize_run(agent().run_sync(["Look", ImageUrl("https://example.com/cat.png")]))
    assert 'user-prompt: ["Look", "[image-url https://example.com/cat.png]"]' in text
