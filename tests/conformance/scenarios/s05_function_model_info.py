"""FunctionModel: the function sees the messages and an AgentInfo describing tools and result tools."""

from pydantic import BaseModel

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


class Out(BaseModel):
    answer: str


def decide(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    print('tools:', [t.name for t in info.function_tools])
    print('result tools:', [t.name for t in info.result_tools])
    print('allow text:', info.allow_text_result)
    print('settings:', info.model_settings)
    for tool in info.function_tools:
        print(tool)
    for tool in info.result_tools:
        print(tool)
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart('lookup', {'key': 'k'})])
    return ModelResponse(parts=[ToolCallPart('final_result', {'answer': 'yes'})])


agent = Agent(FunctionModel(decide), result_type=Out, model_settings={'temperature': 0.5})


@agent.tool_plain
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


result = agent.run_sync('q')
print(result.data)
print(result.all_messages())
print(result.usage())
