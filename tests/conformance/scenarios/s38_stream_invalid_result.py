"""run_stream with a structured result whose streamed arguments do not validate: the ValidationError is raised.

(One chunk: the reference release also raises on partial chunks that lack required fields, which agentkit
tolerates until the answer is complete.)"""

import asyncio

import pydantic
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel


class City(BaseModel):
    name: str
    population: int


async def stream(messages, info: AgentInfo):
    yield {0: DeltaToolCall(name='final_result', json_args='{"name": "Paris", "population": "lots"}')}


agent = Agent(FunctionModel(stream_function=stream), result_type=City)


async def main():
    for how in ('get_data', 'stream'):
        try:
            async with agent.run_stream('hi') as result:
                if how == 'get_data':
                    print(await result.get_data())
                else:
                    async for city in result.stream(debounce_by=None):
                        print('partial', city)
        except pydantic.ValidationError as error:
            print(how, 'raised', error.errors(include_url=False))


asyncio.run(main())
