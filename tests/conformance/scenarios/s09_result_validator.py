"""result_validator can ask the model to try again; exhausting result retries is an error."""

from pydantic import BaseModel

from pydantic_ai import Agent, ModelRetry, RunContext, UnexpectedModelBehavior
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


class Row(BaseModel):
    n: int


seen = []


def model(messages, info: AgentInfo):
    seen.append(len(messages))
    return ModelResponse(parts=[ToolCallPart(info.result_tools[0].name, {'n': len(seen)})])


agent = Agent(FunctionModel(model), result_type=Row, result_retries=3, deps_type=int)


@agent.result_validator
def check(ctx: RunContext[int], row: Row) -> Row:
    if row.n < ctx.deps:
        raise ModelRetry(f'n must be at least {ctx.deps}')
    return row


result = agent.run_sync('go', deps=3)
print(result.data)
print(result.all_messages())

seen.clear()
try:
    agent.run_sync('go', deps=10)
except UnexpectedModelBehavior as error:
    print(error)


def text_model(messages, info):
    return ModelResponse(parts=[TextPart('not json')])


strict = Agent(FunctionModel(text_model), result_type=Row)
try:
    strict.run_sync('go')
except UnexpectedModelBehavior as error:
    print(error)
    print(repr(error.__cause__))
