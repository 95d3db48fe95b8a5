"""What the pytest plugin costs a test session that never uses agentkit, and what the harness costs at first use.

Prints one JSON line of medians over fresh processes, in ms of CPU time (user + system: less
disturbed than wall time by other work on a shared machine), for each source tree given
(`--tree`, default this repository; several trees are measured interleaved, so a before/after
pair shares the machine's load):

- `plugin_import_ms`: `import agentkit_testing._pytest_plugin` after `import pytest` (pytest is
  loaded before its plugins, so this is what the entry point adds), timed inside the process;
- `package_import_ms`: `import agentkit_testing`, timed inside the process;
- `first_use_ms`: importing `examples/cassette_dice_game.py` and replaying its run from its
  cassette, timed inside the process (the cost of actually using the harness);
- `collect_ms` / `collect_without_plugin_ms`: the CPU time of `pytest --co -q` on a three-test
  project that does not use agentkit, with the plugin loaded (by its entry point) and with
  `-p no:agentkit`; `run_ms` / `run_without_plugin_ms`: the same for `pytest -q`.

Usage: `python bench/plugin_import.py [--rounds N] [--tree DIR ...]` (the interpreter running it
must have agentkit installed, so the entry point is registered; `--tree` puts DIR first on
`PYTHONPATH`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
_TIMED = "import time{pre}\nstart = time.process_time()\n{code}\nprint((time.process_time() - start) * 1000)"
_FIRST_USE = (
    "import runpy, sys, io, contextlib; sys.argv = ['x']\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    runpy.run_path('examples/cassette_dice_game.py', run_name='__main__')"
)
_TINY_TESTS = "".join(f"def test_{number}():\n    assert {number} + 1 > {number}\n\n\n" for number in range(3))


def _in_process_ms(tree: Path, code: str, pre: str = "") -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = _TIMED.format(pre=pre, code=code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tree, env=env)
    return float(done.stdout.strip().splitlines()[-1])


def _pytest_ms(tree: Path, project: Path, *arguments: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, capture_output=True, text=True, check=True, cwd=project, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000


def measure(trees: list[Path], rounds: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_tiny.py").write_text(_TINY_TESTS)
        cases = {
            "plugin_import_ms": lambda tree: _in_process_ms(
                tree, "import agentkit_testing._pytest_plugin", "; import pytest"
            ),
            "package_import_ms": lambda tree: _in_process_ms(tree, "import agentkit_testing"),
            "first_use_ms": lambda tree: _in_process_ms(tree, _FIRST_USE),
            "collect_ms": lambda tree: _pytest_ms(tree, project, "--co"),
            "collect_without_plugin_ms": lambda tree: _pytest_ms(tree, project, "--co", "-p", "no:agentkit"),
            "run_ms": lambda tree: _pytest_ms(tree, project),
            "run_without_plugin_ms": lambda tree: _pytest_ms(tree, project, "-p", "no:agentkit"),
        }
        times: dict[str, dict[str, list[float]]] = {str(tree): {name: [] for name in cases} for tree in trees}
        for round_index in range(rounds + 1):
            for name, case in cases.items():
                for tree in trees:
                    elapsed = case(tree)
                    if round_index:  # the first round writes bytecode caches; it is not counted
                        times[str(tree)][name].append(elapsed)
    return {
        tree: {name: round(statistics.median(values), 1) for name, values in figures.items()}
        for tree, figures in times.items()
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tree", action="append", type=Path, help="source tree to measure (repeatable)")
    arguments = parser.parse_args()
    trees = [tree.resolve() for tree in arguments.tree or [REPOSITORY]]
    result = {"benchmark": "plugin_import", "python": platform.python_version(), "rounds": arguments.rounds}
    result["trees"] = measure(trees, arguments.rounds)  # type: ignore[assignment]
    print(json.dumps(result))
