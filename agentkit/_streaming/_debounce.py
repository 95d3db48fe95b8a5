"""Grouping stream items that arrive close together (`debounce_by`), as the reference release does."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterable
from typing import TypeVar

__all__ = ("group_by_time",)

T = TypeVar("T")


async def group_by_time(items: AsyncIterable[T], debounce_by: float | None) -> AsyncGenerator[list[T], None]:
    """Yield the items of `items` in groups: a group holds the items received within `debounce_by`
    seconds of its first one. `None` means no grouping (each item is its own group).

    The groups are the same as the reference release's; a group is handed out when the first
    item after it arrives (or the stream ends) rather than by a timer, so no task outlives a
    step of the stream and cancelling the consumer cancels nothing else.
    """
    if debounce_by is None:
        async for item in items:
            yield [item]
        return
    group: list[T] = []
    started = 0.0
    async for item in items:
        now = time.monotonic()
        if group and now - started >= debounce_by:
            yield group
            group = []
        if not group:
            started = now
        group.append(item)
    if group:
        yield group
