"""Mutation fuzzer of the cassette loader: runs thousands of mutated cassettes, prints one JSON line.

Each case is a committed cassette (YAML, or JSON) with one to three mutations
(tests/testing/cassette/cassette_mutations.py). A case passes when loading it is refused with a
`CassetteFormatError` naming the file, or when it loads, saves and loads back to equal runs;
anything else (another exception, a hang, running out of memory) is an escape. Cases run in a
worker process with a memory cap and a time limit per case, restarted after a hang or a crash.
Usage: `python tests/testing/cassette/fuzz_cassettes.py [--cases 3000] [--seed 1] [--escapes DIR]`;
`--escapes` writes each escaping input there, for the regression corpus.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import random
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cassette_mutations import BYTE_LEVEL, MUTATIONS, check_outcome, mutate, seeds

CASE_SECONDS = 10.0
MEMORY_BYTES = 2 * 1024**3


def worker(connection: Connection) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        while True:
            case = connection.recv()
            if case is None:
                return
            suffix, data = case
            path = scratch / f"case{suffix}"
            path.write_bytes(data)
            try:
                connection.send(("ok", check_outcome(path, scratch)))
            except BaseException as error:  # the fuzzer reports every escape, whatever it is
                connection.send(("escape", f"{type(error).__name__}: {str(error)[:300]}"))


class Pool:
    """One worker process, restarted when a case hangs or kills it."""

    def __init__(self) -> None:
        self.process: Any = None
        self.connection: Connection | None = None

    def start(self) -> Connection:
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=worker, args=(child,), daemon=True)
        self.process.start()
        self.connection = parent
        return parent

    def run(self, suffix: str, data: bytes) -> tuple[str, str]:
        connection = self.connection or self.start()
        connection.send((suffix, data))
        if connection.poll(CASE_SECONDS):
            try:
                result: tuple[str, str] = connection.recv()
                return result
            except EOFError:
                outcome = ("escape", f"worker died (exit code {self.process.exitcode})")
        else:
            outcome = ("escape", f"hang: no answer within {CASE_SECONDS:.0f} s")
        self.process.kill()
        self.process.join()
        self.connection = None
        return outcome


def main(cases: int, seed: int, escapes: Path | None) -> dict[str, Any]:
    rnd = random.Random(seed)
    inputs = seeds()
    names = sorted(inputs)
    pool = Pool()
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    start = time.perf_counter()
    for number in range(cases):
        seed_name = rnd.choice(names)
        is_json = seed_name.endswith(".json")
        textual = [name for name in MUTATIONS if name not in BYTE_LEVEL]
        count = rnd.choice([1, 1, 2, 3])
        chosen = [rnd.choice(textual if rnd.random() < 0.75 else list(MUTATIONS)) for _ in range(count)]
        data = mutate(inputs[seed_name], is_json, chosen, random.Random(rnd.getrandbits(64)))
        status, detail = pool.run(".json" if is_json else ".yaml", data)
        counts[detail if status == "ok" else "escaped"] += 1
        if status == "escape":
            kind = detail.split(":")[0]
            kinds[kind] += 1
            examples.setdefault(kind, f"{seed_name} {chosen}: {detail}")
            if escapes is not None:
                escapes.mkdir(parents=True, exist_ok=True)
                (escapes / f"case{number:05d}{'.json' if is_json else '.yaml'}").write_bytes(data)
    if pool.connection is not None:
        pool.connection.send(None)
        pool.process.join()
    return {
        "fuzz": "cassette_loader",
        "cases": cases,
        "seed": seed,
        "refused": counts["refused"],
        "round_trip": counts["round-trip"],
        "escaped": counts["escaped"],
        "escapes_by_kind": dict(kinds.most_common()),
        "examples": examples,
        "seconds": round(time.perf_counter() - start, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--escapes", type=Path)
    arguments = parser.parse_args()
    print(json.dumps(main(arguments.cases, arguments.seed, arguments.escapes)))
