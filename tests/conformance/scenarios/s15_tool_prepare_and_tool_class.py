"""Tool objects, prepare functions and Tool(...) registration via tools=[...]."""

from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition


def greet(name: str) -> str:
    """Say hello."""
    return f'hello {name}'


async def only_for_admins(ctx: RunContext[str], tool_def: ToolDefinition) -> ToolDefinition | None:
    if ctx.deps == 'admin':
        return tool_def
    return None


def add(ctx: RunContext[str], a: int, b: int) -> int:
    return a + b




agent = Agent(TestModel(), deps_type=str, tools=[Tool(greet, prepare=only_for_admins), Tool(add, takes_ctx=True, name='adder', description='Adds.')])
print(agent.run_sync('go', deps='admin').all_messages())
print(agent.run_sync('go', deps='guest').all_messages())
tool = Tool(greet)
print(tool.name, tool.description, tool.takes_ctx, tool.max_retries)
agent2 = Agent(TestModel(), tools=[greet], retries=4)
print(agent2.run_sync('go').data)
