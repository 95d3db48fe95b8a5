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

import bisect
import re
from dataclasses import dataclass

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
"""Run-level keys that matter when met after the identity lines, and keys in a form the fast path does not read."""
_KEY_LINE = re.compile(r"  ([A-Za-z_]+) *:(?: |\n)")
_FIRST_KEY = re.compile(r"- ([A-Za-z_]+) *:(?: |\n)")


@dataclass(frozen=True)
class RunText:
    """The text of one run as it stands in the file, and what a quick look at it tells."""

    text: str
    """From its `- ` line to the line before the next run (or the end marker), newline included."""
    line: int
    """1-based line of the file where the run starts."""
    identity: str
    """The leading lines that hold the run's identity keys (a valid YAML sequence item on its own)."""
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
    identity_ends = [_identity_end(body, begin, end) for begin, end in zip(starts, ends, strict=True)]
    late: dict[int, set[str]] = {}
    for match in _LATE_KEYS.finditer(body):
        index = bisect.bisect_right(starts, match.start()) - 1
        if match.start() < identity_ends[index] and match.group(1) in IDENTITY_KEYS:
            continue  # an identity key among the identity lines: where it belongs
        requests = match.group(2)
        if requests is not None:
            kind = {"": "requests", " []": "no-requests"}.get(requests, "unusual")
        else:
            kind = match.group(1) or "unusual"
        late.setdefault(index, set()).add(kind)
    line = header.count("\n") + 1
    runs: list[RunText] = []
    for index, (begin, end) in enumerate(zip(starts, ends, strict=True)):
        chunk = body[begin:end]
        flags = late.get(index, set())
        identity_end = identity_ends[index]
        runs.append(
            RunText(
                text=chunk,
                line=line,
                identity=body[begin:identity_end] if identity_end > begin else chunk,
                complete=identity_end > begin and not (flags - {"requests", "no-requests", "error"}),
                has_requests="requests" in flags,
                has_error="error" in flags,
            )
        )
        line += chunk.count("\n")
    return Layout(header, tuple(runs))


def _identity_end(body: str, begin: int, end: int) -> int:
    """Where the identity lines of the run in `body[begin:end]` end: at its first other key, else `begin`.

    `begin` too when the run does not start with an identity key (not the writer's order).
    """
    first = _FIRST_KEY.match(body, begin, end)
    if first is None or first.group(1) not in IDENTITY_KEYS:
        return begin
    position = body.find("\n  ", begin, end)
    while position >= 0:
        match = _KEY_LINE.match(body, position + 1, end)
        if match is not None and match.group(1) not in IDENTITY_KEYS:
            return position + 1
        position = body.find("\n  ", position + 1, end)
    return begin
