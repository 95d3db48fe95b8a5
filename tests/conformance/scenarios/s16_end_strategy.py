"""end_strategy: several result-tool calls and function tools in one response."""

from pydantic import BaseModel

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


class Out(BaseModel):
    value: int


def both(messages, info: AgentInfo):
    name = info.result_tools[0].name
    return ModelResponse(
        parts=[
            ToolCallPart(name, {'value': 1}),
            ToolCallPart(name, {'value': 2}),
            ToolCallPart('side_effect', {'x': 1}),
            ToolCallPart('missing_tool', {}),
        ]
    )


for strategy in ['early', 'exhaustive']:
    calls = []
    agent = Agent(FunctionModel(both), result_type=Out, end_strategy=strategy)

    @agent.tool_plain
    def side_effect(x: int) -> str:
        calls.append(x)
        return 'done'

    result = agent.run_sync('go')
    print(strategy, result.data, calls)
    for message in result.all_messages():
        print(message)
