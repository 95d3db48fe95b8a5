"""What TestModel's final text looks like for tool returns of many types."""

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel


class Item(BaseModel):
    name: str
    price: float


@dataclass
class Box:
    size: int


agent = Agent(TestModel())


@agent.tool_plain
def model_return() -> Item:
    return Item(name='pen', price=1.5)


@agent.tool_plain
def dataclass_return() -> Box:
    return Box(3)


@agent.tool_plain
def list_return() -> list[int]:
    return [1, 2]


@agent.tool_plain
def none_return() -> None:
    return None


@agent.tool_plain
def date_return() -> date:
    return date(2025, 3, 1)


result = agent.run_sync('go')
print(result.data)
print(result.all_messages()[2])
