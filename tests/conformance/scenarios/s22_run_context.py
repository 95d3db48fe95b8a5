"""RunContext fields seen by tools, and deps; capture_run_messages; the agent's inferred name."""

from pydantic_ai import Agent, RunContext, capture_run_messages
from pydantic_ai.models.test import TestModel

my_agent = Agent(TestModel(), deps_type=int, model_settings={'temperature': 0.1})


@my_agent.tool
def inspect_ctx(ctx: RunContext[int], x: int) -> str:
    print('deps', ctx.deps)
    print('retry', ctx.retry, 'tool', ctx.tool_name, 'prompt', ctx.prompt)
    print('usage', ctx.usage)
    print('messages', len(ctx.messages))
    print('model', ctx.model.model_name if hasattr(ctx.model, 'model_name') else ctx.model)
    return 'seen'


with capture_run_messages() as messages:
    result = my_agent.run_sync('hello', deps=7)
print(messages == result.all_messages())
print(my_agent.name)
print(repr(my_agent))
