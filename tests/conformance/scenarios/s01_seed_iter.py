"""The seed's `Agent.iter` example, on a FunctionModel that answers 'Paris'."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def paris(messages, info: AgentInfo):
    return ModelResponse(parts=[TextPart('Paris')])


agent = Agent(FunctionModel(paris))


async def main():
    nodes = []
    async with agent.iter('What is the capital of France?') as agent_run:
        async for node in agent_run:
            nodes.append(node)
    print(nodes)
    print(agent_run.result.data)
    print([(Agent.is_model_request_node(n), Agent.is_call_tools_node(n), Agent.is_end_node(n)) for n in nodes])
    print(agent_run.usage())


asyncio.run(main())
