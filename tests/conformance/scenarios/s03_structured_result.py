"""A structured result through the final_result tool, on TestModel."""

from pydantic import BaseModel, Field

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel


class CityInfo(BaseModel):
    """Facts about a city."""

    city: str
    country: str = Field(description='the country')
    population: int
    coastal: bool


agent = Agent(TestModel(), result_type=CityInfo)
result = agent.run_sync('Tell me about London')
print(result.all_messages())
print(repr(result.data))
print(result.usage())

agent_int = Agent(TestModel(), result_type=int)
print(repr(agent_int.run_sync('a number').data))
agent_list = Agent(TestModel(), result_type=list[str])
print(repr(agent_list.run_sync('a list').data))
