"""Building the errors replay raises: where the run diverged, what was expected, what came, a diff.

Their texts go to test logs, so every live and recorded value in them is scrubbed with the
cassette's `Scrubber` (the same rules as the file) before it is shown. The fix they give is said in
the user's own context (`RecordAdvice`): the pytest option for the plugin's cassettes, the marker's
keyword when the marker fixes the mode, `cassette()`'s keyword in code.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agentkit_testing._cassette._io import to_yaml_text
from agentkit_testing._cassette._records import RecordedRun
from agentkit_testing._exceptions import CassetteDivergence, UnrecordedRequest
from agentkit_testing._matching import FIELD_LABELS, Mismatch
from agentkit_testing._secrets import Scrubber

__all__ = (
    "IN_CODE",
    "UNKNOWN_CONTEXT",
    "RecordAdvice",
    "advising",
    "current_advice",
    "describe_run",
    "divergence",
    "render_value",
    "unified_diff",
    "unrecorded",
)

_MAX_LINES = 40
_NOT_IGNORABLE = frozenset({"messages", "model", "agent", "message_history", "nodes"})
_TOOL_FIELDS = frozenset({"function_tools", "result_tools"})


@dataclass(frozen=True)
class RecordAdvice:
    """How the user records a cassette again, in the context the cassette was opened in.

    `context` is `pytest` (the plugin's cassette: the command-line option), `marker` (the plugin's
    cassette with the mode fixed on the `agentkit_cassette` marker), `code` (a `cassette()` block),
    or `None` when unknown (both the option and the keyword are said).
    """

    context: Literal["pytest", "marker", "code"] | None = "code"

    def record_again(self, mode: str) -> str:
        """The words that tell the user to record with `mode`, e.g. `pass record_mode='rewrite' to cassette()`."""
        if self.context == "pytest":
            return f"run pytest with --agentkit-record-mode={mode}"
        if self.context == "marker":
            return f"set record_mode={mode!r} on the agentkit_cassette marker"
        if self.context == "code":
            return f"pass record_mode={mode!r} to cassette()"
        return f"pytest: --agentkit-record-mode={mode}; cassette(): record_mode={mode!r}"


UNKNOWN_CONTEXT = RecordAdvice(None)
"""Advice for errors raised where the context is not known: both the option and the keyword are said."""

IN_CODE = RecordAdvice("code")
"""Advice for cassettes opened in code (`cassette()`, `ReplayModel`): the `record_mode=` keyword."""

_ADVICE: ContextVar[RecordAdvice | None] = ContextVar("agentkit_testing_record_advice", default=None)


def current_advice() -> RecordAdvice:
    """The advice for a cassette opened now: `cassette()` reads it once, when its block starts."""
    return _ADVICE.get() or IN_CODE


@contextlib.contextmanager
def advising(advice: RecordAdvice) -> Iterator[None]:
    """Open cassettes with `advice` inside this block (the pytest plugin wraps only its own cassette's start)."""
    token = _ADVICE.set(advice)
    try:
        yield
    finally:
        _ADVICE.reset(token)


def render_value(value: Any) -> str:
    """`value` as readable YAML text (plain strings as they are)."""
    if isinstance(value, str):
        return value if value.endswith("\n") or not value else value + "\n"
    return to_yaml_text(value)


def unified_diff(expected: str, actual: str, *, expected_name: str = "recorded", actual_name: str = "live") -> str:
    """A unified diff from `expected` to `actual`, as text."""
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True), expected_name, actual_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def describe_run(run: RecordedRun) -> str:
    agent = f"agent {run.agent!r}" if run.agent is not None else "no agent name"
    return f"run {run.id!r} ({agent}, model {run.model}, prompt {_short(run.user_prompt)})"


def divergence(
    *,
    path: Path | None,
    run: RecordedRun,
    node_index: int,
    where: str,
    mismatch: Mismatch,
    preamble: str = "",
    scrubber: Scrubber | None = None,
    advice: RecordAdvice = UNKNOWN_CONTEXT,
) -> CassetteDivergence:
    """The `CassetteDivergence` for `mismatch` in `run` at node `node_index`, its values scrubbed.

    `scrubber` is the cassette's; without one the default rules apply. The diff is computed
    between the scrubbed texts, so it never shows a secret either. `advice` says how to record
    again in the user's context (by default both the pytest option and the keyword).
    """
    scrubber = (scrubber if scrubber is not None else Scrubber()).refresh()
    label = FIELD_LABELS.get(mismatch.field, mismatch.field)
    if mismatch.field in _TOOL_FIELDS and mismatch.subject is not None:
        what = f"the definition of tool {mismatch.subject!r} changed since the recording"
    else:
        if mismatch.subject is not None:
            label = f"{label} of {mismatch.subject!r}"
        what = f"the {label} {_verb(label)} from the recording"
    expected = render_value(scrubber.scrub(mismatch.expected))
    actual = render_value(scrubber.scrub(mismatch.actual))
    diff = unified_diff(expected, actual)
    cassette = str(path) if path is not None else "an in-memory cassette"
    hint = f"If the change is intended, record the cassette again ({advice.record_again('rewrite')})"
    if mismatch.field not in _NOT_IGNORABLE:
        hint += f", or leave this field out of matching with Matching(ignore={{{mismatch.field!r}}})"
    header = scrubber.scrub_text(
        f"Replay of {cassette} diverged in {describe_run(run)} at node {node_index} ({where}): {what}.\n{preamble}"
    )
    message = (
        f"{header}expected (recorded):\n{_indent(expected)}came (live):\n{_indent(actual)}diff:\n{_indent(diff)}{hint}."
    )
    return CassetteDivergence(
        message,
        path=path,
        run_id=run.id,
        node_index=node_index,
        field=mismatch.field,
        expected=expected,
        actual=actual,
        diff=diff,
    )


def unrecorded(message: str, *, path: Path | None, scrubber: Scrubber | None = None) -> UnrecordedRequest:
    """An `UnrecordedRequest` whose message (which may quote live prompts and arguments) is scrubbed."""
    scrubber = (scrubber if scrubber is not None else Scrubber()).refresh()
    return UnrecordedRequest(scrubber.scrub_text(message), path=path)


def _verb(label: str) -> str:
    return "differ" if label.split(" of ")[0].endswith(("settings", "tools")) else "differs"


def _indent(text: str) -> str:
    lines = text.splitlines()
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], f"... ({len(lines) - _MAX_LINES} more lines)"]
    return "".join(f"    {line}\n" for line in lines) if lines else "    (nothing)\n"


def _short(text: str, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"
