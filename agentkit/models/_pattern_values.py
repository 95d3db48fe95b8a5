"""A string matching a regular expression, so TestModel can honour `pattern` constraints.

Covers what tool schemas use (literals, classes, ranges, repeats, groups, alternatives,
anchors); for anything else (look-arounds, back-references, negated classes) it gives up and
returns `None`, and the caller falls back to a plain value.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

__all__ = ("example_for_pattern",)

# The stdlib regex parser: private, but stable across supported versions, and without stubs.
_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")

_CATEGORY_SAMPLES = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_WORD": "abcdefghijklmnopqrstuvwxyz",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": "abcdefghijklmnopqrstuvwxyz",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_NOT_SPACE": "abcdefghijklmnopqrstuvwxyz",
}


class _Unsupported(Exception):
    pass


def example_for_pattern(pattern: str, seed: int = 0) -> str | None:
    """A string that `re.search(pattern, ...)` accepts, varied by `seed`; `None` if it cannot make one."""
    try:
        text = _emit(_parser.parse(pattern), seed)
    except (re.error, _Unsupported, RecursionError):
        return None
    return text if re.search(pattern, text) else None


def _emit(items: Any, seed: int) -> str:
    return "".join(_emit_one(str(op), value, seed) for op, value in items)


def _emit_one(op: str, value: Any, seed: int) -> str:
    if op == "LITERAL":
        return chr(value)
    if op == "NOT_LITERAL":
        return "a" if chr(value) != "a" else "b"
    if op == "ANY":
        return "a"
    if op == "AT":
        return ""
    if op == "IN":
        return _emit_class(value, seed)
    if op == "CATEGORY":
        return _category(value, seed)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = value
        return _emit(sub, seed) * int(low)
    if op == "SUBPATTERN":
        return _emit(value[-1], seed)
    if op == "ATOMIC_GROUP":
        return _emit(value, seed)
    if op == "BRANCH":
        alternatives = value[1]
        return _emit(alternatives[seed % len(alternatives)], seed)
    raise _Unsupported(op)


def _emit_class(items: Any, seed: int) -> str:
    if items and str(items[0][0]) == "NEGATE":
        raise _Unsupported("NEGATE")
    op, value = items[seed % len(items)]
    op = str(op)
    if op == "LITERAL":
        return chr(value)
    if op == "RANGE":
        low, high = value
        return chr(low + seed % (high - low + 1))
    if op == "CATEGORY":
        return _category(value, seed)
    raise _Unsupported(op)


def _category(value: Any, seed: int) -> str:
    samples = _CATEGORY_SAMPLES.get(str(value))
    if samples is None:
        raise _Unsupported(str(value))
    return samples[seed % len(samples)]
