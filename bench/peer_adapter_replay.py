"""Replay of one pydantic-ai run two ways, side by side: agentkit's pydantic-ai cassette vs vcrpy at the HTTP level.

Used by `bench/replay.py --pydantic-ai`. The agent is the peer route's (bench/peer_replay.py):
pydantic-ai's OpenAI chat model, two tools, one turn calling both, then a text answer. vcrpy
serves that run from an HTTP cassette of chat-completions bodies; agentkit's cassette is recorded
from the same vcrpy-served run, then replayed with vcrpy off (nothing listens at the model's URL).
Both routes run in this process, in interleaved rounds; each figure is the median ms per run.

A third figure is the floor both routes stand on: the same agent answered by pydantic-ai's own
`FunctionModel` with the same responses (no cassette, no HTTP), i.e. what pydantic-ai's run
itself costs. `*_above_floor_ms` is each route's own cost; `speedup_above_floor` compares those.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path

import vcr
from peer_replay import same_turn, two_tool_agent, write_cassette  # bench/ is on sys.path
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agentkit_testing import Cassette
from agentkit_testing.pydantic_ai import cassette

BATCH = 100
ROUNDS = 7
PROMPT = "What should I wear?"


async def timed(batch: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await batch()
    return (time.perf_counter() - start) * 1000 / BATCH


def same_answers(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The HTTP cassette's two responses, from pydantic-ai's FunctionModel: the run without any replay."""
    if len(messages) == 1:
        return ModelResponse(
            parts=[
                ToolCallPart("get_weather", '{"city":"a"}', "call_1"),
                ToolCallPart("local_time", '{"utc_offset":0}', "call_2"),
            ]
        )
    return ModelResponse(parts=[TextPart('{"get_weather":"sunny in a","local_time":"12:00"}')])


async def side_by_side(directory: Path) -> dict[str, object]:
    http_path, agent_path = directory / "http.yaml", directory / "agent.yaml"
    write_cassette(http_path)
    http = vcr.VCR(record_mode="none", match_on=["method", "uri", "turn"])
    http.register_matcher("turn", same_turn)
    agent = two_tool_agent()
    with http.use_cassette(str(http_path)), cassette(agent_path, agents=[agent], record_mode="rewrite"):
        recorded = (await agent.run(PROMPT, deps="x")).output
    loaded = Cassette.load(agent_path)  # loaded once, as vcrpy's cassette is

    async def ours() -> None:
        with cassette(loaded, agents=[agent], allow_playback_repeats=True, save=False):
            for _ in range(BATCH):
                assert (await agent.run(PROMPT, deps="x")).output == recorded

    async def theirs() -> None:
        with http.use_cassette(str(http_path), allow_playback_repeats=True):
            for _ in range(BATCH):
                assert (await agent.run(PROMPT, deps="x")).output == recorded

    async def floor() -> None:
        with agent.override(model=FunctionModel(same_answers)):
            for _ in range(BATCH):
                assert (await agent.run(PROMPT, deps="x")).output == recorded

    routes = {"agentkit": ours, "vcrpy": theirs, "floor": floor}
    for route in routes.values():  # warm-up
        await route()
    rounds: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(ROUNDS):
        for name, route in routes.items():
            rounds[name].append(await timed(route))
    agentkit_ms, vcrpy_ms, floor_ms = (statistics.median(rounds[name]) for name in ("agentkit", "vcrpy", "floor"))
    return {
        "pydantic_ai": version("pydantic-ai-slim"),
        "vcrpy": version("vcrpy"),
        "agentkit_cassette_ms_per_run": round(agentkit_ms, 4),
        "vcrpy_http_ms_per_run": round(vcrpy_ms, 4),
        "speedup": round(vcrpy_ms / agentkit_ms, 2),
        "pydantic_ai_run_floor_ms": round(floor_ms, 4),
        "agentkit_above_floor_ms": round(agentkit_ms - floor_ms, 4),
        "vcrpy_above_floor_ms": round(vcrpy_ms - floor_ms, 4),
        "speedup_above_floor": round((vcrpy_ms - floor_ms) / max(agentkit_ms - floor_ms, 1e-6), 2),
        "batch": BATCH,
        "rounds": ROUNDS,
    }
