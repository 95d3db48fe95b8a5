"""The seed's `Agent.iter` example runs with only its import changed and prints the seed's listing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "seed_iter.py"


def _normalize(listing: str) -> str:
    listing = re.sub(r"datetime\.datetime\([^()]*(\([^()]*\))?[^()]*\)", "datetime.datetime(...)", listing)
    listing = re.sub(r"\s+", "", listing)
    return re.sub(r",([\])])", r"\1", listing)


def _seed_listing() -> str:
    tree = ast.parse(EXAMPLE.read_text())
    main = next(node for node in tree.body if isinstance(node, ast.AsyncFunctionDef) and node.name == "main")
    strings = [
        node.value.value
        for node in main.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    ]
    assert len(strings) == 1, "the example keeps the seed's printed listing as its one bare string"
    return strings[0]


def test_example_differs_from_the_seed_only_in_its_import() -> None:
    source = EXAMPLE.read_text()
    assert "from agentkit import Agent\n" in source
    assert "pydantic_ai" not in source
    assert "agent = Agent('openai:gpt-4o')" in source


def test_example_prints_the_seed_listing_then_paris() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    )
    printed_nodes, printed_data = completed.stdout.strip().splitlines()
    assert _normalize(printed_nodes) == _normalize(_seed_listing())
    assert printed_data == "Paris"


def test_normalize_keeps_differences_visible() -> None:
    assert _normalize("TextPart(content='Paris')") != _normalize("TextPart(content='Lyon')")
    assert _normalize("a(timestamp=datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),)") == _normalize(
        "a(timestamp=datetime.datetime(...))"
    )
