"""`import agentkit` loads only what it needs: pydantic, asyncio and the test doubles come at first use."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated, Any

import pydantic
import pytest

from agentkit._schema_markers import PydanticMarker
from agentkit.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    UserPromptPart,
)


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_agentkit_loads_no_pydantic_docstring_parser_or_asyncio() -> None:
    code = (
        "import sys, agentkit, agentkit.models\n"
        "later = ['pydantic', 'pydantic_core', 'docstring_parser', 'asyncio', 'hashlib',\n"
        "         'agentkit.models.test', 'agentkit.models.function']\n"
        "print(','.join(name for name in later if name in sys.modules))"
    )
    assert _run(code) == ""


def test_messages_type_adapter_is_made_at_first_use_and_kept() -> None:
    code = (
        "import sys, agentkit, agentkit.messages\n"
        "before = 'pydantic' in sys.modules\n"
        "from agentkit import ModelMessagesTypeAdapter\n"
        "import pydantic\n"
        "adapter = agentkit.messages.ModelMessagesTypeAdapter\n"
        "same = ModelMessagesTypeAdapter is adapter is agentkit.ModelMessagesTypeAdapter\n"
        "print(before, isinstance(ModelMessagesTypeAdapter, pydantic.TypeAdapter), same)"
    )
    assert _run(code) == "False True True"


def test_first_run_with_a_tool_works_from_a_fresh_import() -> None:
    code = (
        "from agentkit import Agent\n"
        "from agentkit.models import TestModel\n"
        "agent = Agent(TestModel())\n"
        "@agent.tool_plain\n"
        "def double(x: int) -> int:\n"
        "    '''Twice x.'''\n"
        "    return 2 * x\n"
        "result = agent.run_sync('go')\n"
        "print(result.data, result.all_messages_json()[:2])"
    )
    assert _run(code) == """{"double":0} b'[{'"""


@pytest.mark.parametrize("name", ["NoSuchName", "ModelMessagesTypeAdapters"])
def test_unknown_names_still_raise_attribute_error(name: str) -> None:
    import agentkit
    import agentkit.messages
    import agentkit.models

    for module in (agentkit, agentkit.messages, agentkit.models):
        with pytest.raises(AttributeError, match=name):
            getattr(module, name)


def test_marker_gives_the_json_schema_of_the_pydantic_marker_it_stands_for() -> None:
    ours: Any = Annotated[ModelRequest | ModelResponse, PydanticMarker("Discriminator", "kind")]
    theirs: Any = Annotated[ModelRequest | ModelResponse, pydantic.Discriminator("kind")]
    assert pydantic.TypeAdapter(ours).json_schema() == pydantic.TypeAdapter(theirs).json_schema()


def test_message_alias_validates_on_its_discriminator() -> None:
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ModelMessage)
    response = adapter.validate_python({"kind": "response", "parts": [{"part_kind": "text", "content": "hi"}]})
    assert response.parts == [TextPart("hi")]
    with pytest.raises(pydantic.ValidationError, match="does not match any of the expected tags"):
        adapter.validate_python({"kind": "telegram", "parts": []})


def test_binary_content_and_validation_errors_round_trip_through_json() -> None:
    errors = pydantic.TypeAdapter(int).validate_python  # a real pydantic error list, as a tool retry carries
    with pytest.raises(pydantic.ValidationError) as raised:
        errors("x")
    messages: list[ModelMessage] = [
        ModelRequest(parts=[UserPromptPart(["look", BinaryContent(b"\x89PNG", media_type="image/png")])]),
        ModelRequest(parts=[RetryPromptPart(raised.value.errors(include_url=False), tool_name="t")]),
    ]
    adapter: pydantic.TypeAdapter[list[ModelMessage]] = pydantic.TypeAdapter(list[ModelMessage])
    assert adapter.validate_json(adapter.dump_json(messages)) == messages
    assert b'"iVBORw=="' in adapter.dump_json(messages)


def test_marker_repr_names_the_pydantic_marker() -> None:
    assert repr(PydanticMarker("Discriminator", "kind")) == "Discriminator('kind')"
    assert repr(PydanticMarker("PlainSerializer", str, when_used="json")).endswith("when_used='json')")
