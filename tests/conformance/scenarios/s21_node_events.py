"""Streaming the events of each node inside iter: part events, final-result events, tool events."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel(custom_result_text='all good here'))


@agent.tool_plain
def ping(host: str) -> str:
    return f'pong {host}'


async def main():
    async with agent.iter('go') as run:
        async for node in run:
            print(type(node).__name__)
            if Agent.is_model_request_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        print('  ', event)
            elif Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        print('  ', event)
    print(run.result.data)


asyncio.run(main())
