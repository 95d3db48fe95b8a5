"""`from_json_schema`: every value it makes is valid for its schema, checked with `jsonschema`; invalid ones are not."""

from __future__ import annotations

import datetime
import enum
import re
import urllib.parse
import uuid
from fractions import Fraction
from typing import Annotated, Any, Literal

import jsonschema
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import UserError
from agentkit.models._schema_values import SchemaValueGenerator
from agentkit_testing._hypothesis._json_schema_check import json_schema_accepts
from agentkit_testing.strategies import from_json_schema

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    street: str
    number: Annotated[int, pydantic.Field(ge=1, le=9999)]
    postcode: Annotated[str, pydantic.Field(pattern=r"^[0-9]{5}$")] | None = None


class Person(pydantic.BaseModel):
    name: Annotated[str, pydantic.Field(min_length=1, max_length=20)]
    born: datetime.date
    seen: datetime.datetime | None = None
    id: uuid.UUID
    colour: Colour = Colour.RED
    kind: Literal["adult", "child"]
    tags: Annotated[set[str], pydantic.Field(max_length=3)] = set()
    scores: dict[str, float] = {}
    home: Address | None = None


class Tree(pydantic.BaseModel):
    value: int
    children: list[Tree] = []


def _schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


SCHEMAS: dict[str, Any] = {
    "empty object": {"type": "object", "properties": {}, "additionalProperties": False},
    "required and optional": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 14}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "string lengths and enum": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "minLength": 2, "maxLength": 3},
            "unit": {"enum": ["C", "F"]},
            "fixed": {"const": "v1"},
        },
        "required": ["code", "unit", "fixed"],
    },
    "pattern": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
    "formats": {
        "type": "object",
        "properties": {
            name: {"type": "string", "format": name} for name in ("date", "date-time", "email", "uuid", "uri", "time")
        },
        "required": ["date", "date-time", "email", "uuid", "uri", "time"],
    },
    "numbers": {
        "type": "object",
        "properties": {
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "step": {"type": "integer", "multipleOf": 5, "minimum": -12, "maximum": 40},
            "cents": {"type": "number", "multipleOf": 0.25, "minimum": 0, "maximum": 3},
            "odd bounds": {"type": "integer", "exclusiveMinimum": 0.5, "exclusiveMaximum": 3.5},
        },
        "required": ["ratio", "step", "cents", "odd bounds"],
    },
    "booleans and nulls": {"type": "array", "items": {"type": ["boolean", "null"]}, "minItems": 1, "maxItems": 3},
    "unique items": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 5}, "uniqueItems": True},
    "tuple": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    "nested with refs": {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
        "type": "object",
        "properties": {"points": {"type": "array", "items": {"$ref": "#/$defs/Point"}, "maxItems": 3}},
        "required": ["points"],
    },
    "anyOf nullable": {"anyOf": [{"type": "integer", "maximum": 0}, {"type": "null"}]},
    "oneOf overlapping": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    "allOf": {"allOf": [{"type": "integer"}, {"minimum": 3}, {"maximum": 5}]},
    "dict of ints": {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 2},
    "pydantic person": _schema(Person),
    "pydantic recursive tree": _schema(Tree),
}


def _check_formats(schema: Any, value: Any) -> None:
    """The formats `jsonschema` leaves unchecked here (it needs extra packages for them)."""
    if not isinstance(value, dict) or "properties" not in schema:
        return
    for name, sub in schema["properties"].items():
        if name not in value or not isinstance(sub, dict):
            continue
        item, fmt = value[name], sub.get("format")
        if fmt == "date-time":
            assert datetime.datetime.fromisoformat(item).tzinfo is not None
        elif fmt == "email":
            assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", item)
        elif fmt == "uri":
            parsed = urllib.parse.urlparse(item)
            assert parsed.scheme
            assert parsed.netloc
        elif fmt == "time":
            assert datetime.time.fromisoformat(item).tzinfo is not None


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_generated_values_are_valid_for_the_schema(name: str) -> None:
    schema = SCHEMAS[name]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    @FAST
    @given(from_json_schema(schema))
    def check(value: Any) -> None:
        validator.validate(value)
        _check_formats(schema, value)
        assert json_schema_accepts(schema, value)

    check()


