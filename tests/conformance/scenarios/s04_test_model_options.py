"""TestModel's options: custom_result_text, custom_result_args, call_tools, seed."""

from pydantic import BaseModel

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

agent = Agent(system_prompt='sys')


@agent.tool_plain
def alpha(x: int) -> str:
    return f'alpha {x}'


@agent.tool_plain
def beta(y: str) -> str:
    return f'beta {y}'


print(agent.run_sync('go', model=TestModel(custom_result_text='done')).all_messages())
print(agent.run_sync('go', model=TestModel(call_tools=['beta'])).all_messages())
print(agent.run_sync('go', model=TestModel(call_tools=[], custom_result_text='none')).data)
print(agent.run_sync('go', model=TestModel(seed=3)).all_messages()[1])


class Answer(BaseModel):
    value: int


structured = Agent(TestModel(custom_result_args={'value': 42}), result_type=Answer)
print(structured.run_sync('go').data)
model = TestModel()
agent.run_sync('go', model=model)
print(model.agent_model_function_tools if hasattr(model, 'agent_model_function_tools') else 'no attribute')
print(model.last_model_request_parameters if hasattr(model, 'last_model_request_parameters') else 'no attribute')
