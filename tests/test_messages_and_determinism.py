"""Messages round-trip through JSON exactly; runs are repeatable with pinned clock and ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from agentkit import (
    Agent,
    FixedClock,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    RunContext,
    SequentialIds,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
    override_sources,
)
from agentkit.models import TestModel

pytestmark = pytest.mark.anyio

STAMP = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_every_part_kind_round_trips_through_json() -> None:
    messages = [
        ModelRequest(
            parts=[
                SystemPromptPart("be brief"),
                UserPromptPart("hi", timestamp=STAMP),
                ToolReturnPart("t", {"a": [1, 2]}, "c1", timestamp=STAMP),
                RetryPromptPart(
                    [{"type": "missing", "loc": ("x",), "msg": "Field required", "input": {}}], "t", "c2", STAMP
                ),
                RetryPromptPart("again", timestamp=STAMP, tool_call_id="c3"),
            ]
        ),
        ModelResponse(
            parts=[TextPart("hello"), ToolCallPart("t", '{"x": 1}', "c4"), ToolCallPart("t", {"x": 2}, "c5")],
            model_name="m",
            timestamp=STAMP,
        ),
    ]
    encoded = ModelMessagesTypeAdapter.dump_json(messages)
    assert ModelMessagesTypeAdapter.validate_json(encoded) == messages
    assert (
        ModelMessagesTypeAdapter.validate_python(ModelMessagesTypeAdapter.dump_python(messages, mode="json"))
        == messages
    )


def test_unknown_part_kind_is_rejected_with_its_location() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"0\.request\.parts\.0"):
        ModelMessagesTypeAdapter.validate_python([{"kind": "request", "parts": [{"part_kind": "bogus"}]}])


def test_reprs_have_the_documented_shape() -> None:
    assert repr(TextPart("Paris")) == "TextPart(content='Paris', part_kind='text')"
    assert repr(ModelRequest(parts=[])) == "ModelRequest(parts=[], kind='request')"
    assert repr(UserPromptPart("q", timestamp=STAMP)) == (
        "UserPromptPart(content='q', timestamp=datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.timezone.utc), "
        "part_kind='user-prompt')"
    )


def test_tool_call_args_accessors() -> None:
    assert ToolCallPart("t", '{"a": 1}').args_as_dict() == {"a": 1}
    assert ToolCallPart("t", {"a": 1}).args_as_json_str() == '{"a":1}'
    assert ToolCallPart("t", "").args_as_dict() == {}
    with pytest.raises(ValueError, match="must be a JSON object, got list"):
        ToolCallPart("t", "[1]").args_as_dict()


async def run_demo_agent() -> list[object]:
    agent = Agent(TestModel(seed=3), system_prompt="sys", deps_type=int)

    @agent.tool
    async def add(ctx: RunContext[int], x: int) -> int:
        return ctx.deps + x

    @agent.tool_plain
    def echo(text: str) -> str:
        return text

    with override_sources(clock=FixedClock(STAMP, timedelta(seconds=1)), ids=SequentialIds()):
        result = await agent.run("go", deps=10)
    return list(result.all_messages())


async def test_two_runs_with_pinned_sources_are_identical() -> None:
    first = await run_demo_agent()
    second = await run_demo_agent()
    assert first == second
    assert ModelMessagesTypeAdapter.dump_json(first) == ModelMessagesTypeAdapter.dump_json(second)  # type: ignore[arg-type]
    ids = [
        p.tool_call_id for m in first if isinstance(m, ModelResponse) for p in m.parts if isinstance(p, ToolCallPart)
    ]
    assert ids == [None, None]  # TestModel gives no tool-call ids, as in the reference release


async def test_sources_are_context_local() -> None:
    from agentkit._sources import new_id

    with override_sources(ids=SequentialIds()):
        inside = new_id()
    outside = new_id()
    assert inside == "call_000001"
    assert outside != "call_000001"


async def first_call_args(seed: int) -> str:
    agent = Agent(TestModel(seed=seed))

    @agent.tool_plain
    def pick(name: str, count: int) -> str:
        return name * count

    result = await agent.run("go")
    response = result.all_messages()[1]
    assert isinstance(response, ModelResponse)
    part = response.parts[0]
    assert isinstance(part, ToolCallPart)
    return part.args_as_json_str()


async def test_test_model_seed_changes_arguments_deterministically() -> None:
    assert await first_call_args(0) == await first_call_args(0)
    assert await first_call_args(0) != await first_call_args(5)
