"""Cassettes at scale: what loading, appending to and replaying from big cassettes cost.

Prints one JSON line. For a 1,000-run and a 10,000-run YAML cassette (built through the public
API: one recorded two-tool run, copied with new ids and prompts, saved by `Cassette.save`), each
figure is measured in a fresh process so that peak memory is the figure's own:

- `load_s`: `Cassette.load(path, lazy=True)` of the file, as `cassette()` loads it (run identities
  now, the rest of each run on first use);
- `peak_rss_growth_mb`: how much the process's peak RSS grew during that load (Linux: the
  process's own high-water mark, `VmHWM`; `ru_maxrss` would start at the peak of this script,
  which builds the file, since Linux keeps it across fork and exec);
- `load_whole_s`, `load_whole_peak_rss_growth_mb`: `Cassette.load(path)`, which reads and checks
  every run now;
- `append_s`: `cassette(path, 'new_episodes')` around one new run: load, record it, save;
- `replay_one_s`: `cassette(path)` around one replayed run (the last run of the file): load, replay;
- `append_warm_s`, `replay_one_warm_s`: the same, in a process that has already run the agent once
  without a cassette, so the figure leaves out what any first run costs (importing the event loop,
  building the tools' schemas: ~0.2 s here, the same for every cassette size);
- `append_over_load`, `replay_one_over_load` (and `_warm_`): those figures divided by the load time
  measured just before them (the median of the repetitions' ratios);
- `append_cpu_over_load`, ... : the same ratios of the CPU time the process used in those windows
  (`time.process_time`): on a machine shared with other work, waiting for a core inflates wall times
  at random, CPU times far less; they leave out waiting for the disk (an append's fsync), so read
  them beside the wall-time ratios, not instead;
- `replay_model_ms_per_run`: a bare `ReplayModel` over the loaded file serving 100 runs spread
  over it, per run (constant in the file's size when runs are indexed, not scanned).

The script runs on versions without lazy loading too (then `load_s` is the whole load), so it can
time the main branch and a change in the same invocation: with `--compare CHECKOUT` the figures are
measured for this code and for that checkout in turn, `--repeat` times, and the medians are given
(the checkout's under `compare`), so both see the same load on a shared machine.

Usage: `python bench/scale.py [--sizes 1000,10000] [--compare CHECKOUT] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from overhead import two_tool_agent  # bench/ is on sys.path

from agentkit import ModelRequest, UserPromptPart
from agentkit.models import TestModel
from agentkit_testing import Cassette, Matching, RecordedRun, ReplayModel, cassette

PROMPT = "What should I wear on day {}?"
REPLAYED = 100


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
    warm = figure.endswith("_warm")
    figure = figure.removesuffix("_warm")
    if warm:  # what the first agent run of any process costs, paid before the clock starts
        two_tool_agent(TestModel()).run_sync("A warm-up question", deps="x")
    before = peak_rss_kb()
    start, cpu_start = time.perf_counter(), time.process_time()
    if figure == "load":
        loaded = load_as_cassette_does(path)
        assert len(loaded.runs) == size
    elif figure == "load_whole":
        loaded = Cassette.load(path)
        assert len(loaded.runs) == size
    elif figure == "replay_model":
        replay = ReplayModel(load_as_cassette_does(path))
        agent = two_tool_agent(TestModel())
        agent.run_sync(PROMPT.format(1), deps="x", model=replay)  # the first run indexes the file
        start = time.perf_counter()
        for index in range(0, size, size // REPLAYED):
            agent.run_sync(PROMPT.format(index), deps="x", model=replay)
        return {"ms_per_run": round((time.perf_counter() - start) * 1000 / REPLAYED, 3)}
    elif figure == "append":
        with cassette(path, "new_episodes"):
            two_tool_agent(TestModel()).run_sync("A question nobody asked before", deps="x")
    elif figure == "replay_one":
        with cassette(path, matching=Matching(allow_unplayed_runs=True)):
            anyio.run(_replay_last, size)
    else:
        raise SystemExit(f"unknown figure {figure!r}")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    growth_mb = round((peak_rss_kb() - before) / 1024, 1)
    return {"seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 4), "peak_rss_growth_mb": growth_mb}


def peak_rss_kb() -> int:
    """This process's peak resident memory so far, in KiB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux: ru_maxrss (KiB on Linux, bytes on macOS; only Linux is measured here)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))


