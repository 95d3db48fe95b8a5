"""Tool schemas and calls as the reference release makes them: *args/**kwargs, positional-only
parameters, an unannotated context, a single model parameter, `prepare_tool_def`, retries."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from typing import Annotated, Any

import docstring_parser
import pydantic
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from agentkit import Agent, ModelResponse, RunContext, TextPart, Tool, ToolCallPart, ToolReturnPart, UserError
from agentkit.models import AgentInfo, FunctionModel, TestModel
from agentkit.tools import ToolDefinition

pytestmark = pytest.mark.anyio


def call_once(tool_name: str, args: dict[str, Any]) -> FunctionModel:
    """A model that calls `tool_name` with `args`, then answers with what the tool returned."""

    def decide(messages: list[Any], info: AgentInfo) -> ModelResponse:
        returns = [p for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]
        if returns:
            return ModelResponse(parts=[TextPart(str(returns[-1].content))])
        return ModelResponse(parts=[ToolCallPart(tool_name, args)])

    return FunctionModel(decide)


def test_var_kwargs_allow_additional_properties() -> None:
    def tag(name: str, **labels: str) -> str:
        return name

    schema = Tool(tag).definition.parameters_json_schema
    assert schema["additionalProperties"] is True
    assert schema["required"] == ["name"]


async def test_var_args_and_kwargs_reach_the_function() -> None:
    def combine(first: int, *rest: int, **named: int) -> str:
        return f"{first}|{list(rest)}|{named}"

    agent = Agent(call_once("combine", {"first": 1, "rest": [2, 3], "extra": 4}), tools=[combine])
    assert (await agent.run("go")).data == "1|[2, 3]|{'extra': 4}"


async def test_positional_only_parameters_are_passed_positionally() -> None:
    def divide(a: int, b: int, /, *, scale: int = 1) -> str:
        return str(a // b * scale)

    assert "a" in Tool(divide).definition.parameters_json_schema["properties"]
    agent = Agent(call_once("divide", {"a": 9, "b": 3}), tools=[divide])
    assert (await agent.run("go")).data == "3"


async def test_an_unannotated_first_parameter_of_agent_tool_is_the_context() -> None:
    agent = Agent(call_once("who", {"greeting": "hi"}), deps_type=str)

    @agent.tool
    def who(ctx, greeting: str) -> str:  # type: ignore[no-untyped-def]
        return f"{greeting} {ctx.deps}"

    definition = agent._function_tools["who"].definition
    assert list(definition.parameters_json_schema["properties"]) == ["greeting"]
    assert (await agent.run("go", deps="ann")).data == "hi ann"


class Point(pydantic.BaseModel):
    """A point on the plane."""

    x: int
    y: int = 0


def test_a_single_model_parameter_is_the_whole_schema() -> None:
    def plot(point: Point) -> str:
        return "ok"

    definition = Tool(plot).definition
    assert definition.parameters_json_schema == {
        "properties": {"x": {"title": "X", "type": "integer"}, "y": {"default": 0, "title": "Y", "type": "integer"}},
        "required": ["x"],
        "title": "Point",
        "type": "object",
    }
    assert definition.description == "A point on the plane."


def test_a_function_docstring_wins_over_the_single_models_docstring() -> None:
    def plot(point: Point) -> str:
        """Plot it."""
        return "ok"

    definition = Tool(plot).definition
    assert definition.description == "Plot it."
    assert definition.parameters_json_schema["description"] == "A point on the plane."


async def test_a_single_model_parameter_receives_the_model() -> None:
    def plot(point: Point) -> str:
        return repr(point)

    agent = Agent(call_once("plot", {"x": 3}), tools=[plot])
    assert (await agent.run("go")).data == "Point(x=3, y=0)"


class Box(TypedDict):
    size: int


@dataclasses.dataclass
class Crate:
    weight: float


async def test_typed_dict_and_dataclass_parameters_are_model_like_too() -> None:
    def pack(box: Box) -> str:
        return str(box)

    def lift(crate: Crate) -> str:
        return str(crate)

    assert Tool(pack).definition.parameters_json_schema["properties"] == {"size": {"title": "Size", "type": "integer"}}
    assert Tool(lift).definition.parameters_json_schema["required"] == ["weight"]
    agent = Agent(call_once("lift", {"weight": 2}), tools=[pack, lift])
    assert (await agent.run("go")).data == "Crate(weight=2.0)"


def test_parameters_with_defaults_carry_no_default_in_the_schema() -> None:
    def search(query: str, limit: int = 10) -> str:
        return query

    properties = Tool(search).definition.parameters_json_schema["properties"]
    assert properties["limit"] == {"title": "Limit", "type": "integer"}


def test_a_docstring_that_starts_with_args_is_parsed() -> None:
    def lookup(key: str) -> str:
        """Args:
        key: what to look up
        """
        return key

    definition = Tool(lookup).definition
    assert definition.parameters_json_schema["properties"]["key"]["description"] == "what to look up"
    assert definition.description == ""


_STYLES = {"auto": "AUTO", "google": "GOOGLE", "numpy": "NUMPYDOC", "sphinx": "REST"}
_HEADERS = ("Args", "Arguments", "Parameters", "Params", "Keyword Args", "Returns", "Raises")


@example(line="0 ", docstring_format="auto")  # trailing space: the parser keeps it (the fast path once stripped it)
@example(line=" 0\u2003", docstring_format="numpy")
@settings(max_examples=300, deadline=None)
@given(
    line=st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), max_size=40),
    docstring_format=st.sampled_from(sorted(_STYLES)),
)
def test_a_one_line_docstring_is_described_as_docstring_parser_reads_it(line: str, docstring_format: Any) -> None:
    # One-line docstrings without a colon skip the parser: what they give must be what it gives.
    def tool(x: int) -> int:
        return x

    tool.__doc__ = line
    text = inspect.getdoc(tool) or ""
    if text.strip() in _HEADERS:
        return  # a bare section header is read as a section, by the parser (tested above)
    parsed = docstring_parser.parse(text, docstring_parser.DocstringStyle[_STYLES[docstring_format]])
    expected = "\n\n".join(part for part in (parsed.short_description, parsed.long_description) if part)
    definition = Tool(tool, docstring_format=docstring_format).definition
    assert definition.description == expected
    assert "description" not in definition.parameters_json_schema["properties"]["x"]


def test_tools_with_one_line_docstrings_are_described_without_the_docstring_parser() -> None:
    code = (
        "import sys\n"
        "from agentkit import Agent\n"
        "from agentkit.models import TestModel\n"
        "agent = Agent(TestModel())\n"
        "@agent.tool_plain\n"
        "def weather(city: str) -> str:\n"
        '    """Weather for a city."""\n'
        "    return 'sunny'\n"
        "print(agent.run_sync('go').data, 'docstring_parser' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ['{"weather":"sunny"}', "False"]


def test_an_annotated_description_is_kept_over_the_docstring() -> None:
    def lookup(key: Annotated[str, pydantic.Field(description="from the annotation")]) -> str:
        """Look up.

        Args:
            key: from the docstring
        """
        return key

    properties = Tool(lookup).definition.parameters_json_schema["properties"]
    assert properties["key"]["description"] == "from the annotation"


def test_require_parameter_descriptions_lists_every_missing_one() -> None:
    def half(a: int, b: int, c: int) -> int:
        """Half documented.

        Args:
            b: the b
        """
        return a

    with pytest.raises(
        UserError, match=r"Missing parameter descriptions for a\n  Missing parameter descriptions for c"
    ):
        Tool(half, require_parameter_descriptions=True)


def test_a_run_context_in_a_plain_tool_is_an_error_with_the_reference_text() -> None:
    def plain(ctx: RunContext[None], x: int) -> int:
        return x

    with pytest.raises(UserError, match="RunContext annotations can only be used with tools that take context"):
        Tool(plain, takes_ctx=False)


def test_a_run_context_after_the_first_parameter_is_an_error() -> None:
    def late(ctx: RunContext[None], x: int, other: RunContext[None]) -> int:
        return x

    with pytest.raises(UserError, match="RunContext annotations can only be used as the first argument"):
        Tool(late, takes_ctx=True)


def test_tool_definitions_have_no_strict_field() -> None:
    definition = ToolDefinition("t", "d", {"type": "object"})
    assert "strict" not in dataclasses.asdict(definition)
    assert definition.strict is None


async def test_prepare_tool_def_can_be_overridden_on_a_subclass() -> None:
    class Renamed(Tool[None]):
        async def prepare_tool_def(self, ctx: RunContext[None]) -> ToolDefinition | None:
            definition = await super().prepare_tool_def(ctx)
            assert definition is not None
            return dataclasses.replace(definition, description=f"step {ctx.run_step}")

    def ping() -> str:
        return "pong"

    model = TestModel()
    await Agent(model, tools=[Renamed(ping)]).run("go")
    assert model.last_model_request_parameters is not None
    assert [t.description for t in model.last_model_request_parameters.function_tools] == ["step 2"]


def test_a_tool_without_max_retries_gets_the_agents_retries() -> None:
    def ping() -> str:
        return "pong"

    tool = Tool(ping)
    agent = Agent(TestModel(), tools=[tool], retries=4)
    assert agent._function_tools["ping"].max_retries == 4
    assert tool.max_retries is None  # the registered copy changes, not the caller's tool
    assert Agent(TestModel(), tools=[Tool(ping, max_retries=2)], retries=4)._function_tools["ping"].max_retries == 2
