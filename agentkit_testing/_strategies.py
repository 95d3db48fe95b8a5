"""Hypothesis strategies for property tests of agents: tool arguments, scripted model behaviour, whole flows.

`tool_arguments` draws arguments for a tool; `model_responses` draws scripts of model behaviour
for a `ScriptedModel` (in `_scripted`) to play; `AgentFlowMachine` runs an agent on drawn scripts
and checks every run with `ScriptedRun.check`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import decimal
import enum
import inspect
import json
import math
import os
import types
import typing
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import annotated_types
import anyio
import pydantic
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pydantic.fields import FieldInfo

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
from agentkit_testing._cassette import Cassette
from agentkit_testing._json_schema_strategy import JSON_VALUES, from_json_schema, from_pattern
from agentkit_testing._scripted import SCRIPT_TIME, ScriptedRun, probe_agent_info, run_scripted

__all__ = ("AgentFlowMachine", "ResponseKind", "model_responses", "signature_arguments", "tool_arguments")

ResponseKind: TypeAlias = Literal[
    "tool_call", "invalid_tool_call", "unknown_tool", "malformed_args", "text", "result", "invalid_result", "empty"
]
"""What a scripted response part does: see `model_responses`."""

_ALL_KINDS: tuple[ResponseKind, ...] = typing.get_args(ResponseKind)
_MALFORMED_ARGS = ('{"unterminated": ', "not json at all", "[1, 2]", '"a string"', "null", '{"a": 1,}', "{'single': 1}")


# --- tool arguments ------------------------------------------------------------------------


def tool_arguments(tool: Tool[Any] | ToolDefinition, *, valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Argument dicts (JSON-compatible) for `tool`: ones its validator accepts, or with `valid=False` rejects.

    A `Tool` made from a Python function is generated from its signature with Hypothesis's type
    inference, honouring `Annotated` constraints such as `Field(ge=1, le=10)`; parameters with a
    default are sometimes left out. A `ToolDefinition` is generated from its JSON schema. Invalid
    arguments miss a required parameter, add an unknown one, or give one a wrong type or an
    out-of-bounds value.
    """
    if isinstance(tool, ToolDefinition):
        return typing.cast(
            st.SearchStrategy[dict[str, Any]], from_json_schema(tool.parameters_json_schema, valid=valid)
        )
    if not isinstance(tool, Tool):
        raise UserError(
            f"tool_arguments expected a Tool or a ToolDefinition, got {tool!r} (type={type(tool).__name__})"
        )
    if not valid:
        schema_invalid = from_json_schema(tool.schema.json_schema, valid=False)
        return schema_invalid.filter(lambda args: _rejects(tool, args))
    # The signature-derived values are valid by construction; the filter is a safety net for
    # constraints no type carries (custom validators), and keeps the promise of validity.
    return signature_arguments(tool).filter(lambda args: _accepts(tool, args))


def _accepts(tool: Tool[Any], args: Any) -> bool:
    """Whether the tool accepts `args` both as a dict and as JSON text, as a model may send either."""
    try:
        tool.schema.validate(args)
        tool.schema.validate(json.dumps(args))
    except (pydantic.ValidationError, TypeError, ValueError):
        return False
    return True


def _rejects(tool: Tool[Any], args: Any) -> bool:
    """Whether the tool rejects `args` both as a dict and as JSON text."""
    for sent in (args, json.dumps(args)):
        try:
            tool.schema.validate(sent)
        except pydantic.ValidationError:
            continue
        return False
    return True


