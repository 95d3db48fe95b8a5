"""A support agent written for pydantic-ai 0.0.39, ported to agentkit by changing its import lines only.

It has a structured result, a context tool and a plain tool, a dynamic system prompt, a result
validator and `end_strategy='exhaustive'`; it is run three ways (run_sync on a FunctionModel that
plays the model, `iter` with node event streams told apart by the `Agent.is_*_node` guards, and
`run_stream` on TestModel). Run it with `python examples/seed_port_agent.py`: no key, no network.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import BaseModel

from agentkit import Agent, ModelRetry, RunContext
from agentkit.messages import (
    FinalResultEvent,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    ModelMessage,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    ToolCallPart,
)
from agentkit.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from agentkit.models.test import TestModel


@dataclass
class SupportDeps:
    customer_id: int
    customer_name: str


class SupportResult(BaseModel):
    """Advice for the customer, and whether to block their card."""

    support_advice: str
    block_card: bool
    risk: int


support_agent = Agent(
    "openai:gpt-4o",
    deps_type=SupportDeps,
    result_type=SupportResult,
    end_strategy="exhaustive",
    defer_model_check=True,
    system_prompt="You are a support agent in our bank.",
)


@support_agent.system_prompt(dynamic=True)
def customer_name(ctx: RunContext[SupportDeps]) -> str:
    return f"The customer's name is {ctx.deps.customer_name!r}"


audit_log = []


@support_agent.tool
async def customer_balance(ctx: RunContext[SupportDeps], include_pending: bool) -> float:
    """Return the customer's current account balance."""
    return 123.45 if include_pending else 100.0


@support_agent.tool_plain
def record_audit(note: str) -> str:
    """Write a note to the audit log."""
    audit_log.append(note)
    return "noted"


@support_agent.result_validator
def risk_in_range(result: SupportResult) -> SupportResult:
    if not 0 <= result.risk <= 10:
        raise ModelRetry("risk must be between 0 and 10")
    return result


def bank_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Plays the model: asks for the balance, then answers while logging (exhaustive runs the log tool)."""
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart("customer_balance", {"include_pending": True})])
    result_tool = info.result_tools[0].name
    return ModelResponse(
        parts=[
            TextPart("Here is my answer."),
            ToolCallPart(result_tool, {"support_advice": "Your balance is $123.45.", "block_card": False, "risk": 1}),
            ToolCallPart("record_audit", {"note": "balance shown"}),
        ]
    )


async def bank_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
    """The same answers as `bank_model`, streamed in pieces."""
    if len(messages) == 1:
        yield {0: DeltaToolCall("customer_balance", '{"include_pending": ')}
        yield {0: DeltaToolCall(json_args="true}")}
        return
    yield "Here is my answer."
    yield {1: DeltaToolCall(info.result_tools[0].name, '{"support_advice": "Your balance is $123.45.", ')}
    yield {1: DeltaToolCall(json_args='"block_card": false, "risk": 1}')}
    yield {2: DeltaToolCall("record_audit", '{"note": "balance shown"}')}


async def stream_nodes(deps: SupportDeps) -> None:
    async with support_agent.iter("What is my balance?", deps=deps) as run:
        async for node in run:
            if support_agent.is_model_request_node(node):
                async with node.stream(run.ctx) as request_stream:
                    kinds = []
                    async for event in request_stream:
                        if isinstance(event, PartStartEvent):
                            kinds.append(f"start:{event.part.part_kind}")
                        elif isinstance(event, PartDeltaEvent):
                            kinds.append("delta")
                        elif isinstance(event, FinalResultEvent):
                            kinds.append(f"final:{event.tool_name}")
                    print("request events:", " ".join(kinds))
            elif support_agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as handle_stream:
                    async for event in handle_stream:
                        if isinstance(event, FunctionToolCallEvent):
                            print("tool call:", event.part.tool_name, event.part.args)
                        elif isinstance(event, FunctionToolResultEvent):
                            print("tool result:", event.result.tool_name, event.result.content)
            elif support_agent.is_end_node(node):
                print("end:", node.data.data.support_advice)


async def main() -> None:
    deps = SupportDeps(customer_id=123, customer_name="John")
    with support_agent.override(model=FunctionModel(bank_model, stream_function=bank_stream)):
        result = await support_agent.run("What is my balance?", deps=deps)
        print(result.data)
        print("audit log:", audit_log)
        print("last request:", [part.content for part in result.all_messages()[-1].parts])

        await stream_nodes(deps)

    with support_agent.override(model=TestModel()):
        async with support_agent.run_stream("Block my card", deps=deps) as streamed:
            print("streamed:", await streamed.get_data())
            print("requests:", streamed.usage().requests)


if __name__ == "__main__":
    asyncio.run(main())
