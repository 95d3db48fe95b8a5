"""run_stream with a structured result: partial results and the final one."""

import asyncio

from typing_extensions import TypedDict

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel


class Person(TypedDict, total=False):
    name: str
    age: int


async def stream(messages: list[ModelMessage], info: AgentInfo):
    assert info.result_tools
    name = info.result_tools[0].name
    for chunk in ['{"na', 'me": "Ann', 'a", "ag', 'e": 4', '2}']:
        yield {0: DeltaToolCall(name=name if chunk.startswith('{"na') else None, json_args=chunk)}


agent = Agent(FunctionModel(stream_function=stream), result_type=Person)


async def main():
    async with agent.run_stream('go') as result:
        async for person in result.stream():
            print(person)
    async with agent.run_stream('go') as result:
        async for message, last in result.stream_structured(debounce_by=None):
            print(message, last)
            print(await result.validate_structured_result(message, allow_partial=not last))
    print(result.usage())
    print(result.all_messages())


asyncio.run(main())
