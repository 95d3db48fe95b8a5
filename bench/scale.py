"""Cassettes at scale: what loading, appending to and replaying from big cassettes cost.

Prints one JSON line. For a 1,000-run and a 10,000-run YAML cassette (built through the public
API: one recorded two-tool run, copied with new ids and prompts, saved by `Cassette.save`), each
figure is measured in a fresh process so that peak memory is the figure's own:

- `load_s`: `Cassette.load` of the file;
- `peak_rss_growth_mb`: how much the process's peak RSS grew during that load;
- `append_s`: `cassette(path, 'new_episodes')` around one new run: load, record it, save;
- `replay_one_s`: `cassette(path)` around one replayed run (the last run of the file): load, replay.

Usage: `python bench/scale.py [--sizes 1000,10000]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from overhead import two_tool_agent  # bench/ is on sys.path

from agentkit import ModelRequest, UserPromptPart
from agentkit.models import TestModel
from agentkit_testing import Cassette, Matching, RecordedRun, cassette

PROMPT = "What should I wear on day {}?"


def build(path: Path, size: int) -> None:
    """A cassette of `size` runs: one recorded run, copied with new ids and prompts."""
    seed = path.with_suffix(".seed.yaml")
    agent = two_tool_agent(TestModel())
    with cassette(seed, "rewrite"):
        agent.run_sync(PROMPT.format(0), deps="x")
    template = Cassette.load(seed).runs[0]
    runs = [with_prompt(template, f"run-{index + 1}", PROMPT.format(index)) for index in range(size)]
    Cassette(path, runs).save()
    seed.unlink()


def with_prompt(run: RecordedRun, run_id: str, prompt: str) -> RecordedRun:
    """A copy of `run` with another id and user prompt (in its identity and in its first request)."""
    first, *rest = run.requests
    messages = tuple(
        dataclasses.replace(
            message,
            parts=[
                dataclasses.replace(part, content=prompt) if isinstance(part, UserPromptPart) else part
                for part in message.parts
            ],
        )
        if isinstance(message, ModelRequest)
        else message
        for message in first.messages
    )
    requests = (dataclasses.replace(first, messages=messages), *rest)
    return dataclasses.replace(run, id=run_id, user_prompt=prompt, requests=requests)


def measure(figure: str, path: Path, size: int) -> dict[str, float]:
    """One figure, in this (fresh) process."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if figure == "load":
        loaded = Cassette.load(path)
        assert len(loaded.runs) == size
    elif figure == "append":
        with cassette(path, "new_episodes"):
            two_tool_agent(TestModel()).run_sync("A question nobody asked before", deps="x")
    elif figure == "replay_one":
        with cassette(path, matching=Matching(allow_unplayed_runs=True)):
            anyio.run(_replay_last, size)
    else:
        raise SystemExit(f"unknown figure {figure!r}")
    elapsed = time.perf_counter() - start
    growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"seconds": round(elapsed, 3), "peak_rss_growth_mb": round(growth_kb / 1024, 1)}


async def _replay_last(size: int) -> None:
    await two_tool_agent(TestModel()).run(PROMPT.format(size - 1), deps="x")


def in_fresh_process(figure: str, path: Path, size: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", figure, str(path), str(size)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def main(sizes: list[int]) -> dict[str, object]:
    report: dict[str, object] = {"benchmark": "scale", "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as name:
        for size in sizes:
            path = Path(name) / f"runs-{size}.yaml"
            build(path, size)
            megabytes = round(path.stat().st_size / 1e6, 2)
            load = in_fresh_process("load", path, size)
            replay = in_fresh_process("replay_one", path, size)
            append = in_fresh_process("append", path, size)
            report[str(size)] = {
                "file_mb": megabytes,
                "load_s": load["seconds"],
                "peak_rss_growth_mb": load["peak_rss_growth_mb"],
                "append_s": append["seconds"],
                "replay_one_s": replay["seconds"],
            }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated run counts")
    parser.add_argument("--measure", nargs=3, metavar=("FIGURE", "PATH", "SIZE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        figure, file, count = arguments.measure
        print(json.dumps(measure(figure, Path(file), int(count))))
    else:
        print(json.dumps(main([int(size) for size in arguments.sizes.split(",")])))
