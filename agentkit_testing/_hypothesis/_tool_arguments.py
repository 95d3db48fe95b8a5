"""Hypothesis strategies of tool arguments: from a tool's signature (constraints honoured) or its JSON schema.

`tool_arguments` accepts every form `resolve_tool` knows (a decorated function, a `Tool`, a
`ToolDefinition`, `(agent, 'name')`) and draws the Python values the function receives, or the
JSON-ready dicts a model sends.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import json
import math
import types
import typing
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

import annotated_types
import pydantic
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from agentkit import Tool, UserError
from agentkit_testing._hypothesis._json_schema_strategy import JSON_VALUES, from_json_schema, from_pattern
from agentkit_testing._hypothesis._tool_resolution import ResolvedTool, resolve_tool

__all__ = ("json_arguments", "signature_arguments", "tool_arguments")

ArgumentMode: typing.TypeAlias = Literal["python", "json"]
"""`python`: the values the function receives (`book(**args)`); `json`: the dicts a model sends."""


def tool_arguments(
    tool: object, *, valid: bool = True, mode: ArgumentMode | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for `tool`: ones its validator accepts, or with `valid=False` ones it rejects.

    `tool` may be the function as decorated (`@agent.tool_plain def book(...)`; found on the agents
    of its module, and when it is registered on several the error says to pass `(agent, 'book')`),
    a `Tool`, `(agent, 'tool_name')`, or a `ToolDefinition` (then only its JSON schema is known).

    `mode` says what the dicts hold. `'python'` (the default when there is a function) gives what
    the function receives, so `book(**args)` works: a pydantic-model parameter as a model instance,
    a `date` as a `date` (for `@agent.tool` functions, pass the `RunContext` yourself). `'json'` (the
    default, and the only choice, for a `ToolDefinition`) gives JSON-ready dicts, as a model sends
    them (a model parameter as a dict): feed those to `ToolCallPart`, `FunctionModel`, or
    `model_responses`. Invalid arguments exist only as JSON.

    Values come from the function's signature with Hypothesis's type inference, honouring
    `Annotated` constraints such as `Field(ge=1, le=10)`; parameters with a default are sometimes
    left out. Invalid arguments miss a required parameter, add an unknown one, or give one a wrong
    type or an out-of-bounds value.
    """
    resolved = resolve_tool(tool)
    chosen = mode if mode is not None else ("json" if resolved.to_python is None or not valid else "python")
    if chosen not in ("python", "json"):
        raise UserError(f"tool_arguments: mode must be 'python' or 'json', got {mode!r}")
    if chosen == "python" and (resolved.to_python is None or not valid):
        why = "invalid arguments exist only as JSON" if not valid else "a ToolDefinition has no function to call"
        raise UserError(f"tool_arguments({resolved.definition.name!r}, mode='python'): {why}; use mode='json'")
    arguments = json_arguments(resolved, valid=valid)
    if chosen == "json":
        return arguments
    to_python = resolved.to_python
    assert to_python is not None

    def as_python(drawn: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        converted = to_python(drawn)
        if resolved.tool is not None and resolved.tool.schema.single_arg_name is not None:
            return st.just(converted)
        return st.just({name: value for name, value in converted.items() if name in drawn})

    # flatmap to `just` rather than map: a failing example then prints as the values' own reprs
    # (`Place(city='')`), which a user can paste, not as a call of a private helper.
    return arguments.flatmap(as_python)


def json_arguments(tool: ResolvedTool, *, valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-ready argument dicts for a resolved tool: from its signature when it has one, else its schema."""
    if tool.tool is None:
        return typing.cast(
            st.SearchStrategy[dict[str, Any]],
            from_json_schema(tool.definition.parameters_json_schema, valid=valid),
        )
    source = tool.tool
    if not valid:
        schema_invalid = from_json_schema(source.schema.json_schema, valid=False)
        return schema_invalid.filter(lambda args: _rejects(source, args))
    # The signature-derived values are valid by construction; the filter is a safety net for
    # constraints no type carries (custom validators), and keeps the promise of validity.
    return signature_arguments(source).filter(lambda args: _accepts(source, args))


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
    single = tool.schema.single_arg_name
    if single is not None:  # the one model-like parameter's fields are the whole arguments object
        return typing.cast(st.SearchStrategy[dict[str, Any]], _for_type(hints.get(single, Any), ()))
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