def load_as_cassette_does(path: Path) -> Cassette:
    if "lazy" in inspect.signature(Cassette.load).parameters:
        return Cassette.load(path, lazy=True)  # type: ignore[call-arg, unused-ignore]
    return Cassette.load(path)


async def _replay_last(size: int) -> None:
    await two_tool_agent(TestModel()).run(PROMPT.format(size - 1), deps="x")


def in_fresh_process(figure: str, path: Path, size: int, code: str | None = None) -> dict[str, float]:
    """One figure measured in a new interpreter; `code`: a checkout to put first on `PYTHONPATH`."""
    environment = dict(os.environ)
    if code is not None:
        environment["PYTHONPATH"] = code
    if figure.startswith("append"):  # appending changes the file: work on a copy
        copy = path.with_name(f"append-{path.name}")
        shutil.copyfile(path, copy)
        path = copy
    done = subprocess.run(
        [sys.executable, __file__, "--measure", figure, str(path), str(size)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
        env=environment,
    )
    if done.returncode != 0:
        raise SystemExit(f"measuring {figure} ({code or 'this checkout'}) failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


PAIRED = ("load", "append", "append_warm", "replay_one", "replay_one_warm")
"""Measured one after the other in each repetition, so each ratio to `load` is of figures taken together."""
APART = ("load_whole", "replay_model")


def figures(path: Path, size: int, codes: list[str | None], repeat: int) -> list[dict[str, float]]:
    """Each figure for each checkout in `codes` (`None`: this one), measured in turn, `repeat` times: the medians."""
    samples: list[dict[str, list[dict[str, float]]]] = [{figure: [] for figure in PAIRED + APART} for _ in codes]
    for _ in range(repeat):
        for code, sample in zip(codes, samples, strict=True):
            for figure in PAIRED:
                sample[figure].append(in_fresh_process(figure, path, size, code))
        for figure in APART:
            for code, sample in zip(codes, samples, strict=True):
                sample[figure].append(in_fresh_process(figure, path, size, code))
    return [_summary(sample) for sample in samples]


def _summary(sample: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    def median(figure: str, key: str = "seconds") -> float:
        return round(statistics.median(result[key] for result in sample[figure]), 3)

    summary = {
        "load_s": median("load"),
        "peak_rss_growth_mb": median("load", "peak_rss_growth_mb"),
        "load_whole_s": median("load_whole"),
        "load_whole_peak_rss_growth_mb": median("load_whole", "peak_rss_growth_mb"),
        "append_s": median("append"),
        "append_warm_s": median("append_warm"),
        "replay_one_s": median("replay_one"),
        "replay_one_warm_s": median("replay_one_warm"),
        "replay_model_ms_per_run": median("replay_model", "ms_per_run"),
    }
    for clock, infix in (("seconds", ""), ("cpu_seconds", "_cpu")):
        loads = [result[clock] for result in sample["load"]]
        for figure in ("append", "append_warm", "replay_one", "replay_one_warm"):
            ratios = [result[clock] / load for result, load in zip(sample[figure], loads, strict=True)]
            summary[f"{figure}{infix}_over_load"] = round(statistics.median(ratios), 2)
    return summary


def main(sizes: list[int], compare: str | None, repeat: int) -> dict[str, object]:
    report: dict[str, object] = {"benchmark": "scale", "python": platform.python_version(), "repeat": repeat}
    with tempfile.TemporaryDirectory() as name:
        for size in sizes:
            path = Path(name) / f"runs-{size}.yaml"
            build(path, size)
            codes: list[str | None] = [None] if compare is None else [None, compare]
            entry: dict[str, object] = {"file_mb": round(path.stat().st_size / 1e6, 2)}
            ours, *theirs = figures(path, size, codes, repeat)
            entry.update(ours)
            if theirs:
                entry["compare"] = theirs[0]
            report[str(size)] = entry
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated run counts")
    parser.add_argument("--compare", metavar="CHECKOUT", help="also time the code of another checkout (PYTHONPATH)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each figure (medians are given)")
    parser.add_argument("--measure", nargs=3, metavar=("FIGURE", "PATH", "SIZE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        figure, file, count = arguments.measure
        print(json.dumps(measure(figure, Path(file), int(count))))
    else:
        sizes = [int(size) for size in arguments.sizes.split(",")]
        print(json.dumps(main(sizes, arguments.compare, arguments.repeat)))
