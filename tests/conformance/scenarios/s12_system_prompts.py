"""Static and dynamic system prompts; dynamic=True prompts are re-evaluated with message_history."""

from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel(custom_result_text='ok'), system_prompt=('first', 'second'), deps_type=str)
counter = [0]


@agent.system_prompt
def plain(ctx: RunContext[str]) -> str:
    return f'user is {ctx.deps}'


@agent.system_prompt(dynamic=True)
def dynamic() -> str:
    counter[0] += 1
    return f'call {counter[0]}'


first = agent.run_sync('hi', deps='ann')
print(first.all_messages()[0])
second = agent.run_sync('again', deps='bob', message_history=first.all_messages())
print(second.all_messages()[0])
print(second.all_messages()[2])
