"""ModelRetry from a tool goes back as a RetryPromptPart; exhausting the retries is an error."""

from pydantic_ai import Agent, ModelRetry, UnexpectedModelBehavior, capture_run_messages
from pydantic_ai.models.test import TestModel

calls = []
agent = Agent(TestModel(), retries=2)


@agent.tool_plain
def flaky(n: int) -> str:
    calls.append(n)
    if len(calls) < 2:
        raise ModelRetry('try again please')
    return 'ok'


result = agent.run_sync('go')
print(result.all_messages())

always = Agent(TestModel(), retries=1)


@always.tool_plain(retries=1)
def broken(n: int) -> str:
    raise ModelRetry('never works')


with capture_run_messages() as messages:
    try:
        always.run_sync('go')
    except UnexpectedModelBehavior as error:
        print(type(error).__name__, error)
        print(repr(error.message), repr(error.body))
print(messages)
