"""Hypothesis strategies for property tests of agents: tool arguments, scripted model behaviour, whole flows.

`tool_arguments` (in `_tool_arguments`) draws arguments for a tool; `model_responses` draws scripts
of model behaviour for a `ScriptedModel` (in `_scripted`) to play; `AgentFlowMachine` runs an agent
on drawn scripts and checks every run with `ScriptedRun.check`.
"""

from __future__ import annotations

import contextlib
import json
import os
import typing
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, Literal, TypeAlias, TypeVar

import anyio
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agentkit import (
    Agent,
    ModelMessage,
    ModelResponse,
    TextPart,
    Tool,
    ToolCallPart,
    ToolDefinition,
    UsageLimits,
    UserError,
)
from agentkit_testing._cassette._file import Cassette
from agentkit_testing._hypothesis._json_schema_strategy import from_json_schema
from agentkit_testing._hypothesis._scripted import SCRIPT_TIME, ScriptedRun, probe_agent_info, run_scripted
from agentkit_testing._hypothesis._tool_arguments import signature_arguments, tool_arguments
from agentkit_testing._hypothesis._tool_resolution import resolve_tool

__all__ = (
    "ALL_KINDS",
    "AgentFlowMachine",
    "ResponseKind",
    "Script",
    "model_responses",
    "response_scripts",
    "signature_arguments",
    "tool_arguments",
)
# `signature_arguments` and `tool_arguments` live in `_tool_arguments`; re-exported for existing imports.

ResponseKind: TypeAlias = Literal[
    "tool_call", "invalid_tool_call", "unknown_tool", "malformed_args", "text", "result", "invalid_result", "empty"
]
"""What a scripted response part does: see `model_responses`."""

ALL_KINDS: tuple[ResponseKind, ...] = typing.get_args(ResponseKind)
_MALFORMED_ARGS = ('{"unterminated": ', "not json at all", "[1, 2]", '"a string"', "null", '{"a": 1,}', "{'single': 1}")


# --- scripted model responses ----------------------------------------------------------------


Script: TypeAlias = list[list[tuple[str, Any]]]
"""A drawn script before it becomes messages: per response, its parts as `(tool name, arguments)` for a
tool call or `('', text)` for text. Each runtime builds its own message classes from it."""

_Built = TypeVar("_Built")
_Part = TypeVar("_Part")


def model_responses(
    tools: Sequence[Tool[Any] | ToolDefinition] = (),
    result_tool: ToolDefinition | None = None,
    *,
    kinds: Collection[ResponseKind] = ALL_KINDS,
    min_size: int = 0,
    max_size: int = 5,
    max_parts: int = 3,
) -> st.SearchStrategy[list[ModelResponse]]:
    """Scripts of model behaviour: lists of `ModelResponse` for a `ScriptedModel` to play.

    Each response has up to `max_parts` parts, each of one of `kinds`: `tool_call` (valid arguments),
    `invalid_tool_call`, `unknown_tool` (a name no tool has), `malformed_args` (JSON text that is
    broken or not an object), `text`, `result` and `invalid_result` (calls of `result_tool`), or a
    response with no parts at all (`empty`). Tool-call ids are `scripted_1`, `scripted_2`, ... in
    order, and timestamps fixed, so scripts are reproducible.
    """
    return response_scripts(
        tools, result_tool, _build_responses, kinds=kinds, min_size=min_size, max_size=max_size, max_parts=max_parts
    )


def response_scripts(
    tools: Sequence[object],
    result_tool: object | None,
    build: Callable[[Script], _Built],
    *,
    kinds: Collection[ResponseKind] = ALL_KINDS,
    min_size: int = 0,
    max_size: int = 5,
    max_parts: int = 3,
) -> st.SearchStrategy[_Built]:
    """Drawn `Script`s turned into one runtime's messages by `build`: the drawing both runtimes share.

    `tools` and `result_tool` are anything `tool_arguments` accepts (agentkit's or pydantic-ai's
    `Tool`, a `ToolDefinition`); see `model_responses` for the kinds.
    """
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown:
        raise UserError(f"model_responses: unknown kind {unknown[0]!r}; expected some of {', '.join(ALL_KINDS)}")
    parts = _part_strategies(tools, result_tool, kinds)
    if not parts and "empty" not in kinds:
        raise UserError(f"model_responses: no response can be made from kinds={sorted(kinds)} with these tools")
    response: st.SearchStrategy[list[tuple[str, Any]]] = (
        st.lists(st.one_of(parts), min_size=1, max_size=max_parts) if parts else st.just([])
    )
    if "empty" in kinds and parts:
        response = response | st.just([])
    # flatmap to `just` rather than map: a failing example prints as `[ModelResponse(parts=[...]), ...]`,
    # public constructors a user can paste into a regression test, not a call of a private helper.
    return st.lists(response, min_size=min_size, max_size=max_size).flatmap(lambda script: st.just(build(script)))


