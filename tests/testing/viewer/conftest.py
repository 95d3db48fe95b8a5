"""Cassettes for the page tests, recorded here from agents on FunctionModel (no network)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentkit import Agent, ModelMessage, ModelResponse, TextPart, ToolCallPart
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing import cassette

HOSTILE = "<script>alert('owned')</script><img src=x onerror=alert(1)>"


def _answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if len(messages) == 1:
        calls = [ToolCallPart("lookup", {"key": "k1"}, "call-1"), ToolCallPart("lookup", {"key": "k2"}, "call-2")]
        return ModelResponse(parts=calls)
    return ModelResponse(parts=[TextPart(f"done after {len(messages)} messages")])


def _agent(returned: str) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(FunctionModel(_answer), name="support", system_prompt="Be brief.")

    @agent.tool_plain
    def lookup(key: str) -> str:
        """Look a key up."""
        return f"{key}: {returned}"

    return agent


@pytest.fixture
def record(tmp_path: Path) -> Callable[..., Path]:
    """Records `prompts` (one run each) with the lookup tool returning `returned`; gives the file."""

    def record_all(path: Path, prompts: list[str], returned: str) -> None:
        agent = _agent(returned)
        with cassette(path, record_mode="all"):
            for prompt in prompts:
                agent.run_sync(prompt)

    def make(name: str, prompts: list[str], returned: str = "fine") -> Path:
        path = tmp_path / f"{name}.yaml"
        # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(record_all, path, prompts, returned).result()
        return path

    return make
