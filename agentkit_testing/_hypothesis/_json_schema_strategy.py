"""Hypothesis strategies for values of a JSON schema: values it accepts, and values it rejects.

Covers the subset that tool and result schemas use (pydantic's output and hand-written tool
definitions): objects with `properties`, `required` and `additionalProperties`; strings with
`minLength`, `maxLength`, `pattern` and the formats `date`, `date-time`, `time`, `email`, `uuid`,
`uri`, `ipv4`, `ipv6`, `hostname`, `duration`; integers and numbers with bounds and `multipleOf`;
booleans; null; `enum` and `const`; arrays with `items`, `prefixItems`, `minItems`, `maxItems`,
`uniqueItems`; `$ref` into `$defs`; `anyOf`, `oneOf`, `allOf`; type lists such as
`["string", "null"]`. A keyword outside the subset is an error, never silently ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from agentkit import UserError
from agentkit_testing._hypothesis._json_schema_check import (
    ARRAY_KEYWORDS,
    TYPES,
    SchemaChecker,
    canonical_json,
    is_multiple,
)

__all__ = ("JSON_VALUES", "from_json_schema", "from_pattern")

_UNBOUNDED_EXTRA = 4  # how many items past the minimum a list may have when no maximum is given

_JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_OFFSETS = [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
_URL = r"\Ahttps?://[a-z][a-z0-9]{1,9}\.(com|org|net)(/[a-zA-Z0-9_-]{1,8}){0,3}\Z"
_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date": st.dates(date(1900, 1, 1), date(2200, 12, 31)).map(date.isoformat),
    "date-time": st.datetimes(datetime(1900, 1, 2), datetime(2200, 1, 1), timezones=st.sampled_from(_OFFSETS)).map(
        datetime.isoformat
    ),
    "time": st.times(timezones=st.just(UTC)).map(time.isoformat),
    "email": st.from_regex(r"\A[a-z][a-z0-9]{0,7}(\.[a-z0-9]{1,5})?@[a-z][a-z0-9]{1,9}\.(com|org|net)\Z"),
    "uuid": st.uuids().map(str),
    "uri": st.from_regex(_URL),
    "url": st.from_regex(_URL),
    "iri": st.from_regex(_URL),
    "uri-reference": st.from_regex(_URL),
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv6": st.ip_addresses(v=6).map(str),
    "hostname": st.from_regex(r"\A[a-z][a-z0-9]{0,9}(\.[a-z][a-z0-9]{0,9}){0,2}\Z"),
    "duration": st.integers(0, 10**6).map(lambda seconds: f"PT{seconds}S"),
}
# One sample value for each JSON type, to put where that type is not allowed.
_WRONG_TYPE_SAMPLES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-(10**6), 10**6),
    "number": st.sampled_from([0.5, -2.25]),
    "string": st.sampled_from(["not a valid value", ""]),
    "array": st.sampled_from([[], [1, "two"]]),
    "object": st.sampled_from([{}, {"unexpected": 1}]),
}
_UNEXPECTED_KEY = "unexpected_property"
_DOLLAR_OUTSIDE_CLASS = re.compile(r"(?<!\\)\$(?![^\[]*\])")
_MAX_INVALID_DEPTH = 3  # nesting levels searched for a property to break


def from_json_schema(schema: Mapping[str, Any] | bool, *, valid: bool = True) -> st.SearchStrategy[Any]:
    """A strategy for JSON values that `schema` accepts, or with `valid=False` rejects.

    For an object schema the rejected values are all objects (a required property missing, an
    unexpected property, a property of the wrong type or out of bounds), so they can stand for
    the arguments of a tool call. Raises `UserError` for keywords outside the supported subset.
    """
    walker = _SchemaWalker(schema)
    if valid:
        return walker.valid(schema, "#")
    if isinstance(schema, Mapping) and walker.types(walker.resolve(schema, "#")) == ["object"]:
        invalid = walker.invalid_object(schema, "#", depth=0)
    else:
        invalid = walker.invalid(schema, "#", depth=0)
    if invalid is None:
        raise UserError(
            f"Cannot make values that this JSON schema rejects: it accepts any value of its type: {schema!r}"
        )
    return invalid.filter(lambda value: not walker.is_valid(schema, value))


def from_pattern(pattern: str) -> st.SearchStrategy[str]:
    """Strings in which `pattern` matches, by both Python's and pydantic's (Rust) regex engines.

    Python's `$` also matches before a final newline and Rust's does not, so `$` is generated as `\\Z`.
    """
    return st.from_regex(_DOLLAR_OUTSIDE_CLASS.sub(r"\\Z", pattern))


def _setting(name: str) -> Callable[[tuple[dict[str, Any], Any]], dict[str, Any]]:
    """A function of `(object, value)` giving the object with property `name` set to the value."""
    return lambda pair: {**pair[0], name: pair[1]}


class _SchemaWalker(SchemaChecker):
    """Walks one schema (the root, for `$ref`) to build strategies of valid and invalid values."""

    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        super().__init__(root)
        self._refs: dict[str, st.SearchStrategy[Any]] = {}

    # --- valid values ----------------------------------------------------------------------

    def valid(self, schema: Mapping[str, Any] | bool, where: str) -> st.SearchStrategy[Any]:
        if schema is True:
            return JSON_VALUES
        if schema is False:
            return st.nothing()
        schema = self.check_keywords(schema, where)
        if "$ref" in schema:
            ref = str(schema["$ref"])
            if len(schema) > 1:
                return self.valid(self.resolve(schema, where), where)
            if ref not in self._refs:  # deferred, so recursive definitions terminate
                target = self.resolve(schema, where)  # now, so a broken $ref fails here rather than in a draw
                self._refs[ref] = st.deferred(lambda: self.valid(target, ref))
            return self._refs[ref]
        if "allOf" in schema:
            merged: Mapping[str, Any] | bool = {key: value for key, value in schema.items() if key != "allOf"}
            for index, branch in enumerate(schema["allOf"]):
                merged = self.merge(merged, branch, f"{where}/allOf/{index}")
            return self.valid(merged, where)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                rest = {name: value for name, value in schema.items() if name != key}
                branches = [self.merge(rest, branch, f"{where}/{key}/{i}") for i, branch in enumerate(schema[key])]
                strategy = st.one_of([self.valid(branch, f"{where}/{key}/{i}") for i, branch in enumerate(branches)])
                if key == "oneOf":
                    strategy = strategy.filter(lambda v: sum(self.is_valid(b, v) for b in schema["oneOf"]) == 1)
                return strategy
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else list(schema["enum"])
            if not values:
                return st.nothing()
            return st.sampled_from(values).filter(lambda value: self.is_valid(schema, value))
        return st.one_of([self._typed(kind, schema, where) for kind in self.types(schema)])

    def _typed(self, kind: str, schema: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return self._integers(schema)
        if kind == "number":
            return self._numbers(schema)
        if kind == "string":
            return self._strings(schema, where)
        if kind == "array":
            return self._arrays(schema, where)
        if kind == "object":
            return self._objects(schema, where)
        raise UserError(f"JSON schema at {where}: unknown type {kind!r}; expected one of {', '.join(TYPES)}")

    @staticmethod
    def _integer_bounds(schema: Mapping[str, Any]) -> tuple[int | None, int | None]:
        low: int | None = None
        high: int | None = None
        if "minimum" in schema:
            low = math.ceil(schema["minimum"])
        if "exclusiveMinimum" in schema:
            bound = math.floor(schema["exclusiveMinimum"]) + 1
            low = bound if low is None else max(low, bound)
        if "maximum" in schema:
            high = math.floor(schema["maximum"])
        if "exclusiveMaximum" in schema:
            bound = math.ceil(schema["exclusiveMaximum"]) - 1
            high = bound if high is None else min(high, bound)
        return low, high

    def _integers(self, schema: Mapping[str, Any]) -> st.SearchStrategy[int]:
        low, high = self._integer_bounds(schema)
        if low is not None and high is not None and low > high:
            return st.nothing()
        if "multipleOf" not in schema:
            return st.integers(low, high)
        step = Fraction(str(schema["multipleOf"])).numerator  # integer multiples of p/q are multiples of p
        first = None if low is None else math.ceil(Fraction(low, step))
        last = None if high is None else math.floor(Fraction(high, step))
        if first is not None and last is not None and first > last:
            return st.nothing()  # no multiple within the bounds
        return st.integers(first, last).map(lambda k: k * step)

    def _numbers(self, schema: Mapping[str, Any]) -> st.SearchStrategy[float | int]:
        integers = self._integers({key: value for key, value in schema.items() if key != "multipleOf"})
        if "multipleOf" in schema:
            multiple = schema["multipleOf"]
            step = Fraction(str(multiple))
            low, high = (schema.get("minimum"), schema.get("maximum"))
            first = None if low is None else math.ceil(Fraction(str(low)) / step)
            last = None if high is None else math.floor(Fraction(str(high)) / step)
            if first is not None and last is not None and first > last:
                return st.nothing()  # no multiple within the bounds
            values = st.integers(first, last).map(
                lambda k: int(k * step) if (k * step).denominator == 1 else float(k * step)
            )
            return values.filter(lambda value: self.is_valid(schema, value) and is_multiple(value, multiple))
        floats = st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="minimum" not in schema and "exclusiveMinimum" in schema,
            exclude_max="maximum" not in schema and "exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
        return (integers | floats).filter(lambda value: self.is_valid(schema, value))

    def _strings(self, schema: Mapping[str, Any], where: str) -> st.SearchStrategy[str]:
        min_length = int(schema.get("minLength", 0))
        max_length = schema.get("maxLength")
        if "pattern" in schema:
            try:
                strategy: st.SearchStrategy[str] = from_pattern(re.compile(schema["pattern"]).pattern)
            except re.error as error:
                raise UserError(
                    f"JSON schema at {where}: pattern {schema['pattern']!r} is not a regex: {error}"
                ) from None
        elif schema.get("format") in _FORMATS:
            strategy = _FORMATS[schema["format"]]
        else:
            return st.text(min_size=min_length, max_size=max_length)
        if min_length or max_length is not None:
            longest = math.inf if max_length is None else max_length
            strategy = strategy.filter(lambda text: min_length <= len(text) <= longest)
        return strategy

    def _arrays(self, schema: Mapping[str, Any], where: str) -> st.SearchStrategy[list[Any]]:
        min_items = int(schema.get("minItems", 0))
        max_items = schema.get("maxItems")
        prefix = [self.valid(item, f"{where}/prefixItems/{i}") for i, item in enumerate(schema.get("prefixItems", ()))]
        items = self.valid(schema.get("items", True), f"{where}/items")
        rest_min = max(min_items - len(prefix), 0)
        rest_max = (rest_min + _UNBOUNDED_EXTRA) if max_items is None else max(int(max_items) - len(prefix), 0)
        unique = canonical_json if schema.get("uniqueItems") else None
        rest = st.lists(items, min_size=rest_min, max_size=rest_max, unique_by=unique)
        if schema.get("items") is False:  # nothing may follow the prefix
            rest = st.just([]) if rest_min == 0 else st.nothing()
        strategy = st.tuples(st.tuples(*prefix), rest).map(lambda pair: [*pair[0], *pair[1]])
        if prefix or unique:  # a prefix may break maxItems or uniqueness; check the whole list
            strategy = strategy.map(lambda values: values[:max_items] if max_items is not None else values)
            strategy = strategy.filter(lambda values: self.is_valid(schema, values))
        return strategy

    def _objects(self, schema: Mapping[str, Any], where: str) -> st.SearchStrategy[dict[str, Any]]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required: Sequence[str] = schema.get("required", ())
        additional = schema.get("additionalProperties", True)

        def value_of(name: str) -> st.SearchStrategy[Any]:
            if name in properties:
                return self.valid(properties[name], f"{where}/properties/{name}")
            return self.valid(additional, f"{where}/additionalProperties")

        known = st.fixed_dictionaries(
            {name: value_of(name) for name in required},
            optional={name: value_of(name) for name in properties if name not in required},
        )
        if isinstance(additional, Mapping) and additional:
            keys = st.text(min_size=1, max_size=8).filter(lambda key: key not in properties and key not in required)
            extra = st.dictionaries(keys, self.valid(additional, f"{where}/additionalProperties"), max_size=3)
            known = st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})
        if "minProperties" in schema or "maxProperties" in schema:
            known = known.filter(lambda value: self.is_valid(schema, value))
        return known

    # --- invalid values ----------------------------------------------------------------------

    def invalid(self, schema: Mapping[str, Any] | bool, where: str, *, depth: int) -> st.SearchStrategy[Any] | None:
        """Values `schema` rejects, or None when it accepts everything."""
        if isinstance(schema, bool):
            return JSON_VALUES if not schema else None
        schema = self.resolve(self.check_keywords(schema, where), where)
        options: list[st.SearchStrategy[Any]] = []
        allowed = self.allowed_types(schema)
        if allowed is not None:
            options.extend(sample for kind, sample in _WRONG_TYPE_SAMPLES.items() if kind not in allowed)
        if "const" in schema or "enum" in schema:
            options.append(st.sampled_from(["not one of the allowed values", -123456789, [["nested"]]]))
        elif depth < _MAX_INVALID_DEPTH and not any(key in schema for key in ("anyOf", "oneOf", "allOf")):
            options.extend(self._out_of_bounds(schema, where, depth=depth))
            if "object" in self.types(schema):
                invalid_object = self.invalid_object(schema, where, depth=depth)
                if invalid_object is not None:
                    options.append(invalid_object)
        if not options:
            return None
        return st.one_of(options).filter(lambda value: not self.is_valid(schema, value))

    def _out_of_bounds(self, schema: Mapping[str, Any], where: str, *, depth: int) -> list[st.SearchStrategy[Any]]:
        options: list[st.SearchStrategy[Any]] = []
        for key, offset in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0), ("exclusiveMaximum", 0)):
            if key in schema:
                options.append(st.just(schema[key] + offset))
        if "multipleOf" in schema:
            options.append(st.just(float(Fraction(str(schema["multipleOf"])) / 2)))
        if schema.get("minLength", 0) > 0:
            options.append(st.text(max_size=int(schema["minLength"]) - 1))
        if "maxLength" in schema:
            options.append(st.text(min_size=int(schema["maxLength"]) + 1, max_size=int(schema["maxLength"]) + 3))
        if "pattern" in schema:
            misses = [text for text in ("", " ", "!?", "0", "aA", "\n") if not re.search(schema["pattern"], text)]
            if misses:
                options.append(st.sampled_from(misses))
        if not any(key in schema for key in ARRAY_KEYWORDS):
            return options
        if schema.get("items") is False or schema.get("prefixItems"):
            # Arrays of one kind only below; for tuples, one element too many is the simple break.
            prefix = [self.valid(item, where) for item in schema.get("prefixItems", ())]
            options.append(st.tuples(*prefix, _JSON_SCALARS).map(list))
            return options
        items = self.valid(schema.get("items", True), f"{where}/items")
        if schema.get("minItems", 0) > 0:
            options.append(st.lists(items, max_size=int(schema["minItems"]) - 1))
        if "maxItems" in schema:
            size = int(schema["maxItems"]) + 1
            options.append(st.lists(items, min_size=size, max_size=size + 2))
        if schema.get("uniqueItems"):
            options.append(items.map(lambda item: [item, item]))
        bad_item = self.invalid(schema["items"], f"{where}/items", depth=depth + 1) if "items" in schema else None
        if bad_item is not None:
            options.append(st.tuples(st.lists(items, max_size=2), bad_item).map(lambda pair: [*pair[0], pair[1]]))
        return options

    def invalid_object(
        self, schema: Mapping[str, Any], where: str, *, depth: int
    ) -> st.SearchStrategy[dict[str, Any]] | None:
        """Objects `schema` rejects: a required property missing, an unexpected one, or a bad property value."""
        schema = self.resolve(schema, where)
        base = self._objects(schema, where)
        options: list[st.SearchStrategy[dict[str, Any]]] = []
        required = list(schema.get("required", ()))
        if required:
            options.append(
                st.tuples(base, st.sampled_from(required)).map(
                    lambda pair: {key: value for key, value in pair[0].items() if key != pair[1]}
                )
            )
        additional = schema.get("additionalProperties", True)
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra_key = _UNEXPECTED_KEY
        while extra_key in properties:
            extra_key += "_"
        bad_extra: st.SearchStrategy[Any] | None = None
        if additional is False:
            bad_extra = _JSON_SCALARS
        elif isinstance(additional, Mapping):
            bad_extra = self.invalid(additional, f"{where}/additionalProperties", depth=depth + 1)
        if bad_extra is not None:
            options.append(st.tuples(base, bad_extra).map(lambda pair: {**pair[0], extra_key: pair[1]}))
        for name, property_schema in properties.items():
            bad = self.invalid(property_schema, f"{where}/properties/{name}", depth=depth + 1)
            if bad is not None:
                options.append(st.tuples(base, bad).map(_setting(name)))
        if not options:
            return None
        return st.one_of(options)
