"""Deterministic example values for a JSON schema, used by `TestModel` to call tools."""

from __future__ import annotations

import string
from datetime import date, datetime, timedelta
from typing import Any

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
        letter: str = _LETTERS[seed % 26]
        length: int = max(int(schema.get("minLength", 1)), 1)
        if "maxLength" in schema:
            length = min(length, int(schema["maxLength"]))
        return letter * length

    def _number(self, schema: dict[str, Any], seed: int, *, integer: bool) -> int | float:
        low = schema.get("minimum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
        high = schema.get("maximum")
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - (1 if integer else 0.5)
        value: float = seed
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        multiple = schema.get("multipleOf")
        if multiple:
            value = multiple * round(value / multiple)
            if low is not None and value < low:
                value += multiple * -(-(low - value) // multiple)
            elif high is not None and value > high:
                value -= multiple * -(-(value - high) // multiple)
        return int(value) if integer else float(value)
