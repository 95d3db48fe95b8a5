"""The peer route for replay: pydantic-ai's OpenAI chat model, replayed by vcrpy from an HTTP cassette.

Run by `bench/replay.py --peer PYTHON` with an interpreter that has `pydantic-ai-slim[openai]` and
`vcrpy`; prints one JSON line. The agent mirrors the replay benchmark's: two async tools, one
model turn calling both, then a text answer. The HTTP cassette is written here, in vcrpy's
format, with chat-completions bodies of the documented wire shape (nothing is recorded live).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import vcr
import yaml
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

BATCH = 100
ROUNDS = 7
URL = "http://127.0.0.1:9/v1/chat/completions"  # never contacted: vcrpy answers


def completion(message: dict[str, Any], finish_reason: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1735689600,
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 60, "completion_tokens": 12, "total_tokens": 72},
        }
    )


def interaction(turn: str, body: str) -> dict[str, Any]:
    return {
        "request": {"method": "POST", "uri": URL, "body": turn, "headers": {}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": body},
        },
    }


def write_cassette(path: Path) -> None:
    tool_calls = [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"a"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "local_time", "arguments": '{"utc_offset":0}'}},
    ]
    answer = {"role": "assistant", "content": '{"get_weather":"sunny in a","local_time":"12:00"}'}
    interactions = [
        interaction(
            "first", completion({"role": "assistant", "content": None, "tool_calls": tool_calls}, "tool_calls")
        ),
        interaction("after-tools", completion(answer, "stop")),
    ]
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))


def same_turn(live: Any, recorded: Any) -> None:
    """vcrpy matcher: the first request has no tool results; the second one does."""
    body = live.body.decode() if isinstance(live.body, bytes) else str(live.body or "")
    turn = "after-tools" if '"role":"tool"' in body.replace(" ", "") else "first"
    recorded_turn = recorded.body.decode() if isinstance(recorded.body, bytes) else recorded.body
    assert turn == recorded_turn, f"{turn} != {recorded_turn}"


def two_tool_agent() -> Agent[str, str]:
    model = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(base_url=URL.rsplit("/chat", 1)[0], api_key="sk-bench"))
    agent: Agent[str, str] = Agent(model, deps_type=str, name="bench")

    @agent.tool
    async def get_weather(ctx: RunContext[str], city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    @agent.tool_plain
    async def local_time(utc_offset: int = 0) -> str:
        """Local time."""
        return f"{12 + utc_offset}:00"

    return agent


async def main() -> dict[str, object]:
    agent = two_tool_agent()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "peer.yaml"
        write_cassette(path)
        recorder = vcr.VCR(record_mode="none", match_on=["method", "uri", "turn"])
        recorder.register_matcher("turn", same_turn)
        rounds = []
        with recorder.use_cassette(str(path), allow_playback_repeats=True):  # loaded once, as ours is
            for _ in range(ROUNDS + 1):
                start = time.perf_counter()
                for _ in range(BATCH):
                    result = await agent.run("What should I wear?", deps="x")
                rounds.append((time.perf_counter() - start) * 1000 / BATCH)
        assert "sunny" in result.output
    return {
        "peer": f"pydantic-ai-slim {version('pydantic-ai-slim')} + vcrpy {version('vcrpy')}",
        "peer_replay_ms_per_run": round(statistics.median(rounds[1:]), 4),
    }


if __name__ == "__main__":
    print(json.dumps(anyio.run(main)))
