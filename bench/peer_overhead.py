"""The overhead benchmark's agents, on the peer framework (pydantic-ai), for side-by-side figures.

Run by `bench/overhead.py --peer PYTHON` with an interpreter that has `pydantic-ai-slim`
installed; prints one JSON line. The agents mirror the overhead benchmark's: two async tools,
and the same two tools as plain (sync) functions, on the peer's TestModel, one run per
`agent.run` call.
"""

from __future__ import annotations

import json
import statistics
import time
from importlib.metadata import version

import anyio
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel

BATCH = 200
ROUNDS = 7


def two_tool_agent() -> Agent[str, str]:
    agent: Agent[str, str] = Agent(TestModel(), deps_type=str, name="bench")

    @agent.tool
    async def get_weather(ctx: RunContext[str], city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    @agent.tool_plain
    async def local_time(utc_offset: int = 0) -> str:
        """Local time."""
        return f"{12 + utc_offset}:00"

    return agent


def sync_tool_agent() -> Agent[str, str]:
    agent: Agent[str, str] = Agent(TestModel(), deps_type=str)

    @agent.tool
    def get_weather(ctx: RunContext[str], city: str) -> str:
        return f"sunny in {city}"

    @agent.tool_plain
    def local_time(utc_offset: int = 0) -> str:
        return f"{12 + utc_offset}:00"

    return agent


async def median_ms(agent: Agent[str, str]) -> float:
    for _ in range(20):
        await agent.run("What should I wear?", deps="x")
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BATCH):
            await agent.run("What should I wear?", deps="x")
        rounds.append((time.perf_counter() - start) * 1000 / BATCH)
    return round(statistics.median(rounds), 4)


async def main() -> dict[str, object]:
    return {
        "peer": f"pydantic-ai-slim {version('pydantic-ai-slim')}",
        "peer_agent_run_ms": await median_ms(two_tool_agent()),
        "peer_agent_run_sync_tools_ms": await median_ms(sync_tool_agent()),
    }


if __name__ == "__main__":
    print(json.dumps(anyio.run(main)))
