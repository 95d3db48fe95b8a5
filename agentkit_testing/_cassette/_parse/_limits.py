"""What a cassette file may hold (size, nesting, integer digits), and what the YAML and JSON loaders share.

Cassettes are untrusted input. The limits keep a hostile or broken file from costing more
memory or time than its size suggests, and keep every file that loads savable again.
"""

from __future__ import annotations

import contextlib
import gc
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from agentkit_testing._exceptions import CassetteError, CassetteFormatError

__all__ = (
    "MAX_CASSETTE_BYTES",
    "MAX_DEPTH",
    "MAX_INTEGER_DIGITS",
    "check_savable",
    "format_field",
    "has_lone_surrogate",
    "may_hold_surrogates",
    "no_gc",
    "refuse",
    "shorten",
)

MAX_CASSETTE_BYTES = 64 * 1024 * 1024
"""The largest cassette file read (64 MiB; a run is typically 1-10 KB)."""

MAX_DEPTH = 100
"""How deeply lists and mappings may nest, the top-level mapping being depth 1.

A recorded run needs about ten levels plus the depth of its tool arguments and results; saving
(pydantic's serializer, the YAML emitter) fails somewhere above 250.
"""

MAX_INTEGER_DIGITS = 1000
"""The most decimal digits an integer may have: well under Python's default `int`/`str`
conversion limit (4,300 digits), so that whatever loads can be written back."""

_MAX_INTEGER_BITS = math.ceil(MAX_INTEGER_DIGITS * math.log2(10))
"""Integers of more bits have more than `MAX_INTEGER_DIGITS` digits; near it, the digits are counted."""

_SURROGATE_ESCAPE = re.compile(r"\\(?:u[dD][89a-fA-F]|U0000[dD][89a-fA-F])")


def may_hold_surrogates(text: str) -> bool:
    """Whether the text has an escape (`\\ud800`...) that could decode to a surrogate code point.

    UTF-8 text itself cannot hold one (decoding refuses it), so only escaped strings need checking.
    """
    return _SURROGATE_ESCAPE.search(text) is not None


def has_lone_surrogate(value: str) -> bool:
    """Whether `value` holds a surrogate code point that is not part of a valid pair."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def format_field(location: Sequence[str | int]) -> str:
    """`runs[0].requests[1].node` from `["runs", 0, "requests", 1, "node"]`; a very deep place is elided."""
    if len(location) > 16:
        tail = format_field(location[-4:])
        return f"{format_field(location[:8])}.<{len(location) - 12} levels>{'' if tail[0] == '[' else '.'}{tail}"
    text = ""
    for element in location:
        text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else str(element))
    return text


def refuse(path: Path, line: int | None, location: Sequence[str | int] | None, detail: str) -> NoReturn:
    """Raise the `CassetteFormatError` for a file that cannot be loaded: `path:line: in field: detail`."""
    where = f"{path}:{line}" if line is not None else str(path)
    field = format_field(location) if location else None
    within = f"in {field}: " if field else ""
    raise CassetteFormatError(f"{where}: {within}{detail}", path=path, line=line, field=field)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large tree of new objects.

    Loading a big cassette creates hundreds of thousands of containers; each collection pass
    rescans them all, which made loading 1,000 runs five times slower. None of them is garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def shorten(value: str, limit: int = 40) -> str:
    """`value` quoted, cut to about `limit` characters for an error message."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value):,} characters)"


def check_savable(document: object, path: Path) -> None:
    """Refuse to write a document the loader would refuse, naming the first value past a limit.

    A tool may return NaN, a 5,000-digit integer or a 300-deep structure; written as is, the file
    could never be loaded again. Failing at record time, before anything is written, loses nothing.
    """
    stack: list[tuple[object, list[str | int]]] = [(document, [])]
    while stack:
        value, location = stack.pop()
        problem = _unsavable(value, len(location))
        if problem is not None:
            raise CassetteError(
                f"{path}: cannot save the cassette: {format_field(location) or 'the document'} {problem}; "
                "nothing was written. Make the tool or result return JSON data within these limits, or "
                "rewrite the run in a before_record hook",
                path=path,
            )
        if isinstance(value, dict):
            stack.extend((item, [*location, str(key)]) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, [*location, index]) for index, item in enumerate(value))


def _unsavable(value: object, depth: int) -> str | None:
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels"
    if isinstance(value, float) and not math.isfinite(value):
        return f"is {value!r}, which JSON and cassettes cannot hold"
    if isinstance(value, int) and not isinstance(value, bool) and _too_many_digits(value):
        return f"is an integer of more than {MAX_INTEGER_DIGITS} digits"
    if isinstance(value, str) and has_lone_surrogate(value):
        return "holds a lone surrogate code point, which UTF-8 cannot encode"
    return None


def _too_many_digits(value: int) -> bool:
    bits = value.bit_length()
    if bits > _MAX_INTEGER_BITS:
        return True
    return bits > _MAX_INTEGER_BITS - 8 and len(str(abs(value))) > MAX_INTEGER_DIGITS
