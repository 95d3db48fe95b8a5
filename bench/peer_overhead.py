"""The overhead benchmark's agent, on the peer framework (pydantic-ai), for a side-by-side figure.

Run by `bench/overhead.py --peer PYTHON` with an interpreter that has `pydantic-ai-slim`
installed; prints one JSON line. The agent mirrors `overhead.two_tool_agent`: two async tools
on the peer's TestModel, one run per `agent.run` call.
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


async def main() -> dict[str, object]:
    agent = two_tool_agent()

    async def run() -> object:
        return await agent.run("What should I wear?", deps="x")

    for _ in range(20):
        await run()
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BATCH):
            await run()
        rounds.append((time.perf_counter() - start) * 1000 / BATCH)
    return {
        "peer": f"pydantic-ai-slim {version('pydantic-ai-slim')}",
        "peer_agent_run_ms": round(statistics.median(rounds), 4),
    }


if __name__ == "__main__":
    print(json.dumps(anyio.run(main)))
