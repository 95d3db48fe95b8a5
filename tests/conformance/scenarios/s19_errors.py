"""Errors and their texts: no model, unknown model, run_sync misuse, name conflicts, empty responses."""

from pydantic_ai import Agent, UserError
from pydantic_ai.exceptions import AgentRunError, ModelRetry, UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models.function import FunctionModel

print(issubclass(UserError, RuntimeError), issubclass(AgentRunError, RuntimeError))
print(issubclass(UnexpectedModelBehavior, AgentRunError), issubclass(UsageLimitExceeded, AgentRunError))
print(issubclass(ModelRetry, Exception), ModelRetry('x').message)
print(UnexpectedModelBehavior('m', body='b'))

agent = Agent()
try:
    agent.run_sync('hi')
except UserError as error:
    print('no model:', error)
try:
    Agent('nonexistent:model-x')
except UserError as error:
    print('unknown:', error)

dup = Agent('test')


@dup.tool_plain
def same(x: int) -> int:
    return x


try:

    @dup.tool_plain(name='same')
    def other(x: int) -> int:
        return x

except UserError as error:
    print('conflict:', error)


def empty(messages, info):
    return ModelResponse(parts=[])


try:
    Agent(FunctionModel(empty)).run_sync('x')
except UnexpectedModelBehavior as error:
    print('empty:', error)

try:
    FunctionModel()
except TypeError as error:
    print('function model:', error)
