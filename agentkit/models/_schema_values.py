"""Deterministic example values for a JSON schema, used by `TestModel` to call tools.

The values follow the reference release's generator, so the same schema and seed give the
same arguments: the smallest viable data (required properties only, at most one array item),
strings spelled from the seed like spreadsheet columns (`'a'`, `'b'`, ... `'aa'`), integers
from the seed clipped to the bounds, booleans `seed % 2`, the seed-th enum member or example.
Where that value would break a constraint the reference ignores (a pattern, a string format,
a `multipleOf`, a bound it gets wrong), a valid value is made instead, so a tool is never
retried over arguments `TestModel` itself made up.
"""

from __future__ import annotations

import math
import re
import string
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from agentkit.models._pattern_values import example_for_pattern

__all__ = ("SchemaValueGenerator",)

_CHARS = string.ascii_letters + string.digits + string.punctuation
_FORMATS = {
    "date-time": lambda seed: (datetime(2024, 1, 1) + timedelta(days=seed)).isoformat() + "Z",
    "time": lambda seed: f"{seed % 24:02d}:00:00",
    "uuid": lambda seed: f"12345678-1234-5678-1234-{seed:012d}",
    "email": lambda seed: f"{string.ascii_lowercase[seed % 26]}@example.com",
    "uri": lambda seed: f"https://example.com/{string.ascii_lowercase[seed % 26]}",
    "url": lambda seed: f"https://example.com/{string.ascii_lowercase[seed % 26]}",
}


class SchemaValueGenerator:
    """Makes a value for a tool's JSON schema; `seed` varies the choices, deterministically.

    One generator makes one value: like the reference, arrays with `uniqueItems` advance the
    seed for what follows.
    """

    def __init__(self, schema: dict[str, Any], seed: int = 0) -> None:
        self.definitions: dict[str, Any] = schema.get("$defs", {})
        self.schema = schema
        self.seed = seed

    def generate(self) -> Any:
        return self._value(self.schema)

    def _resolve(self, ref: str) -> dict[str, Any]:
        name = re.sub(r"^#/\$defs/", "", ref)
        try:
            resolved: dict[str, Any] = self.definitions[name]
        except KeyError:
            raise ValueError(f"JSON schema reference {ref!r} not found in $defs") from None
        return resolved

    def _value(self, schema: dict[str, Any]) -> Any:
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][self.seed % len(schema["enum"])]
        if schema.get("examples"):
            return schema["examples"][self.seed % len(schema["examples"])]
        if "$ref" in schema:
            return self._value(self._resolve(schema["$ref"]))
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self._value(schema[key][self.seed % len(schema[key])])
        if schema.get("allOf") and len(schema["allOf"]) == 1:
            return self._value(schema["allOf"][0])
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = kind[self.seed % len(kind)] if kind else None
        if kind is None:
            return self._object(schema) if "properties" in schema else self._char()
        if kind == "object":
            return self._object(schema)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return self._number(schema, integer=True)
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return bool(self.seed % 2)
        if kind == "array":
            return self._array(schema)
        if kind == "null":
            return None
        raise ValueError(f"TestModel cannot make a value for JSON schema type {kind!r}: {schema}")

    def _object(self, schema: dict[str, Any]) -> dict[str, Any]:
        required = set(schema.get("required", ()))
        data = {name: self._value(prop) for name, prop in schema.get("properties", {}).items() if name in required}
        extra = schema.get("additionalProperties")
        if extra:
            key = "additionalProperty"
            while key in data:
                key += "_"
            data[key] = self._char() if extra is True else self._value(extra)
        return data

    def _array(self, schema: dict[str, Any]) -> list[Any]:
        data: list[Any] = []
        unique = schema.get("uniqueItems")
        for item in schema.get("prefixItems") or ():
            data.append(self._value(item))
            if unique:
                self.seed += 1
        items = schema.get("items", {})
        min_items = schema.get("minItems", 0)
        if min_items > len(data):
            count = min_items - len(data)
        else:
            max_items = schema.get("maxItems")
            count = 1 if items and (max_items is None or max_items > len(data)) else 0
        for _ in range(count):
            data.append(self._value(items))
            if unique:
                self.seed += 1
        return data

    def _char(self) -> str:
        """The seed spelled like a spreadsheet column over letters, digits and punctuation."""
        size = len(_CHARS)
        prefix = ""
        rest = self.seed // size
        while rest > 0:
            prefix += _CHARS[(rest - 1) % size]
            rest //= size
        return prefix + _CHARS[self.seed % size]

    def _string(self, schema: dict[str, Any]) -> str:
        min_length = schema.get("minLength")
        fmt = schema.get("format")
        if min_length is not None:
            value = self._char() * min_length
        elif schema.get("maxLength") == 0:
            value = ""
        elif fmt == "date":
            value = (date(2024, 1, 1) + timedelta(days=self.seed)).isoformat()
        else:
            value = self._char()
        return value if _string_fits(value, schema) else self._valid_string(schema)

    def _valid_string(self, schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        if fmt in _FORMATS:
            return str(_FORMATS[fmt](self.seed))
        if "pattern" in schema:
            matching = example_for_pattern(schema["pattern"], self.seed)
            if matching is not None:
                return matching
        letter = string.ascii_lowercase[self.seed % 26]
        length = max(int(schema.get("minLength", 1)), 1)
        if "maxLength" in schema:
            length = min(length, int(schema["maxLength"]))
        return letter * length

    def _number(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        maximum = schema.get("maximum")
        if maximum is None and schema.get("exclusiveMaximum") is not None:
            maximum = schema["exclusiveMaximum"] - 1
        minimum = schema.get("minimum")
        if minimum is None and schema.get("exclusiveMinimum") is not None:
            minimum = schema["exclusiveMinimum"] + 1
        value: Any
        if minimum is not None and maximum is not None:
            value = minimum + self.seed % (maximum - minimum) if maximum != minimum else minimum
        elif minimum is not None:
            value = minimum + self.seed
        elif maximum is not None:
            value = maximum - self.seed
        else:
            value = self.seed
        if not integer:
            value = float(value)
        if _number_fits(value, schema, integer=integer):
            return int(value) if integer else float(value)
        return _valid_number(schema, self.seed, integer=integer)


def _string_fits(value: str, schema: dict[str, Any]) -> bool:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    if schema.get("format") in _FORMATS:
        return False
    pattern = schema.get("pattern")
    if pattern is not None:
        try:
            return re.search(pattern, value) is not None
        except re.error:
            return True
    return True


def _number_fits(value: float, schema: dict[str, Any], *, integer: bool) -> bool:
    if integer and value != int(value):
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return False
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return False
    multiple = schema.get("multipleOf")
    return not multiple or Fraction(str(value)) % Fraction(str(multiple)) == 0


def _valid_number(schema: dict[str, Any], seed: int, *, integer: bool) -> int | float:
    """A number inside the bounds (and on the `multipleOf` grid) near `seed`."""
    low, low_open = _bound(schema, "minimum", "exclusiveMinimum", max)
    high, high_open = _bound(schema, "maximum", "exclusiveMaximum", min)
    if integer:
        if low is not None:
            low, low_open = (math.floor(low) + 1 if low_open else math.ceil(low)), False
        if high is not None:
            high, high_open = (math.ceil(high) - 1 if high_open else math.floor(high)), False

    def inside(candidate: float | Fraction) -> bool:
        above = low is None or candidate > low or (candidate == low and not low_open)
        below = high is None or candidate < high or (candidate == high and not high_open)
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
