"""`capture_run_messages`: see the messages of a run even when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from agentkit.messages import ModelMessage

__all__ = ("capture_run_messages", "claim_captured_messages")


@dataclass
class _CapturedMessages:
    messages: list[ModelMessage]
    used: bool = False


_captured: ContextVar[_CapturedMessages | None] = ContextVar("agentkit_captured_messages", default=None)


@contextmanager
def capture_run_messages() -> Iterator[list[ModelMessage]]:
    """Collect the messages of the first run started inside the block, as they are made.

    Useful when a run raises: the list still holds every message up to the failure. A block
    nested in another yields the outer block's list.
    """
    current = _captured.get()
    if current is not None:
        yield current.messages
        return
    captured = _CapturedMessages([])
    token = _captured.set(captured)
    try:
        yield captured.messages
    finally:
        _captured.reset(token)


def claim_captured_messages() -> list[ModelMessage]:
    """The list a new run keeps its messages in: the captured list for the first run in a
    `capture_run_messages` block, a new list otherwise."""
    captured = _captured.get()
    if captured is None or captured.used:
        return []
    captured.used = True
    return captured.messages
