"""run_stream with text: stream_text with and without delta, get_data, usage, messages."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel(custom_result_text='The quick brown fox jumps over the lazy dog'))


async def main():
    async with agent.run_stream('go') as result:
        print([text async for text in result.stream_text()])
    print(result.usage())
    async with agent.run_stream('go') as result:
        print([text async for text in result.stream_text(delta=True)])
    async with agent.run_stream('go') as result:
        print(await result.get_data())
        print(result.is_complete)
    print(result.all_messages())
    print(result.new_messages())


asyncio.run(main())
