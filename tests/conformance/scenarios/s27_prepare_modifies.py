"""A prepare function that edits the tool definition per run (tools docs)."""

from typing import Literal

from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import Tool, ToolDefinition


def greet(name: str) -> str:
    return f'hello {name}'


async def prepare_greet(ctx: RunContext[Literal['human', 'machine']], tool_def: ToolDefinition) -> ToolDefinition | None:
    d = f'Name of the {ctx.deps} to greet.'
    tool_def.parameters_json_schema['properties']['name']['description'] = d
    return tool_def


greet_tool = Tool(greet, prepare=prepare_greet)
test_model = FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart(str(info.function_tools))]))
agent = Agent(test_model, tools=[greet_tool], deps_type=Literal['human', 'machine'])
print(agent.run_sync('testing...', deps='human').data)
print(agent.run_sync('testing...', deps='machine').data)
