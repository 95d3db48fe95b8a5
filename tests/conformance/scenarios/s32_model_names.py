"""Model names: what `Agent('provider:name')` resolves to, and the errors for unknown ones."""

from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError

for name in ['openai:gpt-4o', 'openai:gpt-4o-mini', 'test']:
    agent = Agent(name)
    print(name, '->', type(agent.model).__name__, agent.model.model_name, agent.model.system)
for name in ['nope:model', 'gpt-4o']:
    try:
        print(name, '->', type(Agent(name).model).__name__)
    except UserError as error:
        print(name, '->', error)
print(Agent('openai:gpt-4o', defer_model_check=True).model)
