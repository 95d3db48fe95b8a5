"""Scripted flows of real pydantic-ai agents: drawn scripts, runs on a `ScriptedModel`, and `ScriptedRun.check()`."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from pydantic_ai import Agent, ModelRetry, NativeOutput, RunContext
from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.usage import UsageLimits

from agentkit import UserError
from agentkit_testing.pydantic_ai.strategies import (
    ScriptedModel,
    ScriptedRun,
    model_responses,
    probe_agent_info,
    probe_agent_info_sync,
    run_scripted,
    run_scripted_sync,
)

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For properties expected to fail: no explain phase, which re-runs the failing example under a line
# tracer (seconds of pydantic-ai machinery traced on Python < 3.12), and no example database.
FINDING = settings(
    max_examples=200,
    deadline=None,
    database=None,
    phases=[phase for phase in Phase if phase is not Phase.explain],
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # pydantic-ai runs on asyncio only


class Stay(pydantic.BaseModel):
    city: str
    nights: int = pydantic.Field(ge=1, le=14)


def _hotel_agent() -> Agent[None, Stay]:
    agent = Agent("test", output_type=Stay, retries=2, name="hotels")

    @agent.tool_plain
    def find_hotel(stay: Stay, breakfast: bool = False) -> str:
        """Find a hotel for a stay."""
        return f"Hotel in {stay.city} for {stay.nights} night(s)"

    @agent.tool_plain(retries=1)
    def check_room(number: int) -> str:
        """Check a room; odd numbers are being cleaned."""
        if number % 2:
            raise ModelRetry(f"room {number} is being cleaned; ask for an even one")
        return f"room {number} is free"

    return agent


hotels = _hotel_agent()
chat = Agent("test", name="chat")


@chat.tool_plain
def shout(text: str) -> str:
    """Shout the text."""
    return text.upper()


def _call(name: str, args: Any, call_id: str) -> ToolCallPart:
    return ToolCallPart(name, args, tool_call_id=call_id)


# --- properties that hold for well-behaved agents ---------------------------------------------


@FAST
@given(model_responses(hotels))
def test_every_run_of_a_structured_output_agent_keeps_the_invariants(script: list[ModelResponse]) -> None:
    run_scripted_sync(hotels, script).check()


@FAST
@given(model_responses(chat))
def test_every_run_of_a_text_agent_keeps_the_invariants(script: list[ModelResponse]) -> None:
    run = run_scripted_sync(chat, script)
    run.check()
    assert run.error is not None or isinstance(run.result and run.result.output, str)


@FAST
@given(model_responses(hotels, max_size=6))
def test_request_limits_end_runs_with_usage_limit_exceeded(script: list[ModelResponse]) -> None:
    run = run_scripted_sync(hotels, script, usage_limits=UsageLimits(request_limit=2))
    run.check()
    assert run.requests <= 2
    assert run.error is None or isinstance(run.error, UnexpectedModelBehavior | UsageLimitExceeded)


@FAST
@given(model_responses(hotels, kinds=["tool_call", "result"], min_size=1))
def test_scripts_number_their_calls_and_fix_their_timestamps(script: list[ModelResponse]) -> None:
    ids = [part.tool_call_id for response in script for part in response.parts if isinstance(part, ToolCallPart)]
    assert ids == [f"scripted_{number}" for number in range(1, len(ids) + 1)]
    assert {response.timestamp for response in script} == {datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)}


# --- the scripted model ------------------------------------------------------------------------


def test_the_model_plays_the_script_then_ends_a_text_run_with_its_final_text() -> None:
    script = [ModelResponse(parts=[_call("shout", {"text": "hi"}, "one")])]
    run = run_scripted_sync(chat, script, final_text="all done")
    assert run.result is not None
    assert run.result.output == "all done"
    returns = [part for message in run.new_messages for part in message.parts if isinstance(part, ToolReturnPart)]
    assert [(part.tool_call_id, part.content) for part in returns] == [("one", "HI")]


def test_the_model_ends_a_structured_run_through_the_output_tool() -> None:
    run = run_scripted_sync(hotels, [], final_output_args={"city": "Oslo", "nights": 3})
    assert run.result is not None
    assert run.result.output == Stay(city="Oslo", nights=3)
    run.check()


def test_without_final_arguments_the_output_is_made_from_its_schema() -> None:
    run = run_scripted_sync(hotels, [])
    assert isinstance(run.result and run.result.output, Stay)


def test_native_structured_output_gets_json_text() -> None:
    native = Agent("test", output_type=NativeOutput(Stay))
    run = run_scripted_sync(native, [], final_output_args={"city": "Rome", "nights": 2})
    assert run.result is not None
    assert run.result.output == Stay(city="Rome", nights=2)
    last = run.new_messages[-1]
    assert isinstance(last, ModelResponse)
    assert json.loads(str(last.parts[0].content)) == {"city": "Rome", "nights": 2}  # type: ignore[union-attr]


def test_with_end_strategy_early_the_output_call_may_be_answered_first() -> None:
    early = Agent("test", output_type=Stay, end_strategy="early")
    early.tool_plain(shout)
    calls = [_call("shout", {"text": "a"}, "one"), _call("final_result", {"city": "Oslo", "nights": 2}, "two")]
    run = run_scripted_sync(early, [ModelResponse(parts=calls)])
    run.check()
    answers = [part.tool_call_id for part in run.new_messages[-1].parts if isinstance(part, ToolReturnPart)]
    assert answers == ["two", "one"]  # the output first; the skipped function tool after it


def test_a_run_continuing_a_conversation_holds_only_its_new_messages() -> None:
    first = run_scripted_sync(chat, [ModelResponse(parts=[_call("shout", {"text": "a"}, "one")])])
    assert first.result is not None
    history = first.result.all_messages()
    second = run_scripted_sync(chat, [ModelResponse(parts=[TextPart("again")])], message_history=history, prompt="More")
    second.check()
    assert second.result is not None
    assert second.new_messages == second.result.new_messages()
    assert second.requests == 1


def test_a_script_is_played_the_same_in_every_run() -> None:
    script = [ModelResponse(parts=[_call("shout", {"text": "a"}, "one")])]
    first, second = (run_scripted_sync(chat, script) for _ in range(2))
    assert first.script == second.script == script
    assert script[0].model_name is None  # the model's own name and usage are written on a copy


@pytest.mark.anyio
async def test_scripted_model_counts_what_it_played_and_shows_it() -> None:
    model = ScriptedModel([ModelResponse(parts=[TextPart("hello")])], final_text="bye")
    assert repr(model) == "ScriptedModel(responses=1, played=0, final_text='bye')"
    assert not model.exhausted
    with chat.override(model=model):
        assert (await chat.run("Hi")).output == "hello"
    assert model.exhausted
    assert model.played == 1
    assert repr(model) == "ScriptedModel(responses=1, played=1, final_text='bye')"


@pytest.mark.anyio
async def test_run_scripted_awaits_in_async_code() -> None:
    run = await run_scripted(chat, [ModelResponse(parts=[TextPart("hello")])])
    assert run.result is not None
    assert run.result.output == "hello"


@pytest.mark.anyio
async def test_probing_an_agent_sends_nothing_and_names_its_tools() -> None:
    info = await probe_agent_info(hotels)
    assert sorted(tool.name for tool in info.function_tools) == ["check_room", "find_hotel"]
    assert [tool.name for tool in info.output_tools] == ["final_result"]
    assert not info.allow_text_output


def test_probing_an_agent_whose_instructions_need_deps_says_to_pass_them() -> None:
    needy = Agent("test", deps_type=dict)

    @needy.instructions
    def greet(ctx: RunContext[dict[str, str]]) -> str:
        return f"Hello {ctx.deps['user']}"

    with pytest.raises(UserError, match=r"without deps: TypeError.*pass deps=\.\.\."):
        probe_agent_info_sync(needy)
    assert probe_agent_info_sync(needy, deps={"user": "ann"}).function_tools == []


def test_model_responses_with_an_agent_and_an_output_tool_is_a_clear_error() -> None:
    info = probe_agent_info_sync(hotels)
    with pytest.raises(UserError, match="pass one or the other"):
        model_responses(hotels, info.output_tools[0])


def test_model_responses_of_something_else_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"expected pydantic-ai ToolDefinitions or Tools.*type=str"):
        model_responses(["find_hotel"])  # type: ignore[list-item]


# --- check() finds broken runs -----------------------------------------------------------------


def _run(messages: list[Any], *, requests: int | None = None, budgets: dict[str, int] | None = None) -> ScriptedRun:
    responses = sum(isinstance(message, ModelResponse) for message in messages)
    return ScriptedRun(
        script=[],
        nodes=[],
        new_messages=messages,
        requests=responses if requests is None else requests,
        result=None,
        error=UnexpectedModelBehavior("stopped"),
        retry_budgets=budgets or {},
    )


def _retried(name: str, call_id: str) -> ToolReturnPart:
    return ToolReturnPart(name, "try again", tool_call_id=call_id, outcome="retried")


def test_check_finds_a_tool_call_answered_with_another_id() -> None:
    run = _run(
        [
            ModelResponse(parts=[_call("shout", {"text": "a"}, "one")]),
            ModelRequest(parts=[ToolReturnPart("shout", "A", tool_call_id="two")]),
        ]
    )
    with pytest.raises(AssertionError, match=r"tool calls \['one'\] were answered with ids \['two'\]"):
        run.check()


def test_check_finds_returns_out_of_call_order() -> None:
    calls = [_call("shout", {"text": "a"}, "one"), _call("shout", {"text": "b"}, "two")]
    answers = [ToolReturnPart("shout", "B", tool_call_id="two"), ToolReturnPart("shout", "A", tool_call_id="one")]
    with pytest.raises(AssertionError, match=r"answered in the order \['two', 'one'\]"):
        _run([ModelResponse(parts=calls), ModelRequest(parts=answers)]).check()


def test_check_finds_a_tool_retried_over_its_budget() -> None:
    messages: list[Any] = []
    for number in range(3):
        messages += [
            ModelResponse(parts=[_call("shout", {}, f"c{number}")]),
            ModelRequest(parts=[_retried("shout", f"c{number}")]),
        ]
    with pytest.raises(AssertionError, match=r"'shout' was retried in 3 requests in a row .* budget of 2"):
        _run(messages, budgets={"shout": 2}).check()


def test_check_counts_two_failed_calls_in_one_request_as_one_retry() -> None:
    calls = [_call("shout", {}, "one"), _call("shout", {}, "two")]
    answers = [_retried("shout", "one"), _retried("shout", "two")]
    _run([ModelResponse(parts=calls), ModelRequest(parts=answers)], budgets={"shout": 1}).check()


def test_check_finds_requests_miscounted() -> None:
    with pytest.raises(AssertionError, match=r"usage.requests=3 but the run has 1 responses"):
        _run([ModelResponse(parts=[TextPart("hi")])], requests=3).check()


# --- hypothesis finds broken agents, and prints a pasteable example ----------------------------


def _fragile_agent() -> Agent[None, str]:
    agent = Agent("test", name="fragile")

    @agent.tool_plain
    def nights_left(nights: int) -> int:
        """Nights left of a fortnight."""
        if nights > 14:
            raise KeyError(nights)  # a bug: neither a return nor a ModelRetry
        return 14 - nights

    return agent


def test_hypothesis_finds_a_tool_that_crashes_and_prints_a_pasteable_script() -> None:
    fragile = _fragile_agent()

    @FINDING
    @given(model_responses(fragile, kinds=["tool_call", "text"]))
    def property_of_fragile(script: list[ModelResponse]) -> None:
        run_scripted_sync(fragile, script).check()

    with pytest.raises(KeyError) as failure:
        property_of_fragile()
    notes = getattr(failure.value, "__notes__", [])
    # The falsifying example is one note; others may follow it (under CI, Hypothesis adds a
    # `@reproduce_failure(...)` line), so the script is read from that note alone.
    printed = next((note for note in notes if "script=" in note), "\n".join(notes))
    assert re.search(r"(Falsifying example|Failing test case): property_of_fragile\(", printed), printed
    example = printed[printed.index("script=") + len("script=") : printed.rindex(")")].rstrip().rstrip(",")
    assert "part_kind" not in example  # pydantic-ai's own reprs, defaults left out
    namespace: dict[str, Any] = {"datetime": datetime, "ModelResponse": ModelResponse, "ToolCallPart": ToolCallPart}
    pasted = eval(example, namespace)  # what a user pastes into a regression test, with those imports
    assert any(isinstance(part, ToolCallPart) for response in pasted for part in response.parts)
    with pytest.raises(KeyError):
        run_scripted_sync(_fragile_agent(), pasted)


def test_an_output_validator_that_always_retries_ends_in_unexpected_model_behavior() -> None:
    stubborn = Agent("test", name="stubborn", retries=2)

    @stubborn.output_validator
    def never_good_enough(output: str) -> str:
        raise ModelRetry("try harder")

    failures: list[ScriptedRun] = []

    @FINDING
    @given(model_responses(stubborn, max_size=2))
    def runs_end_with_output(script: list[ModelResponse]) -> None:
        run = run_scripted_sync(stubborn, script)
        run.check()  # the invariants hold: the budget ends the loop with a documented error
        if run.result is None:
            failures.append(run)
        assert run.result is not None, f"no output: {run.error!r}"

    with pytest.raises(AssertionError, match=r"no output: UnexpectedModelBehavior"):
        runs_end_with_output()
    assert failures


def test_importing_the_adapter_does_not_import_hypothesis() -> None:
    code = "import sys, agentkit_testing.pydantic_ai; print('hypothesis' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"
