"""Checking JSON values against a JSON schema, for the subset `from_json_schema` supports.

Plain Python (no Hypothesis): the strategies in `_json_schema_strategy` build on `SchemaChecker`
for `$ref` resolution and type inference, and filter with `is_valid` where they cannot build a
valid value directly. Formats are not checked, as JSON Schema 2020-12 treats them as annotations.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from agentkit import UserError

__all__ = (
    "ARRAY_KEYWORDS",
    "KEYWORDS",
    "OBJECT_KEYWORDS",
    "TYPES",
    "SchemaChecker",
    "canonical_json",
    "is_multiple",
    "json_schema_accepts",
    "json_type_matches",
)

TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
     "writeOnly", "discriminator", "$defs", "definitions", "format", "nullable", "contentMediaType"}
)  # fmt: skip
KEYWORDS = ANNOTATIONS | {
    "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties", "maxProperties",
    "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "anyOf", "oneOf", "allOf", "$ref",
}  # fmt: skip
OBJECT_KEYWORDS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
ARRAY_KEYWORDS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")
STRING_KEYWORDS = ("minLength", "maxLength", "pattern")
NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def json_schema_accepts(schema: Mapping[str, Any] | bool, value: Any) -> bool:
    """Whether `value` is valid for `schema`, for the keywords `from_json_schema` supports (formats unchecked)."""
    return SchemaChecker(schema).is_valid(schema, value)


def canonical_json(value: Any) -> str:
    """JSON text under which equal JSON values are equal (1 == 1.0, key order ignored, true != 1)."""

    def normal(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, list | tuple):
            return [normal(element) for element in item]
        if isinstance(item, dict):
            return {key: normal(element) for key, element in item.items()}
        return item

    return json.dumps(normal(value), sort_keys=True)


def json_type_matches(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    return isinstance(value, {"string": str, "array": list, "object": dict}[kind])


def is_multiple(value: float, multiple: float) -> bool:
    # The same arithmetic as the `jsonschema` package, so both agree on floats.
    if isinstance(multiple, float):
        quotient = value / multiple
        return math.isfinite(quotient) and int(quotient) == quotient
    return not value % multiple


class SchemaChecker:
    """One schema (the root, for `$ref`): resolves references, infers types, and checks values."""

    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self.root = root

    # --- structure --------------------------------------------------------------------------

    def resolve(self, schema: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        """`schema` with its `$ref` replaced by the target (sibling keywords kept)."""
        seen: set[str] = set()
        while "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#") or ref in seen:
                raise UserError(f"JSON schema at {where}: $ref {ref!r} must point inside this schema (e.g. #/$defs/X)")
            seen.add(ref)
            target: Any = self.root
            for token in ref[1:].split("/")[1:]:
                token = token.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or token not in target:
                    raise UserError(f"JSON schema at {where}: $ref {ref!r} points to nothing")
                target = target[token]
            if not isinstance(target, Mapping):
                raise UserError(f"JSON schema at {where}: $ref {ref!r} points to {target!r}, not a schema object")
            schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
        return schema

    def check_keywords(self, schema: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(schema, Mapping):
            raise UserError(f"JSON schema at {where}: expected a schema object or a boolean, got {schema!r}")
        unknown = sorted(set(schema) - KEYWORDS)
        if unknown:
            raise UserError(
                f"JSON schema at {where}: keyword {unknown[0]!r} is not supported by from_json_schema; "
                f"supported keywords: {', '.join(sorted(KEYWORDS - ANNOTATIONS))}"
            )
        return schema

    def merge(
        self, schema: Mapping[str, Any] | bool, branch: Mapping[str, Any] | bool, where: str
    ) -> Mapping[str, Any] | bool:
        """Both schemas' keywords in one (the branch wins a clash): enough for the schemas tools use."""
        if isinstance(schema, bool) or isinstance(branch, bool):
            return schema if branch is True else (branch if schema is True else False)
        return {**schema, **self.resolve(self.check_keywords(branch, where), where)}

    def types(self, schema: Mapping[str, Any]) -> list[str]:
        """The JSON types a typed schema allows, in a stable order; inferred from keywords when untyped."""
        kind = schema.get("type")
        if kind is None:
            for keywords, implied in (
                (OBJECT_KEYWORDS, "object"),
                (ARRAY_KEYWORDS, "array"),
                (STRING_KEYWORDS, "string"),
                (NUMBER_KEYWORDS, "number"),
            ):
                if any(keyword in schema for keyword in keywords):
                    return [implied, "null"] if schema.get("nullable") else [implied]
            return list(TYPES)
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if schema.get("nullable") and "null" not in kinds:
            kinds.append("null")
        return kinds

    def allowed_types(self, schema: Mapping[str, Any] | bool) -> set[str] | None:
        """The JSON types that can be valid for `schema`, or None when any type can."""
        if isinstance(schema, bool):
            return None if schema else set()
        schema = self.resolve(schema, "#")
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else list(schema["enum"])
            return {kind for kind in TYPES for value in values if json_type_matches(value, kind)}
        found: set[str] | None = set(self.types(schema)) if "type" in schema else None
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [self.allowed_types(branch) for branch in schema[key]]
                union = None if any(b is None for b in branches) else set().union(*(b for b in branches if b))
                found = union if found is None else (found if union is None else found & union)
        for branch in schema.get("allOf", ()):
            narrowed = self.allowed_types(branch)
            found = narrowed if found is None else (found if narrowed is None else found & narrowed)
        if found is not None and "number" in found:
            found.add("integer")
        return found

    # --- checking ----------------------------------------------------------------------------

    def is_valid(self, schema: Mapping[str, Any] | bool, value: Any) -> bool:
        if isinstance(schema, bool):
            return schema
        schema = self.resolve(schema, "#")
        if "type" in schema and not any(json_type_matches(value, kind) for kind in self.types(schema)):
            return False
        if "const" in schema and canonical_json(value) != canonical_json(schema["const"]):
            return False
        if "enum" in schema and canonical_json(value) not in {canonical_json(option) for option in schema["enum"]}:
            return False
        if not all(self.is_valid(branch, value) for branch in schema.get("allOf", ())):
            return False
        if "anyOf" in schema and not any(self.is_valid(branch, value) for branch in schema["anyOf"]):
            return False
        if "oneOf" in schema and sum(self.is_valid(branch, value) for branch in schema["oneOf"]) != 1:
            return False
        if isinstance(value, str):
            return self._string_ok(schema, value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._number_ok(schema, value)
        if isinstance(value, list):
            return self._array_ok(schema, value)
        if isinstance(value, dict):
            return self._object_ok(schema, value)
        return True

    @staticmethod
    def _string_ok(schema: Mapping[str, Any], value: str) -> bool:
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", math.inf):
            return False
        return "pattern" not in schema or re.search(schema["pattern"], value) is not None

    @staticmethod
    def _number_ok(schema: Mapping[str, Any], value: float) -> bool:
        checks: list[tuple[str, Callable[[Any], bool]]] = [
            ("minimum", lambda bound: value >= bound),
            ("maximum", lambda bound: value <= bound),
            ("exclusiveMinimum", lambda bound: value > bound),
            ("exclusiveMaximum", lambda bound: value < bound),
            ("multipleOf", lambda multiple: is_multiple(value, multiple)),
        ]
        return all(check(schema[key]) for key, check in checks if key in schema)

    def _array_ok(self, schema: Mapping[str, Any], value: list[Any]) -> bool:
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf):
            return False
        if schema.get("uniqueItems") and len({canonical_json(item) for item in value}) != len(value):
            return False
        prefix = schema.get("prefixItems", ())
        if not all(self.is_valid(item_schema, item) for item_schema, item in zip(prefix, value, strict=False)):
            return False
        items = schema.get("items", True)
        return all(self.is_valid(items, item) for item in value[len(prefix) :])

    def _object_ok(self, schema: Mapping[str, Any], value: dict[str, Any]) -> bool:
        if len(value) < schema.get("minProperties", 0) or len(value) > schema.get("maxProperties", math.inf):
            return False
        if any(name not in value for name in schema.get("required", ())):
            return False
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties", True)
        return all(self.is_valid(properties.get(name, additional), item) for name, item in value.items())