@pytest.mark.parametrize("name", [name for name in SCHEMAS if name not in {"oneOf overlapping", "allOf"}])
def test_invalid_values_are_rejected_by_the_schema(name: str) -> None:
    schema = SCHEMAS[name]
    validator = jsonschema.Draft202012Validator(schema)
    is_object = schema.get("type") == "object" or "$ref" in schema

    @FAST
    @given(from_json_schema(schema, valid=False))
    def check(value: Any) -> None:
        assert not validator.is_valid(value), f"{value!r} should be invalid"
        assert not json_schema_accepts(schema, value)
        if is_object:
            assert isinstance(value, dict), "invalid values of an object schema are objects, to stand for tool args"

    check()


def test_pydantic_accepts_the_values_of_its_own_schema() -> None:
    adapter = pydantic.TypeAdapter(Person)

    @FAST
    @given(from_json_schema(adapter.json_schema()))
    def check(value: dict[str, Any]) -> None:
        adapter.validate_python(value)

    check()


def test_recursive_schemas_terminate() -> None:
    @FAST
    @given(from_json_schema(_schema(Tree)))
    def check(value: dict[str, Any]) -> None:
        Tree.model_validate(value)

    check()


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {"x": {"not": {"type": "string"}}}}, "#/properties/x: keyword 'not'"),
        ({"type": "array", "items": {"$ref": "#/$defs/Missing"}}, "$ref '#/$defs/Missing' points to nothing"),
        ({"type": "string", "pattern": "(unclosed"}, "is not a regex"),
        ({"properties": {"x": 3}}, "#/properties/x: expected a schema object or a boolean, got 3"),
    ],
)
def test_unsupported_or_broken_schemas_raise_a_clear_error(schema: dict[str, Any], expected: str) -> None:
    with pytest.raises(UserError, match=re.escape(expected)):
        from_json_schema(schema)


def test_a_schema_that_accepts_everything_has_no_invalid_values() -> None:
    with pytest.raises(UserError, match="Cannot make values that this JSON schema rejects"):
        from_json_schema({}, valid=False)


# --- random schemas -------------------------------------------------------------------------


