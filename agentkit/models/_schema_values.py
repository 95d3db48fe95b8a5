"""Deterministic example values for a JSON schema, used by `TestModel` to call tools."""

from __future__ import annotations

import math
import string
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from agentkit.models._pattern_values import example_for_pattern

__all__ = ("SchemaValueGenerator",)

_LETTERS = string.ascii_lowercase


class SchemaValueGenerator:
    """Makes a value valid for a tool's JSON schema; `seed` varies the choices, deterministically."""

    def __init__(self, schema: dict[str, Any], seed: int = 0) -> None:
        self.definitions: dict[str, Any] = schema.get("$defs", {})
        self.schema = schema
        self.seed = seed

    def generate(self) -> Any:
        return self._value(self.schema, self.seed)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if ref is None:
            return schema
        name = ref.rsplit("/", 1)[-1]
        try:
            resolved: dict[str, Any] = self.definitions[name]
        except KeyError:
            raise ValueError(f"JSON schema reference {ref!r} not found in $defs") from None
        return resolved

    def _value(self, schema: dict[str, Any], seed: int) -> Any:
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][seed % len(schema["enum"])]
        if "default" in schema and seed % 3 == 2:
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [option for option in schema[key] if option.get("type") != "null"] or schema[key]
                return self._value(options[seed % len(options)], seed)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self._value(schema["allOf"][0], seed)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or kind
            kind = kinds[seed % len(kinds)]
        if kind == "object" or (kind is None and "properties" in schema):
            return self._object(schema, seed)
        if kind == "array":
            return self._array(schema, seed)
        if kind == "string":
            return self._string(schema, seed)
        if kind == "integer":
            return self._number(schema, seed, integer=True)
        if kind == "number":
            return self._number(schema, seed, integer=False)
        if kind == "boolean":
            return seed % 2 == 0
        if kind == "null":
            return None
        return self._string({}, seed)

    def _object(self, schema: dict[str, Any], seed: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", properties))
        result: dict[str, Any] = {}
        for offset, (name, prop) in enumerate(properties.items()):
            if name in required or (seed + offset) % 2 == 1:
                result[name] = self._value(prop, seed + offset)
        return result

    def _array(self, schema: dict[str, Any], seed: int) -> list[Any]:
        items = schema.get("items", {})
        length = max(schema.get("minItems", 1), 1)
        if "maxItems" in schema:
            length = min(length, schema["maxItems"])
        if schema.get("prefixItems"):
            return [self._value(item, seed + i) for i, item in enumerate(schema["prefixItems"])]
        return [self._value(items, seed + i) for i in range(length)]

    def _string(self, schema: dict[str, Any], seed: int) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return (datetime(2024, 1, 1) + timedelta(days=seed)).isoformat() + "Z"
        if fmt == "date":
            return (date(2024, 1, 1) + timedelta(days=seed)).isoformat()
        if fmt == "time":
            return f"{seed % 24:02d}:00:00"
        if fmt == "uuid":
            return f"12345678-1234-5678-1234-{seed:012d}"
        if fmt == "email":
            return f"{_LETTERS[seed % 26]}@example.com"
        if fmt in ("uri", "url"):
            return f"https://example.com/{_LETTERS[seed % 26]}"
        if "pattern" in schema:
            matching = example_for_pattern(schema["pattern"], seed)
            if matching is not None:
                return matching
        letter: str = _LETTERS[seed % 26]
        length: int = max(int(schema.get("minLength", 1)), 1)
        if "maxLength" in schema:
            length = min(length, int(schema["maxLength"]))
        return letter * length

    def _number(self, schema: dict[str, Any], seed: int, *, integer: bool) -> int | float:
        # Bounds as (value, open?); exclusive ones are open. Integers get closed integer bounds.
        low, low_open = _bound(schema, "minimum", "exclusiveMinimum", max)
        high, high_open = _bound(schema, "maximum", "exclusiveMaximum", min)
        if integer:
            if low is not None:
                low, low_open = (math.floor(low) + 1 if low_open else math.ceil(low)), False
            if high is not None:
                high, high_open = (math.ceil(high) - 1 if high_open else math.floor(high)), False

        def inside(value: float | Fraction) -> bool:
            above = low is None or value > low or (value == low and not low_open)
            below = high is None or value < high or (value == high and not high_open)
            return above and below

        value: float | Fraction = seed
        if not inside(value):
            if low is not None and high is not None:
                value = (low + high) / 2 if low_open or high_open else (low if value < low else high)
            elif low is not None:
                value = low + 1 if low_open else low
            elif high is not None:
                value = high - 1 if high_open else high
        multiple = schema.get("multipleOf")
        if multiple:
            step = Fraction(str(multiple))
            nearest = round(Fraction(value) / step)
            first = math.ceil(Fraction(str(low)) / step) if low is not None else nearest
            for k in (nearest, nearest + 1, nearest - 1, first, first + 1):
                if inside(k * step):
                    value = k * step  # exact: a float would lose digits of large integers
                    break
        return int(value) if integer else float(value)


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, tighter: Any) -> tuple[Any, bool]:
    """The tighter of a schema's inclusive and exclusive bound on one side, and whether it is exclusive."""
    candidates = [(schema[inclusive], False)] if inclusive in schema else []
    if exclusive in schema:
        candidates.append((schema[exclusive], True))
    if not candidates:
        return None, False
    bound = tighter(value for value, _ in candidates)
    return bound, any(value == bound and is_open for value, is_open in candidates)
