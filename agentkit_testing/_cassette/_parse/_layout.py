"""The writer's YAML layout: a cassette's text split into its header, one text per run, and the end marker.

`Cassette.save` writes YAML as a header (comment, `format`, `version`, `tool_definitions`,
`runs:`), then each run as a block-sequence item at column 0 (`- id: ...`, every further line
indented or blank), then `end_of_cassette: true`. Because the writer controls this layout, the
boundaries between runs are plain line boundaries, and a run's text can be kept, and written back,
byte for byte. `split_layout` is strict: any line at column 0 of the runs section that is not the
start of a run, a file not ending with the end marker, or a header without a `runs:` line gives
`None`, and the caller parses and writes the file whole instead.

`split_layout` also finds, for each run, the lines that hold its identity (`id`, `agent`, `model`,
`user_prompt`, ... : the keys the writer puts first), so that loading can index runs without
parsing the rest of their text, and flags the runs whose text does not follow the writer's key
order (those are decoded in full when loaded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ("END_MARKER", "IDENTITY_KEYS", "RUNS_LINE", "Layout", "RunText", "split_layout")

RUNS_LINE = "runs:\n"
END_MARKER = "end_of_cassette: true\n"

IDENTITY_KEYS = frozenset({"id", "label", "agent", "model", "user_prompt", "streamed", "deps", "concurrent", "runtime"})
"""The keys of a run that say which run it is; the writer puts them first, in this set's usual order."""

_COLUMN_ZERO = re.compile(r"\n(?:[^ \n-]|-(?! ))")
"""A line at column 0 that is neither blank, indented, nor the start of a block-sequence item."""
_LATE_KEYS = re.compile(
    r"\n  (?:(id|label|agent|model|user_prompt|streamed|deps|concurrent|runtime|message_history|error) *:"
    r"|requests:([^\n]*)\n|([\"'?&*!|>{\[]))"
)
"""Run-level keys that matter after the identity lines, and keys in a form the fast path does not read."""
_FIRST_KEY = re.compile(r"- ([A-Za-z_]+) *:(?: |\n)")
_KEY_LINE = re.compile(r"  ([A-Za-z_]+) *:(?: |\n|$)")
_SIMPLE_LINE = re.compile(r"([a-z_]+): ([A-Za-z][^\n]*|'(?:[^'\n]|'')*')")
"""An identity line whose value is a plain word-led string or a single-quoted one (checked further)."""
_YAML_WORDS = frozenset(
    variant
    for word in ("null", "true", "false", "yes", "no", "on", "off")
    for variant in (word, word.capitalize(), word.upper())
)
"""Plain scalars YAML 1.1 reads as null or booleans: never taken for text by the fast path."""
_PLAIN = r"(?!(?:" + "|".join(sorted(_YAML_WORDS)) + r")\n)[A-Za-z](?:[^\n:#\t]|:(?! )|(?<! )#)*(?<![ :])"
_VALUE = rf"({_PLAIN}|'(?:[^'\n]|'')*')"
_NULLABLE_VALUE = rf"({_PLAIN}|'(?:[^'\n]|'')*'|null)"
_IDENTITY_BLOCK = re.compile(
    rf"- id: {_VALUE}\n(?:  label: {_NULLABLE_VALUE}\n)?  agent: {_NULLABLE_VALUE}\n  model: {_VALUE}\n"
    rf"  user_prompt: {_VALUE}\n(?:  (streamed): true\n)?(?:  deps: {_NULLABLE_VALUE}\n)?(?:  (concurrent): true\n)?"
    rf"(?:  runtime: {_NULLABLE_VALUE}\n)?(?=  [A-Za-z_])"
)
"""The identity lines of a run as the writer writes them, every value a one-line plain or single-quoted string."""
_BLOCK_KEYS = ("id", "label", "agent", "model", "user_prompt", "streamed", "deps", "concurrent", "runtime")
_NOT_ASCII = re.compile(r"[^\n\x20-\x7e]")
_BOOLEAN_KEYS = frozenset({"streamed", "concurrent"})
_NULLABLE_KEYS = frozenset({"agent", "label", "deps", "runtime"})
_REQUIRED_KEYS = frozenset({"id", "agent", "model", "user_prompt"})


class RunText(NamedTuple):
    """The text of one run as it stands in the file, and what a quick look at it tells."""

    text: str
    """From its `- ` line to the line before the next run (or the end marker), newline included."""
    line: int
    """1-based line of the file where the run starts."""
    identity: str
    """The leading lines that hold the run's identity keys (a valid YAML sequence item on its own)."""
    fields: dict[str, Any] | None
    """The identity read straight off those lines when each is a simple `key: value` (`None`: parse them)."""
    complete: bool
    """Whether `identity` holds every identity key of the run and the run has no message history,
    so it can be indexed without parsing the rest; else the run is decoded in full when loaded."""
    has_requests: bool
    """Whether the run lists at least one request (`requests: []` is none)."""
    has_error: bool


@dataclass(frozen=True)
class Layout:
    """A YAML cassette cut along the writer's boundaries."""

    header: str
    """The text before the first run, ending with the `runs:` line."""
    runs: tuple[RunText, ...]