def _bounded_integer() -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(-50, 50))
        schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": low + draw(st.integers(10, 60))}
        if draw(st.booleans()):
            schema["multipleOf"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            schema["exclusiveMinimum"] = schema.pop("minimum")
        return schema

    return build()


def _bounded_number() -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        low = round(draw(st.floats(-100, 100)), 2)
        width = draw(st.sampled_from([0.05, 0.5, 1, 7.25, 50]))
        multiple = draw(st.sampled_from([None, 0.01, 0.25, 0.5]))
        schema: dict[str, Any] = {"type": "number"}
        if multiple is not None:
            schema["multipleOf"] = multiple
            width = max(width, 2 * multiple)  # so that a multiple lies strictly inside: satisfiable
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = low + width
        return schema

    return build()


def _string() -> st.SearchStrategy[dict[str, Any]]:
    lengths = st.tuples(st.integers(0, 3), st.integers(0, 5)).map(
        lambda pair: {"type": "string", "minLength": pair[0], "maxLength": pair[0] + pair[1]}
    )
    formats = st.sampled_from(["date", "date-time", "email", "uuid", "uri"]).map(
        lambda fmt: {"type": "string", "format": fmt}
    )
    patterns = st.sampled_from([r"^[a-z]+$", r"^\d{3}$", r"^(yes|no)$", "x"]).map(
        lambda pattern: {"type": "string", "pattern": pattern}
    )
    return lengths | formats | patterns | st.just({"type": "string"})


LEAF_SCHEMAS = st.one_of(
    _bounded_integer(),
    _bounded_number(),
    _string(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(st.integers(0, 9) | st.text(max_size=3), min_size=1, max_size=4, unique=True).map(
        lambda values: {"enum": values}
    ),
)


def _extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def obj(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(st.from_regex(r"\A[a-z]{1,6}\Z"), inner, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
        closed = draw(st.booleans())
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": not closed}

    arrays = st.tuples(inner, st.integers(0, 2), st.integers(0, 3)).map(
        lambda t: {"type": "array", "items": t[0], "minItems": t[1], "maxItems": t[1] + t[2]}
    )
    unions = st.lists(inner, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches})
    nullable = inner.filter(lambda s: s.get("type") not in (None, "null") and isinstance(s["type"], str)).map(
        lambda s: {**s, "type": [s["type"], "null"]}
    )
    return obj() | arrays | unions | nullable


def _with_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Move the schema into `$defs` and refer to it, to cover `$ref`."""
    return {"$defs": {"Inner": schema}, "type": "object", "properties": {"inner": {"$ref": "#/$defs/Inner"}},
            "required": ["inner"]}  # fmt: skip


RANDOM_SCHEMAS = st.recursive(LEAF_SCHEMAS, _extend, max_leaves=6) | st.recursive(
    LEAF_SCHEMAS, _extend, max_leaves=4
).map(_with_defs)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), schema=RANDOM_SCHEMAS)
def test_values_for_random_schemas_are_valid(data: st.DataObject, schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    value = data.draw(from_json_schema(schema), label="value")
    jsonschema.Draft202012Validator(schema).validate(value)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), schema=RANDOM_SCHEMAS)
def test_invalid_values_for_random_schemas_are_invalid(data: st.DataObject, schema: dict[str, Any]) -> None:
    try:
        invalid = from_json_schema(schema, valid=False)
    except UserError:
        return  # the schema accepts every value of its type
    value = data.draw(invalid, label="invalid value")
    assert not jsonschema.Draft202012Validator(schema).is_valid(value)


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.floats(-100, 100) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.from_regex(r"\A[a-z]{1,6}\Z"), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema=RANDOM_SCHEMAS, value=ANY_JSON)
def test_json_schema_accepts_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    assert json_schema_accepts(schema, value) == jsonschema.Draft202012Validator(schema).is_valid(value)


def _decimal_multiple_of(validator: Any, multiple: Any, instance: Any, schema: Any) -> Any:
    """`multipleOf` in decimal arithmetic, as pydantic checks it: 1.17 is a multiple of 0.01."""
    if validator.is_type(instance, "number") and (Fraction(str(instance)) / Fraction(str(multiple))).denominator != 1:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {multiple!r}")


PYDANTIC_LIKE = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"multipleOf": _decimal_multiple_of})


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema=RANDOM_SCHEMAS, seed=st.integers(0, 40))
def test_test_model_argument_values_are_valid_for_random_schemas(schema: dict[str, Any], seed: int) -> None:
    """Fuzzes the core: `TestModel` calls tools with `SchemaValueGenerator` values, patterns included."""
    value = SchemaValueGenerator(schema, seed).generate()
    assert PYDANTIC_LIKE(schema).is_valid(value), f"{value!r} is invalid for {schema}"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.1},
        {"type": "number", "minimum": 0.8, "exclusiveMaximum": 1},
        {"type": "number", "exclusiveMinimum": 2.9, "maximum": 3.1, "multipleOf": 0.1},
        {"type": "integer", "minimum": 0.5},
        {"type": "integer", "minimum": 10**19, "multipleOf": 3},
    ],
)
def test_test_model_argument_values_respect_narrow_and_exclusive_bounds(schema: dict[str, Any]) -> None:
    """Regression: exclusive bounds were moved inward by 0.5, leaving narrow ranges (gt=0, lt=0.1 gave -0.4)."""
    for seed in range(5):
        value = SchemaValueGenerator(schema, seed).generate()
        assert PYDANTIC_LIKE(schema).is_valid(value), f"seed {seed}: {value!r}"
