"""models.ALLOW_MODEL_REQUESTS = False blocks real models but not the test doubles."""

from pydantic_ai import Agent, models
from pydantic_ai.models.test import TestModel

models.ALLOW_MODEL_REQUESTS = False
agent = Agent('openai:gpt-4o')
try:
    agent.run_sync('hi')
except RuntimeError as error:
    print('RuntimeError', str(error).split(':')[0])
print(Agent(TestModel(custom_result_text='fine')).run_sync('hi').data)
models.ALLOW_MODEL_REQUESTS = True