def signature_arguments(tool: Tool[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Argument dicts made from the tool function's signature, without checking them against the validator."""
    try:
        hints = typing.get_type_hints(tool.function, include_extras=True)
    except NameError:
        return typing.cast(st.SearchStrategy[dict[str, Any]], from_json_schema(tool.schema.json_schema))
    parameters = list(inspect.signature(tool.function).parameters.values())[1 if tool.takes_ctx else 0 :]
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in parameters:
        strategy = _for_type(hints.get(parameter.name, Any), ())
        (required if parameter.default is inspect.Parameter.empty else optional)[parameter.name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


@dataclasses.dataclass
class _Constraints:
    """The constraints found in `Annotated[...]` metadata (annotated_types, pydantic `Field`, `constr`, ...)."""

    gt: Any = None
    ge: Any = None
    lt: Any = None
    le: Any = None
    multiple_of: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    @classmethod
    def collect(cls, metadata: Iterable[Any]) -> _Constraints:
        found = cls()
        for item in metadata:
            if isinstance(item, FieldInfo):
                found = dataclasses.replace(found, **_non_none(cls.collect(item.metadata)))
            elif isinstance(item, annotated_types.GroupedMetadata):
                found = dataclasses.replace(found, **_non_none(cls.collect(list(item))))
            elif item is not None:
                for field in dataclasses.fields(cls):
                    value = getattr(item, field.name, None)
                    if value is not None:
                        setattr(found, field.name, value)
        return found

    def comparisons(self) -> list[annotated_types.BaseMetadata]:
        """The comparison and length constraints, as annotated-types metadata Hypothesis understands."""
        kinds = {"gt": annotated_types.Gt, "ge": annotated_types.Ge, "lt": annotated_types.Lt, "le": annotated_types.Le}
        found: list[annotated_types.BaseMetadata] = [
            kinds[name](getattr(self, name)) for name in kinds if getattr(self, name) is not None
        ]
        if self.min_length is not None:
            found.append(annotated_types.MinLen(self.min_length))
        if self.max_length is not None:
            found.append(annotated_types.MaxLen(self.max_length))
        return found


def _non_none(constraints: _Constraints) -> dict[str, Any]:
    return {key: value for key, value in dataclasses.asdict(constraints).items() if value is not None}


def _json_dump(annotation: Any) -> typing.Callable[[Any], Any]:
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    return lambda value: adapter.dump_python(value, mode="json")


def _for_type(annotation: Any, stack: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """JSON-compatible values that pydantic validates as `annotation`."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata = [*extra, *metadata]
    found = _Constraints.collect(metadata)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return JSON_VALUES
    if annotation is None or annotation is type(None):
        return st.none()
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of([_for_type(typing.Annotated[arg, *metadata] if metadata else arg, stack) for arg in args])
    if origin is Literal:
        return st.sampled_from([_json_dump(type(arg))(arg) for arg in args])
    if annotation in stack:  # a recursive type: its JSON schema handles recursion with $ref
        return from_json_schema(pydantic.TypeAdapter(annotation).json_schema())
    inner = (*stack, annotation)
    if origin in (list, set, frozenset, tuple) or origin in (Sequence, Collection, Iterable, typing.AbstractSet):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return st.tuples(*(_for_type(arg, inner) for arg in args)).map(list)
        items = _for_type(args[0] if args else Any, inner)
        unique = _canonical if origin in (set, frozenset, typing.AbstractSet) else None
        return st.lists(items, min_size=found.min_length or 0, max_size=_max_size(found), unique_by=unique)
    if origin in (dict, Mapping):
        keys = _for_type(args[0] if args else str, inner).map(lambda key: key if isinstance(key, str) else str(key))
        values = _for_type(args[1] if args else Any, inner)
        return st.dictionaries(keys, values, min_size=found.min_length or 0, max_size=_max_size(found))
    if isinstance(annotation, type):
        return _for_class(annotation, found, metadata, inner)
    return from_json_schema(
        pydantic.TypeAdapter(typing.Annotated[annotation, *metadata] if metadata else annotation).json_schema()
    )


def _max_size(found: _Constraints) -> int:
    return found.max_length if found.max_length is not None else (found.min_length or 0) + 4


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _for_class(cls: type, found: _Constraints, metadata: list[Any], stack: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    if cls is bool:
        return st.booleans()
    if cls is float:
        low, high = found.ge if found.ge is not None else found.gt, found.le if found.le is not None else found.lt
        floats = st.floats(
            low,
            high,
            exclude_min=found.ge is None and found.gt is not None,
            exclude_max=found.le is None and found.lt is not None,
            allow_nan=False,
            allow_infinity=False,
        )
        if found.multiple_of is not None:
            return floats.map(lambda value: round(value / found.multiple_of) * found.multiple_of)
        return floats
    if cls is int and found.multiple_of is not None:
        low = None if found.ge is None and found.gt is None else (found.ge if found.ge is not None else found.gt + 1)
        high = None if found.le is None and found.lt is None else (found.le if found.le is not None else found.lt - 1)
        step = found.multiple_of
        first, last = (
            (None if low is None else math.ceil(low / step)),
            (None if high is None else math.floor(high / step)),
        )
        return st.integers(first, last).map(lambda k: k * step)
    if cls is str and found.pattern is not None:
        longest = math.inf if found.max_length is None else found.max_length
        return from_pattern(found.pattern).filter(lambda text: (found.min_length or 0) <= len(text) <= longest)
    if cls is decimal.Decimal:
        return st.decimals(found.ge, found.le, allow_nan=False, allow_infinity=False, places=6).map(str)
    if issubclass(cls, enum.Enum):
        return st.sampled_from([_json_dump(cls)(member) for member in cls])
    if issubclass(cls, pydantic.BaseModel):
        fields = {
            field.alias or name: (field.rebuild_annotation(), field.is_required())
            for name, field in cls.model_fields.items()
        }
        return _fixed_dictionaries(fields, stack)
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        no_default = (dataclasses.MISSING, dataclasses.MISSING)
        fields = {
            field.name: (hints[field.name], (field.default, field.default_factory) == no_default)
            for field in dataclasses.fields(cls)
            if field.init
        }
        return _fixed_dictionaries(fields, stack)
    if typing.is_typeddict(cls):
        hints = typing.get_type_hints(cls)
        required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset(hints))
        return _fixed_dictionaries({name: (hint, name in required_keys) for name, hint in hints.items()}, stack)
    if cls in (int, str, datetime.datetime, datetime.date, datetime.time, uuid.UUID):
        # Hypothesis's own inference, constraints included: Annotated[int, Ge(1)] -> integers(min_value=1)
        constrained: Any = typing.Annotated[cls, *found.comparisons()] if found.comparisons() else cls
        return st.from_type(constrained).map(_json_dump(cls))
    annotated: Any = typing.Annotated[cls, *metadata] if metadata else cls
    return from_json_schema(pydantic.TypeAdapter(annotated).json_schema())


def _fixed_dictionaries(
    fields: Mapping[str, tuple[Any, bool]], stack: tuple[Any, ...]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {name: _for_type(hint, stack) for name, (hint, required) in fields.items() if required},
        optional={name: _for_type(hint, stack) for name, (hint, required) in fields.items() if not required},
    )


# --- scripted model responses ----------------------------------------------------------------


def model_responses(
    tools: Sequence[Tool[Any] | ToolDefinition] = (),
    result_tool: ToolDefinition | None = None,
    *,
    kinds: Collection[ResponseKind] = _ALL_KINDS,
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
    unknown = sorted(set(kinds) - set(_ALL_KINDS))
    if unknown:
        raise UserError(f"model_responses: unknown kind {unknown[0]!r}; expected some of {', '.join(_ALL_KINDS)}")
    parts = _part_strategies(tools, result_tool, kinds)
    if not parts and "empty" not in kinds:
        raise UserError(f"model_responses: no response can be made from kinds={sorted(kinds)} with these tools")
    response: st.SearchStrategy[list[tuple[str, Any]]] = (
        st.lists(st.one_of(parts), min_size=1, max_size=max_parts) if parts else st.just([])
    )
    if "empty" in kinds and parts:
        response = response | st.just([])
    return st.lists(response, min_size=min_size, max_size=max_size).map(_build_responses)


def _part_strategies(
    tools: Sequence[Tool[Any] | ToolDefinition], result_tool: ToolDefinition | None, kinds: Collection[ResponseKind]
) -> list[st.SearchStrategy[tuple[str, Any]]]:
    """Strategies of `(tool name or '', args or text)` pairs, one for each usable kind."""
    parts: list[st.SearchStrategy[tuple[str, Any]]] = []
    names = {tool.name for tool in tools} | ({result_tool.name} if result_tool else set())
    callables: list[tuple[str, Tool[Any] | ToolDefinition]] = [(tool.name, tool) for tool in tools]
    for name, tool in callables:
        if "tool_call" in kinds:
            parts.append(st.tuples(st.just(name), _as_sent(tool_arguments(tool))))
        if "invalid_tool_call" in kinds and _has_invalid(tool):
            parts.append(st.tuples(st.just(name), _as_sent(tool_arguments(tool, valid=False))))
    if result_tool is not None:
        if "result" in kinds:
            parts.append(st.tuples(st.just(result_tool.name), _as_sent(tool_arguments(result_tool))))
        if "invalid_result" in kinds and _has_invalid(result_tool):
            parts.append(st.tuples(st.just(result_tool.name), _as_sent(tool_arguments(result_tool, valid=False))))
    if "malformed_args" in kinds and names:
        parts.append(st.tuples(st.sampled_from(sorted(names)), st.sampled_from(_MALFORMED_ARGS)))
    if "unknown_tool" in kinds:
        unknown_names = st.from_regex(r"\A[a-z][a-z_]{0,11}\Z").filter(lambda name: name not in names)
        parts.append(st.tuples(unknown_names, _as_sent(st.dictionaries(st.sampled_from("abc"), st.integers(0, 9)))))
    if "text" in kinds:
        parts.append(st.tuples(st.just(""), st.text(max_size=24)))
    return parts


def _has_invalid(tool: Tool[Any] | ToolDefinition) -> bool:
    schema = tool.schema.json_schema if isinstance(tool, Tool) else tool.parameters_json_schema
    try:
        from_json_schema(schema, valid=False)
    except UserError:
        return False
    return True


def _as_sent(arguments: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[str | dict[str, Any]]:
    """Arguments as a model sends them: sometimes a decoded dict, sometimes JSON text."""
    return st.tuples(arguments, st.booleans()).map(lambda pair: json.dumps(pair[0]) if pair[1] else pair[0])


def _build_responses(script: list[list[tuple[str, Any]]]) -> list[ModelResponse]:
    responses: list[ModelResponse] = []
    calls = 0
    for parts in script:
        built: list[TextPart | ToolCallPart] = []
        for name, payload in parts:
            if name:
                calls += 1
                built.append(ToolCallPart(name, payload, tool_call_id=f"scripted_{calls}"))
            else:
                built.append(TextPart(payload))
        responses.append(ModelResponse(parts=list(built), timestamp=SCRIPT_TIME))
    return responses


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
    """

    agent_factory: typing.ClassVar[typing.Callable[[], Agent[Any, Any]] | None] = None
    prompt: typing.ClassVar[str] = "Start."
    deps: typing.ClassVar[Any] = None
    usage_limits: typing.ClassVar[UsageLimits | None] = None
    max_responses: typing.ClassVar[int] = 5
    tools: typing.ClassVar[Sequence[Tool[Any]]] = ()
    tool_retries: typing.ClassVar[int] = 1
    failing_example_cassette: typing.ClassVar[str | os.PathLike[str] | None] = None

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
