"""Tool JSON schemas from signatures and docstrings (google, numpy, sphinx), as the model sees them."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def show(messages, info: AgentInfo):
    for tool in info.function_tools:
        print(tool.name, '|', tool.description, '|', tool.parameters_json_schema)
    return ModelResponse(parts=[TextPart('done')])


agent = Agent(FunctionModel(show))


@agent.tool_plain(docstring_format='google')
def google(a: int, b: str = 'x') -> str:
    """Google style.

    Args:
        a: the a
        b: the b
    """
    return ''


@agent.tool_plain(docstring_format='numpy')
def numpy_style(a: int) -> str:
    """Numpy style.

    Parameters
    ----------
    a : int
        the a
    """
    return ''


@agent.tool_plain(docstring_format='sphinx')
def sphinx(a: int) -> str:
    """Sphinx style.

    :param a: the a
    """
    return ''


@agent.tool
def with_ctx(ctx: RunContext[None], when: Literal['now', 'later'], n: Annotated[int, Field(ge=0, description='count')]) -> str:
    return ''


class Point(BaseModel):
    x: int
    y: int


@agent.tool_plain
def single_model(point: Point) -> str:
    """Takes one model."""
    return ''


@agent.tool_plain
def optional(a: int | None = None, items: list[str] | None = None) -> str:
    return ''


@agent.tool_plain
def no_docs(a, b: int) -> str:
    return ''


agent.run_sync('go')
