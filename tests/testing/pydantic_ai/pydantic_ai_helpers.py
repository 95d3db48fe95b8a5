"""Helpers for the pydantic-ai adapter tests."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.run import AgentRunResult


def run_sync(agent: Agent[None, Any], prompt: str, **kwargs: Any) -> AgentRunResult[Any]:
    """`agent.run(prompt)` to the end, on a fresh event loop closed afterwards.

    pydantic-ai's `run_sync` leaves the thread's event loop open (it reuses it), which a later
    `asyncio.run` in the same process drops unclosed: a ResourceWarning, an error under
    `filterwarnings = error`.
    """
    return asyncio.run(agent.run(prompt, **kwargs))
