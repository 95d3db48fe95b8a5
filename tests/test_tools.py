"""Tools: schemas from signatures and docstrings, validation, retries, concurrency, order."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pydantic
import pytest

from agentkit import (
    Agent,
    ModelRequest,
    ModelResponse,
    ModelRetry,
    RetryPromptPart,
    RunContext,
    TextPart,
    Tool,
    ToolCallPart,
    ToolReturnPart,
    UnexpectedModelBehavior,
    UserError,
    capture_run_messages,
)
from agentkit.models import AgentInfo, FunctionModel, TestModel

pytestmark = pytest.mark.anyio


def google_style(city: str, days: int = 1) -> str:
    """Get the forecast.

    Args:
        city: The city name.
        days: How many days ahead.
    """
    return f"{city}:{days}"


def numpy_style(city: str, days: int = 1) -> str:
    """Get the forecast.

    Parameters
    ----------
    city : str
        The city name.
    days : int
        How many days ahead.
    """
    return f"{city}:{days}"


def sphinx_style(city: str, days: int = 1) -> str:
    """Get the forecast.

    :param city: The city name.
    :param days: How many days ahead.
    """
    return f"{city}:{days}"


@pytest.mark.parametrize("function", [google_style, numpy_style, sphinx_style])
def test_schema_from_signature_and_docstring(function: Any) -> None:
    definition = Tool(function).definition
    assert definition.name == function.__name__
    assert definition.description == "Get the forecast."
    # As the reference release: property titles kept, no `default` (the function's own applies).
    assert definition.parameters_json_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "title": "City", "description": "The city name."},
            "days": {"type": "integer", "title": "Days", "description": "How many days ahead."},
        },
        "required": ["city"],
        "additionalProperties": False,
    }


def test_tool_name_and_description_overrides() -> None:
    tool = Tool(google_style, name="forecast", description="Weather ahead")
    assert (tool.definition.name, tool.definition.description) == ("forecast", "Weather ahead")


def test_annotated_field_constraints_reach_the_schema() -> None:
    def pick(n: Annotated[int, pydantic.Field(ge=1, le=5)]) -> int:
        return n

    assert Tool(pick).definition.parameters_json_schema["properties"]["n"] == {
        "type": "integer",
        "title": "N",
        "minimum": 1,
        "maximum": 5,
    }


def test_var_args_become_a_required_array_property() -> None:
    def total(*values: int) -> int:
        return sum(values)

    assert Tool(total).definition.parameters_json_schema["properties"]["values"] == {
        "items": {"type": "integer"},
        "title": "Values",
        "type": "array",
    }


class Opaque:
    pass


def test_unschemable_type_names_the_tool_and_parameter() -> None:
    def bad(ok: int, thing: Opaque) -> None:
        return None

    with pytest.raises(
        UserError,
        match=r"Error generating schema for .*bad:\n  parameter 'thing' has a type that cannot be turned into a JSON",
    ):
        Tool(bad)


def test_unresolvable_annotation_names_the_tool() -> None:
    def bad(x: Missing) -> None:  # type: ignore[name-defined] # noqa: F821
        return None

    with pytest.raises(
        UserError, match=r"Error generating schema for .*bad:\n  parameter 'x': cannot resolve a type annotation"
    ):
        Tool(bad)


def test_tool_with_context_must_annotate_it_first() -> None:
    agent = Agent(TestModel())
    with pytest.raises(
        UserError, match=r"First parameter of tools that take context must be annotated with RunContext\[\.\.\.\]"
    ):

        @agent.tool
        def no_ctx(x: int) -> int:
            return x


def test_tool_plain_refuses_a_context_tool() -> None:
    agent = Agent(TestModel())
    with pytest.raises(UserError, match="register it with `tool`"):

        @agent.tool_plain
        def with_ctx(ctx: RunContext[None], x: int) -> int:
            return x


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(UserError, match="conflicts with existing tool: 'google_style'"):
        Agent(TestModel(), tools=[google_style, Tool(google_style)])


def test_require_parameter_descriptions() -> None:
    def undocumented(x: int) -> int:
        return x

    with pytest.raises(
        UserError, match=r"Error generating schema for .*undocumented:\n  Missing parameter descriptions for x"
    ):
        Tool(undocumented, require_parameter_descriptions=True)


def scripted(*responses: ModelResponse) -> FunctionModel:
    queue = list(responses)

    def play(messages: list[Any], info: AgentInfo) -> ModelResponse:
        return queue.pop(0)

    return FunctionModel(play)


def tool_parts(messages: list[Any]) -> list[Any]:
    return [
        part for m in messages if isinstance(m, ModelRequest) for part in m.parts if part.part_kind != "user-prompt"
    ]


async def test_tools_from_tools_argument_and_decorators_receive_context() -> None:
    agent = Agent(TestModel(), tools=[google_style], deps_type=str)

    @agent.tool
    async def whoami(ctx: RunContext[str]) -> str:
        return f"{ctx.deps}/{ctx.tool_name}/{ctx.run_step}"

    result = await agent.run("go", deps="alice")
    returns = {p.tool_name: p.content for p in tool_parts(result.all_messages()) if isinstance(p, ToolReturnPart)}
    assert returns == {"google_style": "a:1", "whoami": "alice/whoami/1"}


async def test_invalid_arguments_go_back_as_retry_then_succeed() -> None:
    agent = Agent(
        scripted(
            ModelResponse(parts=[ToolCallPart("google_style", '{"city": 3}', "c1")]),
            ModelResponse(parts=[ToolCallPart("google_style", '{"city": "Oslo"}', "c2")]),
            ModelResponse(parts=[TextPart("done")]),
        ),
        tools=[google_style],
    )
    result = await agent.run("go")
    retry, returned = tool_parts(result.all_messages())
    assert isinstance(retry, RetryPromptPart)
    assert retry.tool_call_id == "c1"
    assert isinstance(retry.content, list)
    assert retry.content[0]["loc"] == ("city",)
    assert isinstance(returned, ToolReturnPart)
    assert returned.content == "Oslo:1"


async def test_malformed_json_arguments_become_a_retry_not_a_crash() -> None:
    agent = Agent(
        scripted(
            ModelResponse(parts=[ToolCallPart("google_style", '{"city": "Os', "c1")]),
            ModelResponse(parts=[TextPart("gave up")]),
        ),
        tools=[google_style],
    )
    result = await agent.run("go")
    (retry,) = tool_parts(result.all_messages())
    assert isinstance(retry, RetryPromptPart)
    assert retry.content[0]["type"] == "json_invalid"  # type: ignore[index]
    assert result.data == "gave up"


async def test_model_retry_from_a_tool_becomes_a_retry_prompt() -> None:
    calls = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ModelRetry("try a bigger number")
        return x

    agent = Agent(TestModel(), tools=[flaky])
    result = await agent.run("go")
    retry = next(p for p in tool_parts(result.all_messages()) if isinstance(p, RetryPromptPart))
    assert retry.content == "try a bigger number"
    assert retry.tool_name == "flaky"
    assert "Fix the errors and try again." in retry.model_response()


async def test_retry_budget_exhausted_names_the_tool_and_reason() -> None:
    def always_fails(x: int) -> int:
        raise ModelRetry("never good enough")

    agent = Agent(TestModel(), tools=[always_fails], retries=2)
    with pytest.raises(UnexpectedModelBehavior, match=r"^Tool exceeded max retries count of 2\n") as info:
        await agent.run("go")
    # the reference release's text, with a note naming the tool and the reason, and the cause chained
    assert any("tool 'always_fails'" in note and "never good" in note for note in info.value.__notes__)
    assert isinstance(info.value.__cause__, ModelRetry)


async def test_per_tool_max_retries_overrides_agent_retries() -> None:
    def always_fails(x: int) -> int:
        raise ModelRetry("no")

    agent = Agent(TestModel(), tools=[Tool(always_fails, max_retries=0)], retries=5)
    with pytest.raises(UnexpectedModelBehavior, match="max retries count of 0"):
        await agent.run("go")


async def test_unknown_tool_name_is_retried_then_fails_clearly() -> None:
    agent = Agent(
        scripted(
            ModelResponse(parts=[ToolCallPart("nope", "{}", "c1")]),
            ModelResponse(parts=[ToolCallPart("nope", "{}", "c2")]),
        ),
        tools=[google_style],
    )
    with (
        capture_run_messages() as messages,
        pytest.raises(UnexpectedModelBehavior, match=r"^Exceeded maximum retries \(1\) for result validation$"),
    ):
        await agent.run("go")
    retry = messages[2].parts[0]  # type: ignore[union-attr]
    assert retry == RetryPromptPart(
        "Unknown tool name: 'nope'. Available tools: google_style",
        timestamp=retry.timestamp,  # type: ignore[union-attr]
    )


async def test_a_tool_that_raises_propagates_with_a_note_naming_it() -> None:
    def broken(x: int) -> int:
        raise LookupError("database down")

    agent = Agent(TestModel(), tools=[broken])
    with pytest.raises(LookupError, match="database down") as info:
        await agent.run("go")
    assert any("raised by tool 'broken'" in note for note in info.value.__notes__)


async def test_tool_calls_run_concurrently_and_keep_call_order() -> None:
    order: list[str] = []
    both_started = anyio.Event()
    started = 0

    async def slow(tag: str) -> str:
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        with anyio.fail_after(2):
            await both_started.wait()  # deadlocks unless both calls run at once
        if tag == "first":
            await anyio.sleep(0.01)
        order.append(tag)
        return tag

    agent = Agent(
        scripted(
            ModelResponse(
                parts=[ToolCallPart("slow", {"tag": "first"}, "a"), ToolCallPart("slow", {"tag": "second"}, "b")]
            ),
            ModelResponse(parts=[TextPart("done")]),
        ),
        tools=[slow],
    )
    result = await agent.run("go")
    assert order == ["second", "first"]
    returns = [p.tool_call_id for p in tool_parts(result.all_messages())]
    assert returns == ["a", "b"]


async def test_prepare_can_hide_a_tool_per_step() -> None:
    async def only_first_step(ctx: RunContext[None], definition: Any) -> Any:
        return definition if ctx.run_step == 1 else None

    offered: list[list[str]] = []

    def model_function(messages: list[Any], info: AgentInfo) -> ModelResponse:
        offered.append([tool.name for tool in info.function_tools])
        if len(offered) == 1:
            return ModelResponse(parts=[ToolCallPart("google_style", {"city": "Rome"})])
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(model_function), tools=[Tool(google_style, prepare=only_first_step)])
    await agent.run("go")
    assert offered == [["google_style"], []]


async def test_extra_arguments_are_rejected() -> None:
    agent = Agent(
        scripted(
            ModelResponse(parts=[ToolCallPart("google_style", {"city": "Rome", "bogus": 1})]),
            ModelResponse(parts=[TextPart("done")]),
        ),
        tools=[google_style],
    )
    result = await agent.run("go")
    (retry,) = tool_parts(result.all_messages())
    assert isinstance(retry, RetryPromptPart)
    assert retry.content[0]["type"] == "extra_forbidden"  # type: ignore[index]


async def test_answers_put_unknown_tools_before_tool_returns_as_the_reference_does() -> None:
    agent = Agent(
        scripted(
            ModelResponse(
                parts=[
                    ToolCallPart("google_style", {"city": "Oslo"}, "a"),
                    ToolCallPart("nope", {}, "b"),
                    ToolCallPart("google_style", {"city": "Rome"}, "c"),
                ]
            ),
            ModelResponse(parts=[TextPart("done")]),
        ),
        tools=[google_style],
    )
    result = await agent.run("go")
    answers = result.all_messages()[2].parts
    # calls answered without running (here the unknown one) first, then the tool returns in call order
    assert [(type(p).__name__, p.tool_call_id) for p in answers] == [  # type: ignore[union-attr]
        ("RetryPromptPart", None),
        ("ToolReturnPart", "a"),
        ("ToolReturnPart", "c"),
    ]
