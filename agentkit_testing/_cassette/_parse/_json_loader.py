"""The JSON loader of cassettes: strict JSON (no NaN or Infinity), no duplicate keys, bounded depth and numbers.

`json.loads` does the parsing, with hooks that refuse duplicate keys, the non-standard
constants, integers over the digit limit and floats that overflow. Depth is checked on the
result, and strings for lone surrogates when the text holds such an escape. A refused file is
then scanned token by token (the error path only) to name the line and field of the first problem.
"""

from __future__ import annotations

import json
import json.decoder
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from agentkit_testing._cassette._parse._limits import (
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    has_lone_surrogate,
    may_hold_surrogates,
    no_gc,
    refuse,
    shorten,
)
from agentkit_testing._exceptions import CassetteFormatError

__all__ = ("load_json",)

_scan_string: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_TOKEN = re.compile(r'[ \t\n\r]*(?:(")|([{}\[\],:])|(NaN|-?Infinity|true|false|null|[-+0-9.eE]+))')


def _mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise CassetteFormatError("duplicate key")  # located by `_first_problem`
    return mapping


def _integer(token: str) -> int:
    if len(token) > MAX_INTEGER_DIGITS and len(token.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise CassetteFormatError("integer too long")  # located by `_first_problem`
    return int(token)


def _float(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise CassetteFormatError("float overflow")  # located by `_first_problem`
    return number


def _constant(name: str) -> NoReturn:
    raise CassetteFormatError(f"{name} is not JSON")  # located by `_first_problem`


def load_json(text: str, path: Path) -> Any:
    """The data of a JSON cassette; `CassetteFormatError` naming the file, line and field if it cannot be."""
    try:
        with no_gc():
            document = json.loads(
                text, object_pairs_hook=_mapping, parse_int=_integer, parse_float=_float, parse_constant=_constant
            )
    except json.JSONDecodeError as error:
        refuse(
            path,
            error.lineno,
            None,
            f"cassette is not valid JSON ({error.msg}, column {error.colno}); is it truncated or corrupt?",
        )
    except (CassetteFormatError, RecursionError) as error:
        _refuse_first_problem(text, path, str(error))
    if may_hold_surrogates(text) or _too_deep(document):
        problem = _first_problem(text)
        if problem is not None:
            _refuse_first_problem(text, path, problem[2])
    return document


def _too_deep(document: Any) -> bool:
    stack: list[tuple[Any, int]] = [(document, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth = pop()
        if depth > MAX_DEPTH:
            return True
        for item in value.values() if type(value) is dict else value if type(value) is list else ():
            if type(item) is dict or type(item) is list:
                push((item, depth + 1))
    return False


def _refuse_first_problem(text: str, path: Path, fallback: str) -> NoReturn:
    problem = _first_problem(text)
    if problem is None:
        refuse(path, None, None, f"cassette cannot be loaded ({fallback})")
    position, location, detail = problem
    refuse(path, text.count("\n", 0, position) + 1, location, detail)


class _Frame:
    """An open JSON object or array while scanning: where the scan is inside it."""

    def __init__(self, is_object: bool) -> None:
        self.is_object = is_object
        self.index = 0
        self.key: str | None = None
        self.keys: dict[str, int] = {}
        """The keys read so far, with where each starts."""
        self.expects_key = is_object


def _location(frames: list[_Frame]) -> list[str | int]:
    location: list[str | int] = []
    for frame in frames:
        if frame.is_object and frame.key is not None:
            location.append(frame.key)
        elif not frame.is_object:
            location.append(frame.index)
    return location


def _first_problem(text: str) -> tuple[int, list[str | int], str] | None:
    """(position, field, detail) of the first thing in the text a cassette may not hold, if any."""
    frames: list[_Frame] = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        start, position = match.start(match.lastindex or 0), match.end()
        frame = frames[-1] if frames else None
        if match.group(1):
            try:
                value, position = _scan_string(text, position)
            except ValueError:
                return None
            if frame is not None and frame.expects_key:
                frame.expects_key = False
                frame.key = value
                if value in frame.keys:
                    first = text.count("\n", 0, frame.keys[value]) + 1
                    detail = f"duplicate key {value!r} (first at line {first}): a mapping holds each key once; "
                    return start, _location(frames), detail + "remove or rename one"
                frame.keys[value] = start
            if has_lone_surrogate(value):
                detail = "a string holds a lone surrogate escape (such as \\ud800), which is no character"
                return start, _location(frames), detail
        elif match.group(2):
            punctuation = match.group(2)
            if punctuation in "{[":
                frames.append(_Frame(punctuation == "{"))
                if len(frames) > MAX_DEPTH:
                    detail = f"lists and mappings nest more than {MAX_DEPTH} levels deep; a cassette never does"
                    return start, _location(frames[:-1]), detail + ": is it corrupt?"
            elif punctuation in "}]":
                if frames:
                    frames.pop()
            elif punctuation == "," and frame is not None:
                frame.expects_key = frame.is_object
                frame.index += 1
        else:
            problem = _number_problem(match.group(3))
            if problem is not None:
                return start, _location(frames), problem


def _number_problem(token: str) -> str | None:
    if token in ("true", "false", "null"):
        return None
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not a JSON number: cassettes hold finite numbers only"
    if not any(character in token for character in ".eE"):
        digits = len(token.lstrip("-+"))
        if digits > MAX_INTEGER_DIGITS:
            return f"an integer of {digits} digits; cassettes hold integers of at most {MAX_INTEGER_DIGITS}"
        return None
    try:
        number = float(token)
    except ValueError:
        return None
    if not math.isfinite(number):
        return f"{shorten(token)} is not a finite number: it overflows to infinity"
    return None
