"""Result types that are not objects, TypedDicts and dataclasses: the result tool's schema and the data."""

from dataclasses import dataclass

from typing_extensions import TypedDict

from pydantic_ai import Agent
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel


class Box(TypedDict):
    width: int
    height: int


@dataclass
class Point:
    x: float
    y: float


def show(messages, info: AgentInfo):
    from pydantic_ai.messages import ModelResponse, ToolCallPart

    tool = info.result_tools[0]
    print(tool)
    key = tool.outer_typed_dict_key
    args = {key: [1, 2]} if key else {'width': 1, 'height': 2}
    return ModelResponse(parts=[ToolCallPart(tool.name, args)])


print(repr(Agent(FunctionModel(show), result_type=list[int]).run_sync('x').data))
print(repr(Agent(FunctionModel(show), result_type=Box).run_sync('x').data))
for result_type in [Point, bool, float, tuple[int, str], dict[str, int]]:
    print(result_type, repr(Agent(TestModel(), result_type=result_type).run_sync('x').data))
