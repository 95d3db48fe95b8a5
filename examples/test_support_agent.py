"""Testing an agent with the agentkit pytest plugin — nothing to import from agentkit_testing.

Run it:            python -m pytest examples/test_support_agent.py
Re-record it:      python -m pytest examples/test_support_agent.py --agentkit-record-mode=rewrite

The agent below is built at module level with `Agent('openai:gpt-4o')`, as application code
would. The test asks for `agentkit_cassette`, so the run is replayed from
`cassettes/examples/test_support_agent/test_support_agent_looks_up_the_order.yaml`: no network,
no API key. Without a cassette (or with a real request while replaying) the test fails and says
how to record. `agent_runs` gives the runs made in the test, for assertions on structure.

About the committed cassette: it was recorded from a real model, but not from OpenAI — from the
local llama.cpp server with SmolLM2-135M that the live tests use (`OPENAI_BASE_URL` pointed at
it). That server echoes the requested model name, hence `gpt-4o` in the file, and a 135M model
answers poorly, hence the test asserts on structure, not wording.
"""

from __future__ import annotations

from agentkit import Agent, ModelRequest, RunContext, ToolDefinition, ToolReturnPart

support = Agent(
    "openai:gpt-4o",
    name="support",
    system_prompt="You are a support assistant. Use order_status to look orders up.",
    retries=3,
    model_settings={"temperature": 0.0, "seed": 7, "max_tokens": 40, "timeout": 180},
)


async def until_answered(ctx: RunContext[None], definition: ToolDefinition) -> ToolDefinition | None:
    """Offer the tool until it has returned once (small models would call it forever)."""
    answered = any(
        isinstance(part, ToolReturnPart) and part.tool_name == definition.name
        for message in ctx.messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    return None if answered else definition


@support.tool_plain(prepare=until_answered)
def order_status(order_id: str) -> str:
    """The shipping status of an order.

    Args:
        order_id: the order number
    """
    return f"order {order_id} left the warehouse yesterday"


def test_support_agent_looks_up_the_order(agentkit_cassette, agent_runs):  # type: ignore[no-untyped-def]
    result = support.run_sync("Where is my order 42?")

    (run,) = agent_runs
    calls = [part for message in run.messages for part in message.parts if part.part_kind == "tool-call"]
    assert [call.tool_name for call in calls] == ["order_status"]
    assert "order_id" in calls[0].args_as_dict()
    assert result.data
    assert len(agentkit_cassette.replayed_runs) + len(agentkit_cassette.recorded_runs) == 1
