"""Conformance scenarios: code written for pydantic-ai v0.0.39, run unchanged on agentkit but for its imports.

Each scenario in `scenarios/` imports `pydantic_ai` exactly as the reference release's documentation
does. `expected/<name>.txt` holds what the scenario printed under pydantic-ai-slim 0.0.39 (timestamps
and other volatile values normalized). The test runs each scenario with its import lines rewritten to
`agentkit` and compares.

    python -m tests.conformance.run                      # agentkit: print a pass/fail table
    python -m tests.conformance.run --reference PYTHON   # regenerate expected/ with that interpreter
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
EXPECTED = HERE / "expected"

_IMPORT = re.compile(r"^(\s*)(from|import) pydantic_ai(?=[\s.])", re.MULTILINE)
_VOLATILE = [
    (re.compile(r"datetime\.datetime\([^()]*(?:\([^()]*\)[^()]*)*\)"), "datetime.datetime(...)"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<timestamp>"),
    (re.compile(r" at 0x[0-9a-f]+"), " at 0x..."),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
]


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS.glob("s*.py"))


def ported_source(name: str) -> str:
    """The scenario with only its import lines changed, as a user porting it would."""
    return _IMPORT.sub(r"\1\2 agentkit", (SCENARIOS / f"{name}.py").read_text())


def normalize(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text.rstrip() + "\n"


def run_scenario(python: str, source: str) -> str:
    environment = {**os.environ, "OPENAI_API_KEY": "sk-conformance-dummy", "ANTHROPIC_API_KEY": "sk-ant-dummy"}
    completed = subprocess.run(
        [python, "-c", source],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=HERE,
    )
    output = completed.stdout
    if completed.returncode != 0:
        last = completed.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        output += f"<exit {completed.returncode}: {last[0]}>\n"
    return normalize(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", metavar="PYTHON", help="regenerate expected/ with this interpreter")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--diff", action="store_true", help="print the diff of each failing scenario")
    args = parser.parse_args()
    names = args.names or scenario_names()
    if args.reference:
        EXPECTED.mkdir(exist_ok=True)
        for name in names:
            source = (SCENARIOS / f"{name}.py").read_text()
            (EXPECTED / f"{name}.txt").write_text(run_scenario(args.reference, source))
            print("wrote", name)
        return
    passed = []
    for name in names:
        expected = (EXPECTED / f"{name}.txt").read_text()
        actual = run_scenario(sys.executable, ported_source(name))
        ok = actual == expected
        passed.append(ok)
        print(f"{'pass' if ok else 'FAIL'} {name}")
        if not ok and args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    expected.splitlines(True), actual.splitlines(True), "pydantic-ai 0.0.39", "agentkit"
                )
            )
    print(json.dumps({"scenarios": len(passed), "passed": sum(passed)}))


if __name__ == "__main__":
    main()
