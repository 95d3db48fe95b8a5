"""Model settings merged: agent defaults, then run settings; seen by the model."""

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.settings import ModelSettings


def echo(messages, info: AgentInfo):
    return ModelResponse(parts=[TextPart(repr(sorted((info.model_settings or {}).items())))])


agent = Agent(FunctionModel(echo), model_settings=ModelSettings(temperature=0.2, max_tokens=10))
print(agent.run_sync('a').data)
print(agent.run_sync('a', model_settings={'temperature': 0.9, 'top_p': 0.5}).data)
print(Agent(FunctionModel(echo)).run_sync('a').data)
