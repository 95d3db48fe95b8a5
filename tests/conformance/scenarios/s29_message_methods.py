"""Message helpers: args as dict or JSON, model_response forms of returns and retries, has_content."""

from pydantic import BaseModel

from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)


class Item(BaseModel):
    name: str


call = ToolCallPart('lookup', {'a': 1})
print(call.args_as_dict(), call.args_as_json_str(), call.has_content())
text_call = ToolCallPart('lookup', '{"b": 2}')
print(text_call.args_as_dict(), text_call.args_as_json_str())
print(ToolCallPart('x', {}).has_content(), TextPart('').has_content(), TextPart('a').has_content())
ret = ToolReturnPart('lookup', Item(name='pen'))
print(repr(ret.model_response_str()), ret.model_response_object())
print(repr(ToolReturnPart('lookup', 'plain').model_response_str()), ToolReturnPart('lookup', 'plain').model_response_object())
print(repr(ToolReturnPart('lookup', [1, 2]).model_response_str()), ToolReturnPart('lookup', [1, 2]).model_response_object())
print(repr(RetryPromptPart('fix it').model_response()))
print(repr(RetryPromptPart([{'type': 'missing', 'loc': ('a',), 'msg': 'Field required', 'input': {}}]).model_response()))
print(ModelRequest(parts=[SystemPromptPart('s'), UserPromptPart('u')]).kind, ModelResponse(parts=[TextPart('t')]).kind)
print(SystemPromptPart('s'), TextPart('t'))
print(ModelResponse(parts=[TextPart('t')], model_name='m').model_name)
