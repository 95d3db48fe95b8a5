"""Property: whatever text and arguments a run holds, the cassette file gives them back exactly."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import (
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    UserPromptPart,
)
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._cassette._records import RecordedRequest, RecordedResult, RecordedRun
from agentkit_testing._secrets import Scrubber

WHEN = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
TOOLS = (ToolDefinition("tool", "A tool.", {"type": "object"}),)
# Non-finite floats are left out: like every JSON encoding of messages, the file writes them as null.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)
argument_texts = st.one_of(
    st.dictionaries(st.text(), json_values, max_size=4).flatmap(
        lambda value: st.sampled_from(
            [
                json.dumps(value, separators=(",", ":"), ensure_ascii=False),
                json.dumps(value, separators=(",", ":")),
                json.dumps(value),
                json.dumps(value, indent=1),
            ]
        )
    ),
    st.text(),
)


def dice_run(prompt: str, system: str, answer: str, returned: Any, args: str) -> RecordedRun:
    first = ModelRequest(parts=[SystemPromptPart(system), UserPromptPart(prompt, timestamp=WHEN)])
    second = ModelRequest(parts=[ToolReturnPart("tool", returned, "call_1", timestamp=WHEN)])
    return RecordedRun(
        id="run-1",
        agent="agent",
        model="test:test",
        user_prompt=prompt,
        nodes=("ModelRequestNode", "CallToolsNode", "ModelRequestNode", "CallToolsNode", "End"),
        requests=(
            RecordedRequest(
                0, (first,), ModelResponse([ToolCallPart("tool", args, "call_1")], "m", WHEN), function_tools=TOOLS
            ),
            RecordedRequest(2, (second,), ModelResponse([TextPart(answer)], "m", WHEN), function_tools=TOOLS),
        ),
        result=RecordedResult(answer),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt=st.text(),
    system=st.text(),
    answer=st.text(),
    returned=json_values,
    args=argument_texts,
    file_format=st.sampled_from(["yaml", "json"]),
)
def test_any_run_round_trips_through_the_file(
    prompt: str, system: str, answer: str, returned: Any, args: str, file_format: str
) -> None:
    run = dice_run(prompt, system, answer, returned, args)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"run.{file_format}"
        Cassette(path, [run], scrubber=Scrubber(defaults=False)).save()
        (loaded,) = Cassette.load(path).runs
    assert loaded.user_prompt == prompt
    assert loaded.requests == run.requests
    assert loaded.result == run.result
    assert [(call.tool_call_id, call.args, call.result.content) for call in loaded.tool_calls] == [
        ("call_1", args, returned)
    ]
