"""The examples replay their committed cassettes offline, and the cassettes are reproducible."""

from __future__ import annotations

import importlib.util
import os
import random
import runpy
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agentkit.models import override_allow_model_requests

SEED_SCRIPT = """
import runpy, sys
from agentkit.models import override_allow_model_requests
with override_allow_model_requests(False):
    runpy.run_path("examples/seed_replay.py", run_name="__main__")
print("openai imported:", "openai" in sys.modules)
"""


def test_seed_example_replays_with_no_key_no_network_and_no_sdk(repository: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.endswith("_API_KEY")}
    completed = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT],
        cwd=repository,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    nodes, result, sdk = completed.stdout.splitlines()
    assert nodes == (
        "[ModelRequestNode(request=ModelRequest(parts=[UserPromptPart(content='What is the capital of France?', "
        "timestamp=datetime.datetime(2025, 3, 15, 12, 0, tzinfo=datetime.timezone.utc), part_kind='user-prompt')], "
        "kind='request')), CallToolsNode(model_response=ModelResponse(parts=[TextPart(content='Paris', "
        "part_kind='text')], model_name='gpt-4o', timestamp=datetime.datetime(2025, 3, 15, 12, 0, "
        "tzinfo=datetime.timezone.utc), kind='response')), End(data=FinalResult(data='Paris', tool_name=None, "
        "tool_call_id=None))]"
    )
    assert result == "Paris"
    assert sdk == "openai imported: False"


def test_dice_example_replays_without_rolling(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_rolling(low: int, high: int) -> int:
        raise AssertionError("roll_die is external: it must not run on replay")

    monkeypatch.chdir(repository)
    monkeypatch.setattr(random, "randint", no_rolling)
    with override_allow_model_requests(False):
        runpy.run_path("examples/cassette_dice_game.py", run_name="__main__")
    assert capsys.readouterr().out == "You rolled a 4, Anne. Your guess was right: you're a winner!\n"


def test_streaming_example_replays_its_chunks(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repository)
    with override_allow_model_requests(False):
        runpy.run_path("examples/cassette_streaming.py", run_name="__main__")
    assert capsys.readouterr().out.splitlines() == [
        "'Cassette'",
        "' spins again:\\n'",
        "'the same'",
        "' answers,'",
        "' node by node,\\n'",
        "'no network'",
        "' needed.'",
    ]


def load_generator(repository: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("cassette_generator", repository / "cassettes" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.anyio
async def test_committed_cassettes_are_what_the_generator_makes(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = load_generator(repository)
    state = random.getstate()
    try:
        await generator.generate(tmp_path)
    finally:
        random.setstate(state)
    capsys.readouterr()
    for name in generator.GENERATORS:
        assert (tmp_path / name).read_bytes() == (repository / "cassettes" / name).read_bytes(), name
