"""examples/pydantic_ai_support replays its committed cassettes offline, with no key, as its README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]


def test_the_pydantic_ai_example_replays_its_committed_cassettes_without_a_key() -> None:
    env = {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_BASE_URL"))}
    env.pop("AGENTKIT_RECORD_MODE", None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "examples/pydantic_ai_support"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 passed" in completed.stdout
    assert "2 run(s) replayed" in completed.stdout
    assert "0 run(s) recorded" in completed.stdout