def _part_strategies(
    tools: Sequence[object], result_tool: object | None, kinds: Collection[ResponseKind]
) -> list[st.SearchStrategy[tuple[str, Any]]]:
    """Strategies of `(tool name or '', args or text)` pairs, one for each usable kind."""
    parts: list[st.SearchStrategy[tuple[str, Any]]] = []
    definitions = [(tool, resolve_tool(tool).definition) for tool in tools]
    result = (result_tool, resolve_tool(result_tool).definition) if result_tool is not None else None
    names = {definition.name for _, definition in definitions} | ({result[1].name} if result else set())
    for tool, definition in definitions:
        if "tool_call" in kinds:
            parts.append(st.tuples(st.just(definition.name), _as_sent(tool_arguments(tool, mode="json"))))
        if "invalid_tool_call" in kinds and _has_invalid(definition):
            parts.append(st.tuples(st.just(definition.name), _as_sent(tool_arguments(tool, valid=False))))
    if result is not None:
        tool, definition = result
        if "result" in kinds:
            parts.append(st.tuples(st.just(definition.name), _as_sent(tool_arguments(tool, mode="json"))))
        if "invalid_result" in kinds and _has_invalid(definition):
            parts.append(st.tuples(st.just(definition.name), _as_sent(tool_arguments(tool, valid=False))))
    if "malformed_args" in kinds and names:
        parts.append(st.tuples(st.sampled_from(sorted(names)), st.sampled_from(_MALFORMED_ARGS)))
    if "unknown_tool" in kinds:
        unknown_names = st.from_regex(r"\A[a-z][a-z_]{0,11}\Z").filter(lambda name: name not in names)
        parts.append(st.tuples(unknown_names, _as_sent(st.dictionaries(st.sampled_from("abc"), st.integers(0, 9)))))
    if "text" in kinds:
        parts.append(st.tuples(st.just(""), st.text(max_size=24)))
    return parts


def _has_invalid(definition: ToolDefinition) -> bool:
    try:
        from_json_schema(definition.parameters_json_schema, valid=False)
    except UserError:
        return False
    return True


