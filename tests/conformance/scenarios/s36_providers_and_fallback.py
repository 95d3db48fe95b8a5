"""OpenAIModel with a provider (no request is made), and FallbackModel over FunctionModels."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.exceptions import FallbackExceptionGroup, ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.openai import OpenAIModel
from pydantic_ai.providers.openai import OpenAIProvider

model = OpenAIModel('llama3.2', provider=OpenAIProvider(base_url='http://localhost:11434/v1'))
print(model)
print(model.model_name, model.system, model.base_url)
print(OpenAIModel('gpt-4o', provider=OpenAIProvider(base_url='http://localhost:1/v1'), system_prompt_role='developer'))


def down(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise ModelHTTPError(503, 'primary', {'error': 'overloaded'})


def up(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart('from the backup')], model_name='backup')


fallback = FallbackModel(FunctionModel(down, model_name='primary'), FunctionModel(up, model_name='backup'))
print(fallback.model_name, fallback.system)


async def main():
    result = await Agent(fallback).run('hi')
    print(result.data)
    print(result.all_messages()[-1].model_name)
    try:
        await Agent(FallbackModel(FunctionModel(down, model_name='a'), FunctionModel(down, model_name='b'))).run('hi')
    except FallbackExceptionGroup as group:
        print(group.message, [str(error) for error in group.exceptions])


asyncio.run(main())
