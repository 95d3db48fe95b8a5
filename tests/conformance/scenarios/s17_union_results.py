"""Union result types: one result tool per member; str in the union allows text."""

from pydantic import BaseModel

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


class Success(BaseModel):
    """A successful lookup."""

    value: int


class Failure(BaseModel):
    reason: str


def pick(messages, info: AgentInfo):
    for tool in info.result_tools:
        print(tool)
    print('allow text:', info.allow_text_result)
    return ModelResponse(parts=[ToolCallPart(info.result_tools[-1].name, {'reason': 'nope'})])


agent = Agent(FunctionModel(pick), result_type=Success | Failure)  # type: ignore[arg-type]
print(repr(agent.run_sync('go').data))


def text(messages, info: AgentInfo):
    print([t.name for t in info.result_tools], info.allow_text_result)
    return ModelResponse(parts=[TextPart('plain')])


with_text = Agent(FunctionModel(text), result_type=str | Success)  # type: ignore[arg-type]
print(repr(with_text.run_sync('go').data))
custom = Agent(FunctionModel(pick), result_type=Failure, result_tool_name='answer', result_tool_description='The answer.')
print(repr(custom.run_sync('go').data))
