"""A streamed text read again after the end, a run driven by hand with a node replaced, and the reprs."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.agent import CallToolsNode
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel


async def words(messages, info):
    for word in ['The ', 'answer ', 'is ', '42']:
        yield word


async def main():
    agent = Agent(FunctionModel(stream_function=words))
    async with agent.run_stream('go') as result:
        structured = result.stream_structured(debounce_by=None)
        first, _ = await structured.__anext__()
        await structured.aclose()
        print(first.parts)
        print([text async for text in result.stream_text(delta=True, debounce_by=None)])
        print([text async for text in result.stream_text(delta=True, debounce_by=None)])
        print([text async for text in result.stream_text(debounce_by=None)])
    async with agent.run_stream('go') as result:
        print(await result.get_data())
        print([text async for text in result.stream_text()])

    tool_agent = Agent(TestModel(), deps_type=int)

    @tool_agent.tool_plain
    def double(x: int) -> int:
        return 2 * x

    async with tool_agent.iter('hi', deps=3) as run:
        print(run)
        print(run.ctx.state)
        node = await run.next(run.next_node)
        node = await run.next(node)
        print(type(node).__name__)
        node = await run.next(CallToolsNode(model_response=ModelResponse(parts=[TextPart('replaced')])))
        print(node)
        print(run)
        print(run.result)
        print(run.ctx.state.retries, run.ctx.state.run_step, run.ctx.state.usage)
        print([message.kind for message in run.ctx.state.message_history])
    return tool_agent


tool_agent = asyncio.run(main())
print(tool_agent.run_sync('again', deps=1))
