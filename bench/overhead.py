"""Runtime overhead: median ms per run of an agent with two tools on TestModel.

Prints one JSON line: `agent.run` (async tools, and sync tools that run in worker threads),
consuming `agent.iter`, and `run_stream` of a 50-chunk text answer; each the median of several
timed batches, per run. With `--peer PYTHON` (an interpreter with `pydantic-ai-slim` installed)
the same agents are timed on the peer framework in the same invocation, for side-by-side figures
and their ratios. `--import` adds the median time of `import agentkit` in fresh processes (and of
`import pydantic_ai` with `--peer`, the two interleaved), measured inside the process so that
interpreter start-up, the same for both, is left out:

    python bench/overhead.py [asyncio|trio] [--peer /path/to/peer-venv/bin/python] [--import]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from agentkit import Agent, RunContext
from agentkit.models import TestModel

BATCH = 200
ROUNDS = 7
IMPORT_ROUNDS = 15
_TIMED_IMPORT = "import time; start = time.perf_counter(); import {module}; print((time.perf_counter() - start) * 1000)"


def two_tool_agent(model: TestModel) -> Agent[str, str]:
    agent: Agent[str, str] = Agent(model, deps_type=str, name="bench")

    @agent.tool
    async def get_weather(ctx: RunContext[str], city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    @agent.tool_plain
    async def local_time(utc_offset: int = 0) -> str:
        """Local time."""
        return f"{12 + utc_offset}:00"

    return agent


async def median_ms(operation: Callable[[], Awaitable[object]]) -> float:
    for _ in range(20):
        await operation()
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BATCH):
            await operation()
        rounds.append((time.perf_counter() - start) * 1000 / BATCH)
    return round(statistics.median(rounds), 4)


async def main() -> dict[str, object]:
    agent = two_tool_agent(TestModel())

    async def run() -> object:
        return await agent.run("What should I wear?", deps="x")

    async def iterate() -> object:
        async with agent.iter("What should I wear?", deps="x") as agent_run:
            async for _ in agent_run:
                pass
        return agent_run.result

    sync_agent: Agent[str, str] = Agent(TestModel(), deps_type=str)

    @sync_agent.tool
    def get_weather(ctx: RunContext[str], city: str) -> str:
        return f"sunny in {city}"

    @sync_agent.tool_plain
    def local_time(utc_offset: int = 0) -> str:
        return f"{12 + utc_offset}:00"

    async def run_sync_tools() -> object:
        return await sync_agent.run("What should I wear?", deps="x")

    text = "w" * 50
    streaming_agent = two_tool_agent(TestModel(custom_result_text=text, stream_chunk_size=1))

    async def stream() -> object:
        async with streaming_agent.run_stream("What should I wear?", deps="x") as result:
            async for _ in result.stream_text(delta=True):
                pass
        return result

    return {
        "benchmark": "overhead",
        "python": platform.python_version(),
        "agent_run_ms": await median_ms(run),
        "agent_run_sync_tools_ms": await median_ms(run_sync_tools),
        "iter_ms": await median_ms(iterate),
        "run_stream_50_chunks_ms": await median_ms(stream),
        "batch": BATCH,
        "rounds": ROUNDS,
    }


def import_ms(imports: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Median ms of `import module` in fresh processes, per label (label -> (interpreter, module)), interleaved."""
    times: dict[str, list[float]] = {label: [] for label in imports}
    for round_index in range(IMPORT_ROUNDS + 1):
        for label, (python, module) in imports.items():
            command = [python, "-c", _TIMED_IMPORT.format(module=module)]
            elapsed = float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            if round_index:  # the first round writes bytecode caches; it is not counted
                times[label].append(elapsed)
    return {label: round(statistics.median(values), 1) for label, values in times.items()}


def ratio(peer: object, mine: object) -> float:
    """How many times faster agentkit is than the peer."""
    return round(float(str(peer)) / float(str(mine)), 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", nargs="?", default="asyncio", choices=["asyncio", "trio"])
    parser.add_argument("--peer", metavar="PYTHON", help="interpreter with pydantic-ai-slim, for the peer figure")
    parser.add_argument("--import", dest="imports", action="store_true", help="also time `import` in fresh processes")
    arguments = parser.parse_args()
    result = anyio.run(main, backend=arguments.backend)
    result["backend"] = arguments.backend
    if arguments.peer:
        script = str(Path(__file__).with_name("peer_overhead.py"))
        peer = subprocess.run([arguments.peer, script], capture_output=True, text=True, check=True)
        result.update(json.loads(peer.stdout))
        result["peer_ratio_agent_run"] = ratio(result["peer_agent_run_ms"], result["agent_run_ms"])
        sync_tools = ratio(result["peer_agent_run_sync_tools_ms"], result["agent_run_sync_tools_ms"])
        result["peer_ratio_sync_tools"] = sync_tools
    if arguments.imports:
        imports = {"import_agentkit_ms": (sys.executable, "agentkit")}
        if arguments.peer:
            imports["peer_import_ms"] = (arguments.peer, "pydantic_ai")
        result.update(import_ms(imports))
        if arguments.peer:
            result["peer_ratio_import"] = ratio(result["peer_import_ms"], result["import_agentkit_ms"])
    print(json.dumps(result))
