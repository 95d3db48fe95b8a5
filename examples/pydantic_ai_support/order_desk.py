"""A small pydantic-ai app: an order desk agent that looks orders up and answers in a fixed shape.

Application code as it would be written for pydantic-ai, nothing test-specific: a module-level
`Agent('openai-chat:gpt-4o')`, two tools, structured output. Its tests (test_order_desk.py) replay
committed cassettes through `agentkit_testing`, with no key and no network.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelRequest, ToolReturnPart
from pydantic_ai.tools import ToolDefinition


class DeskReply(BaseModel):
    """What the desk answers: which order, where it is, and whether a person should follow up."""

    order_id: str
    status: str
    needs_human: bool


ORDERS = {"A-1001": "shipped yesterday", "A-1002": "waiting for stock"}
ESCALATIONS: list[str] = []

desk = Agent(
    "openai-chat:gpt-4o",  # OpenAI's Chat Completions API (`openai:` is its Responses API)
    name="order_desk",
    output_type=DeskReply,
    instructions="You answer questions about orders. Look the order up with order_status, then reply.",
    retries=3,
    model_settings={"temperature": 0.0, "seed": 7, "max_tokens": 80, "timeout": 180},
)


async def until_returned(ctx: RunContext[Any], definition: ToolDefinition) -> ToolDefinition | None:
    """Offer a tool until it has returned once: small models would call it again and again."""
    returned = any(
        isinstance(part, ToolReturnPart) and part.tool_name == definition.name
        for message in ctx.messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    return None if returned else definition


@desk.tool_plain(prepare=until_returned)
def order_status(order_id: str) -> str:
    """The shipping status of an order.

    Args:
        order_id: the order number, like A-1001
    """
    return ORDERS.get(order_id.strip().upper(), f"no order {order_id}")


@desk.tool_plain(prepare=until_returned)
def escalate(order_id: str, reason: str) -> str:
    """Hand an order to a person (a side effect: replay serves its recorded return instead of calling it).

    Args:
        order_id: the order number
        reason: why a person should look at it
    """
    ESCALATIONS.append(order_id)
    return f"ticket opened for {order_id}"
