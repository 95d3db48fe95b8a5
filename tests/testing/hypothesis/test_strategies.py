"""The hypothesis strategies, and property tests that use them to fuzz the agentkit runtime itself."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import subprocess
import sys
import typing
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

import anyio
import jsonschema
import pydantic
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from typing_extensions import TypedDict

from agentkit import (
    Agent,
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelRetry,
    RetryPromptPart,
    RunContext,
    TextPart,
    Tool,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
    UsageLimits,
    UserError,
)
from agentkit_testing import Cassette
from agentkit_testing._hypothesis._strategies import signature_arguments
from agentkit_testing.strategies import (
    AgentFlowMachine,
    ResponseKind,
    ScriptedModel,
    model_responses,
    probe_agent_info,
    replay_example,
    run_scripted,
    tool_arguments,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WELL_FORMED: tuple[ResponseKind, ...] = ("tool_call", "unknown_tool", "text", "result")


# --- tools under test ------------------------------------------------------------------------


class Unit(enum.Enum):
    CELSIUS = "C"
    FAHRENHEIT = "F"


class Place(pydantic.BaseModel):
    city: Annotated[str, pydantic.Field(min_length=1, max_length=30)]
    country: Annotated[str, pydantic.Field(pattern=r"^[A-Z]{2}$")] = "FR"


@dataclasses.dataclass
class Window:
    start: datetime.date
    days: int = 1


class Options(TypedDict):
    verbose: bool
    tags: NotRequired[list[str]]


class Tree(pydantic.BaseModel):
    label: str
    children: list[Tree] = []


def forecast(
    place: Place,
    days: Annotated[int, pydantic.Field(ge=1, le=14)] = 3,
    unit: Unit = Unit.CELSIUS,
    detail: Literal["short", "long"] = "short",
) -> str:
    """The forecast for a place."""
    return f"{place.city}: sunny for {days} days"


def measure(
    values: list[Annotated[float, pydantic.Field(gt=0, lt=100)]],
    weights: dict[str, float] | None = None,
    step: Annotated[int, pydantic.Field(multiple_of=5, ge=0, le=50)] = 5,
    ratio: Annotated[float, pydantic.Field(ge=0, le=1)] = 0.5,
) -> float:
    return sum(values)


def schedule(
    ctx: RunContext[None],
    window: Window,
    at: datetime.datetime | None = None,
    request_id: uuid.UUID | None = None,
    options: Options | None = None,
    pair: tuple[int, str] | None = None,
    codes: set[int] | None = None,
) -> str:
    return "scheduled"


def walk(tree: Tree, anything: Any = None) -> int:
    return 1 + sum(walk(child) for child in tree.children)


SIGNATURE_TOOLS = [Tool(forecast), Tool(measure), Tool(schedule), Tool(walk)]


def _accepted(tool: Tool[Any], args: str | dict[str, Any]) -> bool:
    try:
        tool.schema.validate(args)
    except pydantic.ValidationError:
        return False
    return True


# --- tool_arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("tool", SIGNATURE_TOOLS, ids=[tool.name for tool in SIGNATURE_TOOLS])
def test_arguments_from_signatures_are_valid_without_any_filtering(tool: Tool[Any]) -> None:
    validator = jsonschema.Draft202012Validator(tool.schema.json_schema)

    @FAST
    @given(signature_arguments(tool))
    def check(args: dict[str, Any]) -> None:
        text = json.dumps(args)  # JSON-compatible
        tool.schema.validate(args)
        tool.schema.validate(text)
        validator.validate(args)

    check()


@pytest.mark.parametrize("tool", SIGNATURE_TOOLS, ids=[tool.name for tool in SIGNATURE_TOOLS])
def test_invalid_arguments_are_rejected_by_the_tool(tool: Tool[Any]) -> None:
    @FAST
    @given(tool_arguments(tool, valid=False))
    def check(args: dict[str, Any]) -> None:
        assert isinstance(args, dict)
        assert not _accepted(tool, args), f"{args!r} was accepted"
        assert not _accepted(tool, json.dumps(args)), f"{args!r} was accepted as JSON text"

    check()


def test_field_constraints_and_defaults_are_honoured() -> None:
    tool = Tool(forecast)
    assert find(tool_arguments(tool, mode="json"), lambda args: "days" not in args) == {"place": {"city": "0"}}
    longest = find(tool_arguments(tool, mode="json"), lambda args: args.get("days", 0) >= 14)
    assert longest["days"] == 14
    everything = find(tool_arguments(tool, mode="json"), lambda args: len(args) == 4)
    assert 1 <= everything["days"] <= 14


def test_each_kind_of_invalid_argument_is_made() -> None:
    tool = Tool(forecast)
    invalid = tool_arguments(tool, valid=False)
    assert "place" not in find(invalid, lambda args: "place" not in args)
    assert find(invalid, lambda args: "unexpected_property" in args)
    assert find(invalid, lambda args: isinstance(args.get("days"), int) and args["days"] > 14)["days"] == 15
    assert find(invalid, lambda args: isinstance(args.get("place"), list))


DEFINITION = ToolDefinition(
    "lookup",
    "Look a word up.",
    {
        "type": "object",
        "properties": {"word": {"type": "string", "minLength": 1}, "limit": {"type": ["integer", "null"]}},
        "required": ["word"],
        "additionalProperties": False,
    },
)


def test_arguments_for_a_bare_tool_definition_come_from_its_schema() -> None:
    validator = jsonschema.Draft202012Validator(DEFINITION.parameters_json_schema)

    @FAST
    @given(tool_arguments(DEFINITION), tool_arguments(DEFINITION, valid=False))
    def check(valid: dict[str, Any], invalid: dict[str, Any]) -> None:
        validator.validate(valid)
        assert not validator.is_valid(invalid)

    check()


def test_tool_arguments_of_something_else_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"expected a Tool, a ToolDefinition, .*; got 'forecast' \(type=str\)"):
        tool_arguments("forecast")  # type: ignore[arg-type]


# --- model_responses and ScriptedModel ----------------------------------------------------------

RESULT_TOOL = ToolDefinition(
    "final_result",
    "The answer.",
    {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]},
)


@FAST
@given(model_responses(SIGNATURE_TOOLS, RESULT_TOOL))
def test_scripts_number_their_tool_calls_in_order(script: list[ModelResponse]) -> None:
    ids = [part.tool_call_id for response in script for part in response.parts if isinstance(part, ToolCallPart)]
    assert ids == [f"scripted_{n}" for n in range(1, len(ids) + 1)]
    assert all(response.timestamp == datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) for response in script)


FORECAST = Tool(forecast)
NO_SHRINKING = settings(phases=[Phase.generate], max_examples=300, database=None)


@pytest.mark.parametrize(
    ("kind", "looks_like"),
    [
        ("tool_call", lambda part: part.tool_name == "forecast" and _accepted(FORECAST, part.args_as_dict())),
        ("invalid_tool_call", lambda part: part.tool_name == "forecast" and not _accepted(FORECAST, part.args)),
        ("unknown_tool", lambda part: part.tool_name not in {"forecast", "final_result"}),
        ("malformed_args", lambda part: isinstance(part.args, str) and not _is_json_object(part.args)),
        ("result", lambda part: part.tool_name == "final_result" and "answer" in part.args_as_dict()),
        ("invalid_result", lambda part: part.tool_name == "final_result" and not _is_valid_answer(part.args)),
        ("text", lambda part: isinstance(part, TextPart)),
    ],
)
def test_each_kind_of_response_part_is_made(kind: ResponseKind, looks_like: Any) -> None:
    find(
        model_responses([FORECAST], RESULT_TOOL, kinds=[kind], min_size=1, max_size=1, max_parts=1),
        lambda script: looks_like(script[0].parts[0]),
        settings=NO_SHRINKING,
    )


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _is_valid_answer(args: str | dict[str, Any]) -> bool:
    decoded = json.loads(args) if isinstance(args, str) else args
    return bool(jsonschema.Draft202012Validator(RESULT_TOOL.parameters_json_schema).is_valid(decoded))


def test_an_empty_response_can_be_scripted() -> None:
    assert find(model_responses([], kinds=["empty", "text"], min_size=1), lambda s: not s[0].parts)[0].parts == []


def test_unknown_kinds_are_a_clear_error() -> None:
    with pytest.raises(UserError, match="unknown kind 'tool'; expected some of tool_call, "):
        model_responses([], kinds=["tool"])  # type: ignore[list-item]


def test_scripted_model_plays_the_script_then_ends_with_text() -> None:
    agent = Agent(tools=[forecast])
    script = [ModelResponse([ToolCallPart("forecast", {"place": {"city": "Oslo"}}, "c1")])]
    model = ScriptedModel(script, final_text="It is sunny.")
    result = agent.run_sync("Weather?", model=model)
    assert result.data == "It is sunny."
    assert model.exhausted
    assert model.played == 1
    returned = result.all_messages()[2].parts[0]
    assert isinstance(returned, ToolReturnPart)
    assert returned.content == "Oslo: sunny for 3 days"
    assert repr(model) == "ScriptedModel(responses=1, played=1, final_text='It is sunny.')"


class Answer(pydantic.BaseModel):
    answer: int
    note: str | None = None


@pytest.mark.parametrize("final_args", [None, {"answer": 42}])
def test_scripted_model_ends_a_structured_run_with_a_valid_result(final_args: dict[str, Any] | None) -> None:
    agent = Agent(result_type=Answer)
    result = agent.run_sync("Answer?", model=ScriptedModel([], final_result_args=final_args))
    assert isinstance(result.data, Answer)
    if final_args:
        assert result.data.answer == 42


def test_scripted_model_replays_the_same_script_in_every_run() -> None:
    script = [ModelResponse([TextPart("first")])]
    agent = Agent()
    assert agent.run_sync("a", model=ScriptedModel(script)).data == "first"
    assert agent.run_sync("b", model=ScriptedModel(script)).data == "first"
    assert script[0].model_name is None  # the model's copies were named, not the script


# --- fuzzing the runtime ---------------------------------------------------------------------


def add(a: int, b: Annotated[int, pydantic.Field(ge=0, le=100)]) -> int:
    """Add two numbers."""
    return a + b


async def lookup(ctx: RunContext[None], key: str) -> str:
    """Look a key up; keys starting with x are refused."""
    if key.startswith("x"):
        raise ModelRetry("keys starting with x are not allowed")
    return key.upper()


async def pause(seconds: Annotated[float, pydantic.Field(ge=0, le=0.002)]) -> float:
    """Sleep a little, so concurrent calls finish in varied orders."""
    await anyio.sleep(seconds)
    return seconds


TOOLS = [Tool(add), Tool(lookup, max_retries=2), Tool(pause)]
BUDGETS = {"add": 1, "lookup": 2, "pause": 1}
RESULT_TYPES: dict[str, Any] = {"text": str, "model": Answer, "int": int, "text or model": str | Answer}


def _agent(result_type: Any) -> Agent[None, Any]:
    return Agent(tools=TOOLS, result_type=result_type, retries=1)


def _result_tool(agent: Agent[None, Any]) -> ToolDefinition | None:
    info = anyio.run(lambda: probe_agent_info(agent))
    return info.result_tools[0] if info.result_tools else None


@pytest.mark.parametrize("result_name", list(RESULT_TYPES))
def test_every_run_ends_in_end_or_a_documented_error(result_name: str) -> None:
    agent = _agent(RESULT_TYPES[result_name])
    scripts = model_responses(TOOLS, _result_tool(agent))

    @FAST
    @given(scripts)
    def check(script: list[ModelResponse]) -> None:
        run = anyio.run(lambda: run_scripted(agent, script))
        run.check(retry_budgets=BUDGETS)

    check()


@pytest.mark.parametrize(
    "kinds",
    [
        pytest.param(WELL_FORMED, id="well-formed"),
        pytest.param(typing.get_args(ResponseKind), id="all kinds"),
    ],
)
def test_messages_round_trip_through_json_exactly(kinds: tuple[ResponseKind, ...]) -> None:
    agent = _agent(Answer)
    scripts = model_responses(TOOLS, _result_tool(agent), kinds=kinds)

    @FAST
    @given(scripts)
    def check(script: list[ModelResponse]) -> None:
        messages = anyio.run(lambda: run_scripted(agent, script)).new_messages
        assert ModelMessagesTypeAdapter.validate_json(ModelMessagesTypeAdapter.dump_json(messages)) == messages

    check()


@FAST
@given(model_responses([Tool(pause)], kinds=["tool_call"], min_size=1, max_parts=4))
def test_tool_returns_keep_call_order_however_calls_finish(script: list[ModelResponse]) -> None:
    agent = Agent(tools=[pause])
    run = anyio.run(lambda: run_scripted(agent, script))
    for response, request in zip(run.new_messages[1::2], run.new_messages[2::2], strict=False):
        calls = [part.tool_call_id for part in response.parts if isinstance(part, ToolCallPart)]
        assert [getattr(part, "tool_call_id", None) for part in request.parts] == calls


@FAST
@given(model_responses(TOOLS))
def test_the_same_script_gives_the_same_messages_bit_for_bit(script: list[ModelResponse]) -> None:
    agent = _agent(str)
    first, second = (anyio.run(lambda: run_scripted(agent, script)) for _ in range(2))
    assert first.new_messages == second.new_messages
    assert ModelMessagesTypeAdapter.dump_json(first.new_messages) == ModelMessagesTypeAdapter.dump_json(
        second.new_messages
    )
    assert type(first.error) is type(second.error)


@FAST
@given(model_responses(TOOLS), st.integers(1, 4))
def test_request_limits_end_runs_with_usage_limit_exceeded(script: list[ModelResponse], limit: int) -> None:
    run = anyio.run(lambda: run_scripted(_agent(str), script, usage_limits=UsageLimits(request_limit=limit)))
    run.check(retry_budgets=BUDGETS)
    assert run.requests <= limit
    assert run.error is None or isinstance(run.error, UsageLimitExceeded | UnexpectedModelBehavior)


class ToolFlows(AgentFlowMachine):
    """Conversations with three tools and a structured result."""

    tools = TOOLS
    max_responses = 4

    def make_agent(self) -> Agent[None, Any]:
        return _agent(str | Answer)


ToolFlows.TestCase.settings = settings(max_examples=15, stateful_step_count=3, deadline=None)
TestToolFlows = ToolFlows.TestCase


class SlowToolFlows(ToolFlows):
    usage_limits = UsageLimits(request_limit=6, total_tokens_limit=400)


SlowToolFlows.TestCase.settings = settings(max_examples=200, stateful_step_count=6, deadline=None)
TestSlowToolFlows = pytest.mark.slow(SlowToolFlows.TestCase)


def divide(a: int, b: int) -> float:
    """Divide a by b (and fail on zero: the bug the machine should find)."""
    return a / b


def test_a_failing_flow_is_saved_as_a_cassette_that_replays_offline(tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"

    class DivisionFlows(AgentFlowMachine):
        tools = (Tool(divide),)
        failing_example_cassette = path

        def make_agent(self) -> Agent[None, Any]:
            return Agent(tools=[divide])

    quick = settings(max_examples=100, stateful_step_count=3, phases=[Phase.generate], deadline=None, database=None)
    with pytest.raises(ZeroDivisionError) as failure:
        run_state_machine_as_test(DivisionFlows, settings=quick)
    assert f"The runs of this example were saved to {str(path)!r}" in "\n".join(failure.value.__notes__)
    with pytest.raises(ZeroDivisionError):  # the model's side is replayed, the tool runs again
        anyio.run(lambda: replay_example(Agent(tools=[divide]), path))


def broken(x: int) -> int:
    """Always fails."""
    raise RuntimeError(f"broken on {x}")


def broken_flows() -> type[AgentFlowMachine]:
    class BrokenFlows(AgentFlowMachine):
        tools = (Tool(broken),)

        def make_agent(self) -> Agent[None, Any]:
            return Agent(tools=[broken])

    return BrokenFlows


def test_flow_machines_leave_out_the_explain_phase_by_default() -> None:
    phases = broken_flows().TestCase.settings.phases
    assert Phase.explain not in phases
    assert Phase.shrink in phases


def test_a_failing_flow_is_shrunk_without_re_running_it_under_a_tracer() -> None:
    # The explain phase re-ran a failing flow ~100 times under a line tracer: 40 s of a 45 s failure.
    flows = broken_flows()
    flows.TestCase.settings = settings(flows.TestCase.settings, max_examples=20, database=None)  # keeps the phases
    with pytest.raises(RuntimeError, match="broken on") as failure:
        run_state_machine_as_test(flows)
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "state = BrokenFlows()" in notes  # the shrunk steps are printed
    assert "Explanation:" not in notes


def test_a_saved_example_replays_offline_and_can_be_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    recording = Cassette(path)
    script = [ModelResponse([ToolCallPart("add", {"a": 1, "b": 2}, "c1")]), ModelResponse([TextPart("3")])]
    first = anyio.run(lambda: run_scripted(Agent(tools=[add]), script, record_to=recording))
    recording.save()
    second = anyio.run(lambda: run_scripted(Agent(tools=[add]), script, prompt="Again", record_to=recording))
    recording.save()
    replayed = anyio.run(lambda: replay_example(Agent(tools=[add]), path))
    assert [run.new_messages for run in replayed] == [first.new_messages, second.new_messages]
    for run in replayed:
        run.check(retry_budgets={"add": 1})


def test_replaying_an_empty_cassette_is_a_clear_error(tmp_path: Path) -> None:
    Cassette(tmp_path / "empty.yaml").save()
    with pytest.raises(UserError, match=r"the cassette '.*empty\.yaml' holds no runs"):
        anyio.run(lambda: replay_example(Agent(), tmp_path / "empty.yaml"))


def test_flow_machine_without_an_agent_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"AgentFlowMachine: override make_agent\(\) or set agent_factory"):
        AgentFlowMachine()


@pytest.mark.slow
@pytest.mark.parametrize("result_name", list(RESULT_TYPES))
def test_every_run_ends_in_end_or_a_documented_error_thoroughly(result_name: str) -> None:
    agent = _agent(RESULT_TYPES[result_name])
    scripts = model_responses(TOOLS, _result_tool(agent), max_size=8, max_parts=4)

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scripts)
    def check(script: list[ModelResponse]) -> None:
        anyio.run(lambda: run_scripted(agent, script)).check(retry_budgets=BUDGETS)

    check()


# --- regressions found by these properties ------------------------------------------------------


def test_exceeding_a_tool_budget_in_concurrent_calls_raises_unexpected_model_behavior() -> None:
    """Was an ExceptionGroup: the budget was checked inside the task group running the calls."""
    script = [ModelResponse([ToolCallPart("add", {"b": 1}, "c1"), ToolCallPart("add", "{", "c2")])]
    run = anyio.run(lambda: run_scripted(Agent(tools=[add], retries=1), script))  # other errors propagate
    assert isinstance(run.error, UnexpectedModelBehavior)
    assert str(run.error) == "Tool exceeded max retries count of 1"  # pydantic-ai 0.0.39's text
    assert any("tool 'add'" in note for note in run.error.__notes__)  # the tool is named in a note


def test_a_tool_error_in_concurrent_calls_escapes_as_itself() -> None:
    """Was an ExceptionGroup from the task group running the calls (a single call's error escaped as itself)."""
    calls: list[ModelResponsePart] = [
        ToolCallPart("divide", {"a": 1, "b": 0}, "c1"),
        ToolCallPart("divide", {"a": 2, "b": 0}, "c2"),
    ]
    with pytest.raises(ZeroDivisionError) as raised:
        anyio.run(lambda: run_scripted(Agent(tools=[divide]), [ModelResponse(calls)]))
    notes = "\n".join(raised.value.__notes__)
    assert "raised by tool 'divide' (tool_call_id='c1'" in notes
    assert "1 other tool call(s) in this response also raised" in notes


def test_tool_retries_are_counted_in_call_order_not_finishing_order() -> None:
    """Was finishing order: a slow valid call that finished last reset the count after a fast invalid one."""
    slow_then_bad: list[ModelResponsePart] = [
        ToolCallPart("pause", {"seconds": 0.002}, "c1"),
        ToolCallPart("pause", {"seconds": -1}, "c2"),
    ]
    script = [ModelResponse(slow_then_bad), ModelResponse([ToolCallPart("pause", {"seconds": -1}, "c3")])]
    run = anyio.run(lambda: run_scripted(Agent(tools=[pause], retries=1), script))
    assert isinstance(run.error, UnexpectedModelBehavior)
    run.check(retry_budgets={"pause": 1})


def test_a_validation_retry_prompt_round_trips_through_json_exactly() -> None:
    """Was broken: the content was list[dict[str, Any]], so JSON turned each error's loc tuple into a list."""
    errors: list[Any] = [{"type": "missing", "loc": ("city",), "msg": "Field required", "input": {}}]
    messages: list[ModelMessage] = [ModelRequest([RetryPromptPart(errors, "forecast", "c1")])]
    assert ModelMessagesTypeAdapter.validate_json(ModelMessagesTypeAdapter.dump_json(messages)) == messages


def test_the_strategies_example_runs() -> None:
    example = Path(__file__).parents[3] / "examples" / "testing_strategies.py"
    completed = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, check=True)
    assert "AgentFlowMachine: 20 conversations of up to 3 runs, all invariants kept" in completed.stdout