def split_layout(text: str) -> Layout | None:
    """The header and run texts of `text`, or `None` when it does not follow the writer's layout exactly."""
    if text.startswith(RUNS_LINE):
        start = 0
    else:
        found = text.find("\n" + RUNS_LINE)
        if found < 0:
            return None
        start = found + 1
    body_start = start + len(RUNS_LINE)
    if not text.endswith("\n" + END_MARKER) or len(text) - len(END_MARKER) <= body_start:
        return None
    body = text[body_start : len(text) - len(END_MARKER)]
    if not body.startswith("- ") or _COLUMN_ZERO.search(body) is not None:
        return None
    header = text[:body_start]
    starts = [0]
    position = body.find("\n- ")
    while position >= 0:
        starts.append(position + 1)
        position = body.find("\n- ", position + 1)
    ends = [*starts[1:], len(body)]
    line = header.count("\n") + 1
    runs: list[RunText] = []
    for begin, end in zip(starts, ends, strict=True):
        block = _IDENTITY_BLOCK.match(body, begin, end)
        identity_end: int
        fields: dict[str, Any] | None
        if block is not None and _NOT_ASCII.search(body, begin, block.end()) is None:
            identity_end, fields = block.end(), _block_fields(block)
        else:
            identity_end, fields = _identity_lines(body, begin, end)
        flags: set[str] = set()
        for match in _LATE_KEYS.finditer(body, max(identity_end - 1, begin), end):
            requests = match.group(2)
            if requests is not None:
                flags.add({"": "requests", " []": "no-requests"}.get(requests, "unusual"))
            else:
                flags.add(match.group(1) or "unusual")
        chunk = body[begin:end]
        runs.append(
            RunText(
                text=chunk,
                line=line,
                identity=body[begin:identity_end] if identity_end > begin else chunk,
                fields=fields,
                complete=identity_end > begin and not (flags - {"requests", "no-requests", "error"}),
                has_requests="requests" in flags,
                has_error="error" in flags,
            )
        )
        line += chunk.count("\n")
    return Layout(header, tuple(runs))


def _block_fields(block: re.Match[str]) -> dict[str, Any]:
    """The identity fields of an `_IDENTITY_BLOCK` match."""
    fields: dict[str, Any] = {}
    for key, value in zip(_BLOCK_KEYS, block.groups(), strict=True):
        if value is None:
            continue
        if key in _BOOLEAN_KEYS:
            fields[key] = True
        elif value == "null":
            fields[key] = None
        elif value.startswith("'"):
            fields[key] = value[1:-1].replace("''", "'")
        else:
            fields[key] = value
    return fields


def _identity_lines(body: str, begin: int, end: int) -> tuple[int, dict[str, Any] | None]:
    """Where the identity lines of the run in `body[begin:end]` end (its first other key), and their values.

    The end is `begin` when the run does not start with an identity key (not the writer's order).
    The values are `None` unless every identity line is a simple `key: value` read exactly as YAML
    reads it (`_simple_value`); then the lines need no parsing.
    """
    first = _FIRST_KEY.match(body, begin, end)
    if first is None or first.group(1) not in IDENTITY_KEYS:
        return begin, None
    fields: dict[str, Any] | None = {}
    position = begin
    while position < end:
        line_end = body.find("\n", position, end)
        if line_end < 0:
            line_end = end
        if position == begin:
            content = body[position + 2 : line_end]
        elif body.startswith("  ", position) and body[position + 2 : position + 3] not in (" ", "-", "#", ""):
            content = body[position + 2 : line_end]
            key = _KEY_LINE.match(body, position, line_end)
            if key is not None and key.group(1) not in IDENTITY_KEYS:
                break
        else:
            fields = None  # a continuation line, a comment: the lines need parsing
            position = line_end + 1
            continue
        if fields is not None:
            fields = _add_simple_field(fields, content)
        position = line_end + 1
    if fields is not None and not fields.keys() >= _REQUIRED_KEYS:
        fields = None
    return min(position, end), fields


def _add_simple_field(fields: dict[str, Any], content: str) -> dict[str, Any] | None:
    """`fields` with the `key: value` of `content` added, or `None` if the line is not that simple."""
    match = _SIMPLE_LINE.fullmatch(content)
    if match is None:
        return None
    key, value = match.groups()
    if key not in IDENTITY_KEYS or key in fields:
        return None
    if key in _BOOLEAN_KEYS:
        if value not in ("true", "false"):
            return None
        fields[key] = value == "true"
    elif value == "null" and key in _NULLABLE_KEYS:
        fields[key] = None
    else:
        text = _simple_value(value)
        if text is None:
            return None
        fields[key] = text
    return fields


def _simple_value(value: str) -> str | None:
    """The string YAML reads from `value`, when that is certain: else `None` (and YAML parses it)."""
    if not value.isprintable():  # no tabs, no line breaks YAML knows (NEL, LS, PS), nothing it refuses
        return None
    if value.startswith("'"):
        return value[1:-1].replace("''", "'")
    if value in _YAML_WORDS or ": " in value or " #" in value or value.endswith((" ", ":")):
        return None
    return value
