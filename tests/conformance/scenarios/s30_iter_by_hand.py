"""Driving a run by hand: agent_run.next(node), next_node, ctx, repr, and the result when done."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel(custom_result_text='fine'))


@agent.tool_plain
def ping() -> str:
    return 'pong'


async def main():
    async with agent.iter('go') as run:
        node = run.next_node
        print(type(node).__name__)
        while not Agent.is_end_node(node):
            node = await run.next(node)
            print(type(node).__name__)
        print(run.result.data if run.result else None)
        print(run.ctx.state.usage.requests, len(run.ctx.state.message_history))
        print(run.result.usage())
        print(run.usage())


asyncio.run(main())
