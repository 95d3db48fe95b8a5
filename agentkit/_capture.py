"""`capture_run_messages`: see the messages of a run even when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from agentkit.messages import ModelMessage

__all__ = ("capture_run_messages", "captured_messages_list")

_captured: ContextVar[list[ModelMessage] | None] = ContextVar("agentkit_captured_messages", default=None)


@contextmanager
def capture_run_messages() -> Iterator[list[ModelMessage]]:
    """Collect the messages of the first run started inside the block, as they are made.

    Useful when a run raises: the list still holds every message up to the failure.
    """
    messages: list[ModelMessage] = []
    token = _captured.set(messages)
    try:
        yield messages
    finally:
        _captured.reset(token)


def captured_messages_list() -> list[ModelMessage] | None:
    """The list a new run should write its messages into, if one is being captured and still empty."""
    messages = _captured.get()
    return messages if messages is not None and not messages else None