def _as_sent(arguments: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[str | dict[str, Any]]:
    """Arguments as a model sends them: sometimes a decoded dict, sometimes JSON text."""
    return st.tuples(arguments, st.booleans()).map(lambda pair: json.dumps(pair[0]) if pair[1] else pair[0])


def build_script(
    script: Script,
    text: Callable[[str], _Part],
    call: Callable[[str, Any, str], _Part],
    response: Callable[[list[_Part]], _Built],
) -> list[_Built]:
    """A drawn script as either runtime's responses: `text(content)`, `call(name, args, id)`, `response(parts)`.

    Tool calls get the ids `scripted_1`, `scripted_2`, ... in script order.
    """
    responses: list[_Built] = []
    calls = 0
    for parts in script:
        built: list[_Part] = []
        for name, payload in parts:
            if name:
                calls += 1
                built.append(call(name, payload, f"scripted_{calls}"))
            else:
                built.append(text(payload))
        responses.append(response(built))
    return responses


def _build_responses(script: Script) -> list[ModelResponse]:
    def response(parts: list[TextPart | ToolCallPart]) -> ModelResponse:
        return ModelResponse(parts=parts, timestamp=SCRIPT_TIME)

    return build_script(script, TextPart, ToolCallPart, response)


# --- whole flows ----------------------------------------------------------------------------


class AgentFlowMachine(RuleBasedStateMachine):
    """A Hypothesis state machine that runs an agent on scripted model behaviour and checks every run.

    Subclass it, return your agent from `make_agent` (or set `agent_factory`), and run its
    `TestCase`. Rules start a run on a drawn script, or continue the last conversation with a new
    one; invariants: each tool call answered by id, `usage.requests` equal to the responses, an
    ending in `End` or a documented error, and no tool retried over its budget in a row.

    Class attributes: `prompt`, `deps`, `usage_limits`, `max_responses` (per script), `tools` (the
    agent's `Tool` objects, to draw arguments from their signatures and read their `max_retries`),
    `tool_retries` (the agent's `retries`, the budget of tools without their own), and
    `failing_example_cassette`: a path where the runs of a failing example are saved as a
    cassette, to replay offline in a regression test with `agentkit_testing.cassette(path)`.

    Each subclass's `TestCase.settings` leaves out Hypothesis's `explain` phase, which re-runs a
    failing flow about a hundred times under a line tracer (40 of the 45 s a failing flow took, on
    Python 3.11). To tune the settings, derive from them so that stays:
    `Flows.TestCase.settings = settings(Flows.TestCase.settings, max_examples=50)`.
    """

    agent_factory: typing.ClassVar[typing.Callable[[], Agent[Any, Any]] | None] = None
    prompt: typing.ClassVar[str] = "Start."
    deps: typing.ClassVar[Any] = None
    usage_limits: typing.ClassVar[UsageLimits | None] = None
    max_responses: typing.ClassVar[int] = 5
    tools: typing.ClassVar[Sequence[Tool[Any]]] = ()
    tool_retries: typing.ClassVar[int] = 1
    failing_example_cassette: typing.ClassVar[str | os.PathLike[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        test_case = cls.TestCase
        phases = [phase for phase in test_case.settings.phases if phase is not Phase.explain]
        test_case.settings = settings(test_case.settings, phases=phases)

    def __init__(self) -> None:
        super().__init__()
        self.agent = self.make_agent()
        self.info = anyio.run(lambda: probe_agent_info(self.agent, deps=self.deps))
        by_name = {tool.name: tool for tool in self.tools}
        script_tools = [by_name.get(definition.name, definition) for definition in self.info.function_tools]
        own_budgets = {tool.name: tool.max_retries for tool in self.tools if tool.max_retries is not None}
        self.retry_budgets = {tool.name: own_budgets.get(tool.name, self.tool_retries) for tool in script_tools}
        self.result_tool = self.info.result_tools[0] if self.info.result_tools else None
        self.scripts = model_responses(script_tools, self.result_tool, max_size=self.max_responses)
        self.runs: list[ScriptedRun] = []
        self.recording = (
            Cassette(comment=f"A failing example of {type(self).__name__}") if self.failing_example_cassette else None
        )

    def make_agent(self) -> Agent[Any, Any]:
        """The agent under test; a fresh one for each example."""
        factory = type(self).agent_factory
        if factory is None:
            raise UserError(f"{type(self).__name__}: override make_agent() or set agent_factory to build the agent")
        return factory()

    def _draw_and_run(self, data: st.DataObject, history: list[ModelMessage] | None) -> None:
        script = data.draw(self.scripts, "script")
        final_args = data.draw(tool_arguments(self.result_tool), "final_result_args") if self.result_tool else None
        with self._saving_failures():
            run = anyio.run(
                lambda: run_scripted(
                    self.agent, script, prompt=self.prompt, deps=self.deps, message_history=history,
                    usage_limits=self.usage_limits, final_result_args=final_args, record_to=self.recording,
                )
            )  # fmt: skip
        self.runs.append(run)

    @contextlib.contextmanager
    def _saving_failures(self) -> Iterator[None]:
        """Save this example's runs to `failing_example_cassette` when something fails, then fail."""
        try:
            yield
        except Exception as error:
            if self.recording is not None and self.failing_example_cassette is not None:
                self.recording.save(self.failing_example_cassette)
                error.add_note(
                    f"The runs of this example were saved to {os.fspath(self.failing_example_cassette)!r}; "
                    "replay them offline with `with agentkit_testing.cassette(path): ...`"
                )
            raise

    @rule(data=st.data())
    def new_conversation(self, data: st.DataObject) -> None:
        self._draw_and_run(data, None)

    @precondition(lambda self: bool(self.runs) and self.runs[-1].result is not None)
    @rule(data=st.data())
    def continue_conversation(self, data: st.DataObject) -> None:
        last = self.runs[-1].result
        assert last is not None
        self._draw_and_run(data, last.all_messages())

    @invariant()
    def last_run_keeps_the_invariants(self) -> None:
        if self.runs:
            with self._saving_failures():
                self.runs[-1].check(retry_budgets=self.retry_budgets)
