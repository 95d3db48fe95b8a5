"""Re-recording an unchanged cassette: how many bytes change (must be 0) and what it costs.

Prints one JSON line. A 100-run cassette is recorded live through the public API (an agent with
two tools on TestModel, the system clock, 100 prompts), then recorded again, unchanged, in each
mode that re-records (`rewrite`, `all`); for each, the bytes of changed lines (a line diff of
the two files) and the seconds of the re-recording block (the runs, the comparison, the save).

Usage: `python bench/rerecord.py [--runs 100]`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from overhead import two_tool_agent  # bench/ is on sys.path

from agentkit.models import TestModel
from agentkit_testing import RecordMode, cassette


def record(path: Path, mode: RecordMode, runs: int) -> float:
    agent = two_tool_agent(TestModel())
    start = time.perf_counter()
    with cassette(path, mode):
        for index in range(runs):
            agent.run_sync(f"What should I wear on day {index}?", deps="x")
    return time.perf_counter() - start


def bytes_changed(before: bytes, after: bytes) -> int:
    """The bytes of the lines a line diff shows as removed or added."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changed = 0
    for tag, old_start, old_end, new_start, new_end in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag != "equal":
            changed += sum(map(len, old[old_start:old_end])) + sum(map(len, new[new_start:new_end]))
    return changed


def main(runs: int) -> dict[str, object]:
    report: dict[str, object] = {"benchmark": "rerecord", "python": platform.python_version(), "runs": runs}
    with tempfile.TemporaryDirectory() as name:
        original = Path(name) / "original.yaml"
        report["record_s"] = round(record(original, "once", runs), 3)
        report["file_bytes"] = original.stat().st_size
        for mode in ("rewrite", "all"):
            path = Path(name) / f"{mode}.yaml"
            shutil.copyfile(original, path)
            seconds = record(path, mode, runs)
            report[mode] = {
                "bytes_changed": bytes_changed(original.read_bytes(), path.read_bytes()),
                "seconds": round(seconds, 3),
            }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    print(json.dumps(main(parser.parse_args().runs)))
