"""Usage limits and usage counting in streamed runs."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import UsageLimits

agent = Agent(TestModel(custom_result_text='one two three four five six seven eight'))


async def main():
    async with agent.run_stream('go') as result:
        print(result.usage())
        async for text in result.stream_text(delta=True):
            print(repr(text), result.usage().response_tokens)
    print(result.usage())
    try:
        async with agent.run_stream('go', usage_limits=UsageLimits(response_tokens_limit=3)) as result:
            async for text in result.stream_text(delta=True):
                print(repr(text))
    except UsageLimitExceeded as error:
        print(error)
    async with agent.run_stream('go') as result:
        print(await result.get_data())
    print(result.timestamp() is not None)


asyncio.run(main())
