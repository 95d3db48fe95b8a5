"""RunContext.prompt holds the prompt as given (multimodal too); replace_with changes retry and tool_name."""

from pydantic_ai import Agent, ImageUrl, RunContext
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel())


@agent.system_prompt
def describe(ctx: RunContext[None]) -> str:
    print('system prompt sees', ctx.prompt)
    return 'Be brief.'


@agent.tool
def look(ctx: RunContext[None]) -> str:
    print('tool sees', ctx.prompt, ctx.tool_name, ctx.retry)
    changed = ctx.replace_with(retry=2)
    print(changed.retry, changed.tool_name, ctx.replace_with(tool_name=None).tool_name)
    return 'ok'


print(agent.run_sync(['What is in this picture?', ImageUrl('https://example.com/cat.png')]).data)
print(agent.run_sync('plain words').data)
