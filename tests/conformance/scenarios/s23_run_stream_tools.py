"""run_stream with tool calls first, then streamed text; usage counts every request."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel())


@agent.tool_plain
def fetch(item: str) -> dict:
    return {'item': item, 'count': 2}


async def main():
    async with agent.run_stream('go') as result:
        chunks = [c async for c in result.stream_text(delta=True)]
    print(chunks)
    print(result.usage())
    print(result.all_messages())
    print(await result.get_data())


asyncio.run(main())
