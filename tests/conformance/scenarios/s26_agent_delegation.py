"""A tool that runs another agent, sharing usage through `usage=ctx.usage` (multi-agent docs)."""

from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import UsageLimits

joke_selection_agent = Agent(TestModel(), system_prompt='Use the `joke_factory` to generate some jokes.')
joke_generation_agent = Agent(TestModel(custom_result_args=['a joke', 'another']), result_type=list[str])


@joke_selection_agent.tool
async def joke_factory(ctx: RunContext[None], count: int) -> list[str]:
    r = await joke_generation_agent.run(f'Please generate {count} jokes.', usage=ctx.usage)
    return r.data


result = joke_selection_agent.run_sync('Tell me a joke.', usage_limits=UsageLimits(request_limit=5, total_tokens_limit=500))
print(result.data)
print(result.usage())
print(result.all_messages()[-2])
