"""Tool argument validation errors go back to the model as retry prompts (pydantic error details)."""

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def model(messages, info: AgentInfo):
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart('add', {'a': 'one', 'b': 2}), ToolCallPart('add', '{"a": 1')])
    for part in messages[-1].parts:
        print(part)
    return ModelResponse(parts=[TextPart('done')])


agent = Agent(FunctionModel(model), retries=3)


@agent.tool_plain
def add(a: int, b: int) -> int:
    return a + b


print(agent.run_sync('go').data)
