"""message_history continues a conversation; new_messages and all_messages; JSON round trip."""

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessagesTypeAdapter
from pydantic_ai.models.test import TestModel

agent = Agent(TestModel(custom_result_text='answer'), system_prompt='Be a helpful assistant.')
first = agent.run_sync('Tell me a joke.')
second = agent.run_sync('Explain?', message_history=first.new_messages())
print(second.all_messages())
print(second.new_messages())
print(len(first.all_messages()), len(second.all_messages()), len(second.new_messages()))
data = second.all_messages_json()
print(type(data).__name__)
back = ModelMessagesTypeAdapter.validate_json(data)
print(back == second.all_messages())
print(first.new_messages_json()[:40])
