"""Property-based tests of an agent's tool-call flows with `agentkit_testing.strategies`.

Run it:   python examples/testing_strategies.py
Or test:  python -m pytest examples/testing_strategies.py

Three levels, each offline and deterministic:

1. `tool_arguments(tool)` draws argument dicts a tool accepts, derived from its signature
   (`Field(ge=1, le=14)` included); `valid=False` draws ones it must reject.
2. `model_responses(tools, result_tool)` draws scripts of model behaviour: valid and invalid tool
   calls, unknown tools, broken JSON, text, results. `run_scripted` plays one on the agent and
   `ScriptedRun.check` asserts what every run must keep (each call answered by id, requests
   counted, an ending in `End` or a documented error, retry budgets kept).
3. `AgentFlowMachine` runs whole conversations of such scripts as a Hypothesis state machine; a
   failing example is saved as a cassette that `replay_example` re-runs offline.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import anyio
import pydantic
from hypothesis import given, settings
from hypothesis.stateful import run_state_machine_as_test

from agentkit import Agent, ModelResponse, ModelRetry, Tool
from agentkit_testing.strategies import (
    AgentFlowMachine,
    model_responses,
    probe_agent_info,
    run_scripted,
    tool_arguments,
)


class Booking(pydantic.BaseModel):
    """The result the agent must end with."""

    city: str
    nights: int


def find_hotel(city: str, nights: Annotated[int, pydantic.Field(ge=1, le=14)] = 1) -> str:
    """Find a hotel in a city for some nights."""
    if city.strip() == "":
        raise ModelRetry("give a city name")
    return f"Hotel in {city} for {nights} night(s)"


TOOLS = [Tool(find_hotel, max_retries=2)]


def make_agent() -> Agent[None, Booking]:
    return Agent(tools=TOOLS, result_type=Booking, retries=1, system_prompt="Book hotels.")


RESULT_TOOL = anyio.run(lambda: probe_agent_info(make_agent())).result_tools[0]  # `final_result`, for Booking


@settings(max_examples=50, deadline=None)
@given(tool_arguments(TOOLS[0]))
def test_the_tool_only_ever_asks_for_a_retry(args: dict[str, Any]) -> None:
    assert 1 <= args.get("nights", 1) <= 14
    with contextlib.suppress(ModelRetry):  # a blank city asks the model again: fine; anything else is a bug
        find_hotel(**args)


@settings(max_examples=50, deadline=None)
@given(model_responses(TOOLS, RESULT_TOOL))
def test_every_scripted_run_ends_cleanly(script: list[ModelResponse]) -> None:
    run = anyio.run(lambda: run_scripted(make_agent(), script))
    run.check(retry_budgets={"find_hotel": 2})


class BookingFlows(AgentFlowMachine):
    """Conversations with the booking agent: new ones, and follow-ups on the last one."""

    tools = TOOLS
    max_responses = 4
    failing_example_cassette = "booking_failure.yaml"  # written only if an example fails

    def make_agent(self) -> Agent[None, Booking]:
        return make_agent()


TestBookingFlows = BookingFlows.TestCase
TestBookingFlows.settings = settings(max_examples=20, stateful_step_count=3, deadline=None)


def main() -> None:
    test_the_tool_only_ever_asks_for_a_retry()
    print("tool_arguments: 50 valid argument dicts, the tool never crashed")
    test_every_scripted_run_ends_cleanly()
    print("model_responses: 50 scripted runs, every one ended in End or a documented error")
    run_state_machine_as_test(BookingFlows, settings=TestBookingFlows.settings)
    print("AgentFlowMachine: 20 conversations of up to 3 runs, all invariants kept")


if __name__ == "__main__":
    main()
