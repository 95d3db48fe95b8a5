"""Replay speed: median ms per replayed run, and the time to load a cassette of 1,000 runs.

Prints one JSON line. The replayed run is an agent with two tools (the tools run for real, as
they do on replay), from a cassette already loaded in memory; the figure is the median over
several timed batches of the per-run time. The load figure is the median of a few loads of a
1,000-run YAML cassette (made by copying recorded runs), with `yaml.CSafeLoader` when libyaml is
present. Wall-clock figures are the headline; CPU-time figures (`process_time`) are printed too,
as they are less disturbed by other work on a shared machine. Usage:
`python bench/replay.py [asyncio|trio] [--peer PYTHON]`; `--peer` times the peer route (the
established framework's OpenAI model replayed by vcrpy, `bench/peer_replay.py`) in the same run.
`python bench/replay.py --pydantic-ai` instead times one pydantic-ai run replayed by agentkit's
pydantic-ai cassette and by vcrpy at the HTTP level, side by side (`bench/peer_adapter_replay.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import anyio
import yaml
from overhead import two_tool_agent  # the same agent as the overhead benchmark (bench/ is on sys.path)

from agentkit.models import TestModel
from agentkit_testing import Cassette, cassette

BATCH = 200
ROUNDS = 7
LOAD_RUNS = 1000
LOAD_ROUNDS = 5


async def replay_ms(directory: Path) -> tuple[float, float]:
    agent = two_tool_agent(TestModel())
    path = directory / "replay.yaml"
    with cassette(path, "rewrite"):
        await agent.run("What should I wear?", deps="x")
    loaded = Cassette.load(path)
    with cassette(loaded, allow_playback_repeats=True):
        for _ in range(20):
            await agent.run("What should I wear?", deps="x")
        rounds, cpu_rounds = [], []
        for _ in range(ROUNDS):
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(BATCH):
                await agent.run("What should I wear?", deps="x")
            rounds.append((time.perf_counter() - start) * 1000 / BATCH)
            cpu_rounds.append((time.process_time() - cpu_start) * 1000 / BATCH)
    return round(statistics.median(rounds), 4), round(statistics.median(cpu_rounds), 4)


def load_seconds(directory: Path) -> tuple[float, float, int]:
    source = Cassette.load(directory / "replay.yaml")
    template = source.runs[0]
    runs = [
        dataclasses.replace(template, id=f"run-{index + 1}", user_prompt=f"What should I wear on day {index}?")
        for index in range(LOAD_RUNS)
    ]
    path = directory / "thousand.yaml"
    Cassette(path, runs).save()
    timings, cpu_timings = [], []
    for _ in range(LOAD_ROUNDS):
        start, cpu_start = time.perf_counter(), time.process_time()
        loaded = Cassette.load(path)
        timings.append(time.perf_counter() - start)
        cpu_timings.append(time.process_time() - cpu_start)
        assert len(loaded.runs) == LOAD_RUNS
    return round(statistics.median(timings), 4), round(statistics.median(cpu_timings), 4), path.stat().st_size


def main(backend: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        per_run, per_run_cpu = anyio.run(replay_ms, directory, backend=backend)
        load, load_cpu, size = load_seconds(directory)
    return {
        "benchmark": "replay",
        "python": platform.python_version(),
        "backend": backend,
        "replay_ms_per_run": per_run,
        "replay_cpu_ms_per_run": per_run_cpu,
        "load_1000_runs_s": load,
        "load_1000_runs_cpu_s": load_cpu,
        "cassette_1000_runs_bytes": size,
        "yaml_c_loader": hasattr(yaml, "CSafeLoader"),
        "batch": BATCH,
        "rounds": ROUNDS,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", nargs="?", default="asyncio", choices=["asyncio", "trio"])
    parser.add_argument(
        "--peer", metavar="PYTHON", help="interpreter with pydantic-ai-slim[openai] and vcrpy, for the peer route"
    )
    parser.add_argument(
        "--pydantic-ai",
        action="store_true",
        help="replay a pydantic-ai agent's run with agentkit's cassette and with vcrpy, side by side",
    )
    arguments = parser.parse_args()
    if arguments.pydantic_ai:
        from peer_adapter_replay import side_by_side

        with tempfile.TemporaryDirectory() as name:
            figures = anyio.run(side_by_side, Path(name), backend=arguments.backend)
        print(json.dumps({"benchmark": "replay --pydantic-ai", "python": platform.python_version(), **figures}))
        raise SystemExit(0)
    result = main(arguments.backend)
    if arguments.peer:
        script = str(Path(__file__).with_name("peer_replay.py"))
        peer = subprocess.run([arguments.peer, script], capture_output=True, text=True, check=True)
        result.update(json.loads(peer.stdout))
    print(json.dumps(result))
