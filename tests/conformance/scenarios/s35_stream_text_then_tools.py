"""run_stream: text first, then a tool call in the same response. The text is the result; the tool still runs."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

calls = []


async def stream(messages: list[ModelMessage], info: AgentInfo):
    yield 'Let me check. '
    yield 'One moment.'
    yield {0: DeltaToolCall(name='lookup', json_args='{"q": "x"}')}


agent = Agent(FunctionModel(stream_function=stream))


@agent.tool_plain
def lookup(q: str) -> str:
    calls.append(q)
    return 'found'


async def main():
    async with agent.run_stream('hi') as result:
        print([chunk async for chunk in result.stream_text(delta=True, debounce_by=None)])
    print(calls)
    for message in result.all_messages():
        print(message)
    print(result.usage())
    async with agent.run_stream('again') as result:
        print(repr(await result.get_data()), calls)
    print(len(result.all_messages()), result.usage())


asyncio.run(main())
