"""Cassette loading speed: the committed cassettes and a 1,000-run cassette, YAML and JSON.

Prints one JSON line. For each input it gives the median seconds (over a few rounds) of parsing
alone (`parse_document`: the safe YAML/JSON loader and its checks) and of the whole
`Cassette.load` (parsing, then validating the runs); for the 1,000-run YAML file also the lazy
load `cassette()` does (`Cassette.load(path, lazy=True)`: identities now, runs on first use).
The 1,000-run cassette is made as bench/replay.py makes it, from the committed dice-game run
(two tools, two requests), copied with new ids and prompts.
CPU time (`process_time`) is reported, as it is less disturbed by other work on a shared
machine. Usage: `python bench/cassette_load.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from agentkit_testing import Cassette
from agentkit_testing._cassette._io import file_format_for, parse_document

REPOSITORY = Path(__file__).resolve().parents[1]
LOAD_RUNS = 1000


def committed_cassettes() -> list[Path]:
    """The agentkit cassettes committed under cassettes/ (not the vcrpy ones under tests/models)."""
    return sorted(path for path in (REPOSITORY / "cassettes").rglob("*.yaml"))


def cpu_seconds(operation: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.process_time()
        operation()
        timings.append(time.process_time() - start)
    return round(statistics.median(timings), 5)


def parse_all(paths: list[Path]) -> None:
    for path in paths:
        parse_document(path.read_bytes(), path, file_format_for(path))


def load_all(paths: list[Path]) -> None:
    for path in paths:
        Cassette.load(path)


def load_all_lazily(paths: list[Path]) -> None:
    for path in paths:
        Cassette.load(path, lazy=True)


def thousand_runs(directory: Path) -> tuple[Path, Path]:
    template = Cassette.load(REPOSITORY / "cassettes" / "dice_game.yaml").runs[0]
    runs = [
        dataclasses.replace(template, id=f"run-{index + 1}", user_prompt=f"What should I wear on day {index}?")
        for index in range(LOAD_RUNS)
    ]
    yaml_path, json_path = directory / "thousand.yaml", directory / "thousand.json"
    Cassette(yaml_path, runs).save()
    Cassette(json_path, runs).save()
    return yaml_path, json_path


def main(rounds: int) -> dict[str, object]:
    committed = committed_cassettes()
    result: dict[str, object] = {
        "benchmark": "cassette_load",
        "python": platform.python_version(),
        "yaml_c_loader": hasattr(yaml, "CSafeLoader"),
        "rounds": rounds,
        "committed_files": len(committed),
        "committed_parse_cpu_s": cpu_seconds(lambda: parse_all(committed), rounds * 4),
        "committed_load_cpu_s": cpu_seconds(lambda: load_all(committed), rounds * 4),
    }
    with tempfile.TemporaryDirectory() as name:
        for path in thousand_runs(Path(name)):
            kind = path.suffix.lstrip(".")
            result[f"load_1000_runs_{kind}_bytes"] = path.stat().st_size
            files = [path]
            result[f"parse_1000_runs_{kind}_cpu_s"] = cpu_seconds(lambda: parse_all(files), rounds)  # noqa: B023
            result[f"load_1000_runs_{kind}_cpu_s"] = cpu_seconds(lambda: load_all(files), rounds)  # noqa: B023
            if kind == "yaml":
                result["load_1000_runs_yaml_lazy_cpu_s"] = cpu_seconds(lambda: load_all_lazily(files), rounds)  # noqa: B023
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    print(json.dumps(main(parser.parse_args().rounds)))
