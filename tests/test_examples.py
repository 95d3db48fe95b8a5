"""The runnable examples work as documented, offline and without any API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def offline_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_BASE_URL"))}
    env.pop("AGENTKIT_RECORD_MODE", None)
    return env


def test_demo_prints_the_node_sequence() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "agentkit"], capture_output=True, text=True, check=True, env=offline_env()
    )
    headers = [
        line.split(" ", 1)[0] + " " + line.split(" ", 1)[1].split("(", 1)[0]
        for line in completed.stdout.splitlines()
        if line.startswith("[")
    ]
    assert headers == [
        "[0] ModelRequestNode",
        "[1] CallToolsNode",
        "[2] ModelRequestNode",
        "[3] CallToolsNode",
        "[4] End",
    ]
    assert "result: " in completed.stdout


def test_pytest_plugin_example_replays_its_committed_cassette() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "examples/test_support_agent.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=offline_env(),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 run(s) replayed" in completed.stdout


def test_seed_era_port_runs_with_only_its_imports_changed() -> None:
    completed = subprocess.run(
        [sys.executable, "examples/seed_port_agent.py"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=offline_env(),
        check=True,
    )
    # The same lines pydantic-ai 0.0.39 prints for this program with `pydantic_ai` in its imports.
    assert completed.stdout.splitlines() == [
        "support_advice='Your balance is $123.45.' block_card=False risk=1",
        "audit log: ['balance shown']",
        "last request: ['Final result processed.', 'noted']",
        "request events: start:tool-call delta",
        'tool call: customer_balance {"include_pending": true}',
        "tool result: customer_balance 123.45",
        "request events: start:text start:tool-call final:final_result delta start:tool-call",
        'tool call: record_audit {"note": "balance shown"}',
        "tool result: record_audit noted",
        "end: Your balance is $123.45.",
        "streamed: support_advice='a' block_card=False risk=0",
        "requests: 2",
    ]
