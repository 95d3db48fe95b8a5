"""`tool_arguments` takes what a test has at hand; scripted runs check themselves; failures print pasteable calls."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

import anyio
import jsonschema
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings

from agentkit import Agent, ModelResponse, RunContext, Tool, UserError
from agentkit.models import TestModel
from agentkit_testing.strategies import ScriptedRun, model_responses, probe_agent_info, run_scripted, tool_arguments

FAST = settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


class Stay(pydantic.BaseModel):
    city: str
    nights: int = pydantic.Field(ge=1, le=14)


booking_agent = Agent(TestModel(), name="booking")
same_agent = booking_agent  # one agent under two names is still one registration
other_agent = Agent(TestModel(), name="other")


@booking_agent.tool_plain
def book(stay: Stay, arrival: datetime.date, guests: int = 1) -> str:
    """Book a stay."""
    assert isinstance(stay, Stay), f"stay came as {type(stay).__name__}"
    assert isinstance(arrival, datetime.date)
    return f"{stay.city} for {stay.nights} nights from {arrival}, {guests} guest(s)"


@booking_agent.tool
def cancel(ctx: RunContext[None], stay: Stay) -> str:
    """Cancel a stay."""
    return f"cancelled {stay.city}"


def shared(code: str) -> str:
    """Registered on two agents."""
    return code


booking_agent.tool_plain(shared)
other_agent.tool_plain(shared)


def unregistered(limit: int, stay: Stay) -> int:
    return limit


# --- the forms accepted -------------------------------------------------------------------------


def test_the_decorated_function_gives_what_it_receives_so_calling_it_works() -> None:
    @FAST
    @given(tool_arguments(book))
    def check(args: dict[str, Any]) -> None:
        assert isinstance(args["stay"], Stay)
        book(**args)

    check()


def test_a_context_tool_gets_its_arguments_without_the_context() -> None:
    @FAST
    @given(tool_arguments(cancel))
    def check(args: dict[str, Any]) -> None:
        assert set(args) == {"stay"}
        assert isinstance(args["stay"], Stay)

    check()


def test_agent_and_tool_name_give_the_registered_tool() -> None:
    @FAST
    @given(tool_arguments((booking_agent, "book")))
    def check(args: dict[str, Any]) -> None:
        book(**args)

    check()


def test_a_tool_gives_python_values_by_default_and_json_on_request() -> None:
    schema = Tool(book).definition.parameters_json_schema

    @FAST
    @given(tool_arguments(Tool(book)), tool_arguments(Tool(book), mode="json"))
    def check(python: dict[str, Any], sent: dict[str, Any]) -> None:
        book(**python)
        assert isinstance(sent["stay"], dict)
        assert isinstance(sent["arrival"], str)
        json.dumps(sent)
        jsonschema.validate(sent, schema)

    check()


def test_arguments_left_out_keep_the_function_default() -> None:
    seen: set[bool] = set()

    @settings(max_examples=40, deadline=None, database=None)
    @given(tool_arguments(book))
    def check(args: dict[str, Any]) -> None:
        seen.add("guests" in args)

    check()
    assert seen == {True, False}


def test_a_function_on_no_agent_of_its_module_is_described_on_its_own() -> None:
    @FAST
    @given(tool_arguments(unregistered))
    def check(args: dict[str, Any]) -> None:
        assert unregistered(**args) == args["limit"]

    check()


def test_a_function_on_several_agents_says_which_form_to_use() -> None:
    with pytest.raises(UserError, match=r"registered on 2 agents") as raised:
        tool_arguments(shared)
    message = str(raised.value)
    assert "tool_arguments((booking_agent, 'shared'))" in message
    assert "tool_arguments((other_agent, 'shared'))" in message


def test_an_unknown_tool_name_lists_the_agent_tools() -> None:
    with pytest.raises(UserError, match=r"the agent has no such tool; it has 'book', 'cancel', 'shared'"):
        tool_arguments((booking_agent, "boook"))


def test_python_values_need_a_function_and_valid_arguments() -> None:
    definition = Tool(book).definition
    with pytest.raises(UserError, match="a ToolDefinition has no function to call; use mode='json'"):
        tool_arguments(definition, mode="python")
    with pytest.raises(UserError, match="invalid arguments exist only as JSON"):
        tool_arguments(book, valid=False, mode="python")


def test_invalid_arguments_of_a_decorated_function_come_as_json() -> None:
    @FAST
    @given(tool_arguments(book, valid=False))
    def check(args: dict[str, Any]) -> None:
        json.dumps(args)
        with pytest.raises(pydantic.ValidationError):
            Tool(book).schema.validate(args)

    check()


# --- falsifying examples a user can paste ---------------------------------------------------------


def falsifying_text(test: Any, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(AssertionError) as raised:
        test()
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    return notes + capsys.readouterr().out


def test_a_failing_script_prints_as_model_responses_not_private_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    definition = Tool(book).definition

    @settings(max_examples=50, deadline=None, database=None)
    @given(model_responses([definition], kinds=("tool_call",), min_size=1))
    def scripts_are_short(script: list[ModelResponse]) -> None:
        assert not script

    text = falsifying_text(scripts_are_short, capsys)
    assert "script=[ModelResponse(parts=[ToolCallPart(tool_name='book'" in text
    assert "_build_responses" not in text
    assert "<lambda>" not in text


def test_failing_python_arguments_print_as_values(capsys: pytest.CaptureFixture[str]) -> None:
    @settings(max_examples=50, deadline=None, database=None)
    @given(tool_arguments(book))
    def stays_are_short(args: dict[str, Any]) -> None:
        assert args["stay"].nights < 2

    text = falsifying_text(stays_are_short, capsys)
    assert "Stay(city=" in text
    assert "datetime.date(" in text
    assert "as_python" not in text
    assert "<lambda>" not in text


# --- scripted runs and probes -----------------------------------------------------------------------


def test_a_scripted_run_checks_itself_with_the_agent_budgets() -> None:
    @FAST
    @given(model_responses([Tool(book).definition], max_size=3))
    def check(script: list[ModelResponse]) -> None:
        run = anyio.run(lambda: run_scripted(booking_agent, script))
        assert run.retry_budgets == {"book": 1, "cancel": 1, "shared": 1}
        run.check()

    check()


def test_a_run_not_made_by_run_scripted_asks_for_budgets() -> None:
    run = ScriptedRun(script=[], nodes=[], new_messages=[], requests=0, result=None, error=None)
    with pytest.raises(UserError, match=r"pass them: check\(retry_budgets="):
        run.check()


@dataclasses.dataclass
class Traveller:
    name: str


def test_probing_an_agent_whose_prompt_needs_deps_says_to_pass_them() -> None:
    agent = Agent(TestModel(), name="concierge", deps_type=Traveller)

    @agent.system_prompt
    def greet(ctx: RunContext[Traveller]) -> str:
        return f"The traveller is {ctx.deps.name}."

    with pytest.raises(UserError) as raised:
        anyio.run(lambda: probe_agent_info(agent))
    message = str(raised.value)
    assert "probing agent 'concierge' without deps: AttributeError" in message
    assert "in greet (test_tool_arguments_forms.py:" in message
    assert "takes deps of type Traveller" in message
    assert "pass deps=... to probe_agent_info" in message
    info = anyio.run(lambda: probe_agent_info(agent, deps=Traveller("Ann")))
    assert info.allow_text_result
