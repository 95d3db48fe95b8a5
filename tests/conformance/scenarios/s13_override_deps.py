"""Agent.override swaps the model and the deps inside the block, for tests."""

from dataclasses import dataclass

from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel


@dataclass
class Deps:
    name: str


agent = Agent('openai:gpt-4o', deps_type=Deps)


@agent.system_prompt
def who(ctx: RunContext[Deps]) -> str:
    return f'talking to {ctx.deps.name}'


with agent.override(model=TestModel(custom_result_text='hi'), deps=Deps('test user')):
    result = agent.run_sync('hello', deps=Deps('real user'))
print(result.all_messages()[0])
print(result.data)
print(agent.model)
