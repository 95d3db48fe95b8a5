"""Regenerate the committed example cassettes: `python cassettes/generate.py [OUTPUT_DIR]`.

None of these cassettes is a live recording. Each run is recorded through the real recorder,
but against a `FunctionModel` that reports itself as `openai:gpt-4o`, so the examples' agents
(`Agent('openai:gpt-4o')`) replay them with no API key and no network. The clock and the id
source are pinned, so regenerating gives byte-identical files (a test checks this).
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from agentkit import (
    FixedClock,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SequentialIds,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    override_sources,
)
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing._cassette._context import cassette  # noqa: TID251 - a harness script, not the core

ROOT = Path(__file__).resolve().parent.parent
HONEST = (
    "Produced by cassettes/generate.py, not by a live OpenAI request: the responses come from a\n"
    "FunctionModel that reports itself as openai/gpt-4o, so the example's Agent('openai:gpt-4o')\n"
    "replays this file with no API key and no network. Clock and ids were pinned for a\n"
    "reproducible file. Format: docs/cassette-format.md."
)


class PretendGPT4o(FunctionModel):
    """A FunctionModel that calls itself `openai:gpt-4o`, to record cassettes for OpenAI agents offline."""

    def __init__(self, function: Any = None, *, stream_function: Any = None) -> None:
        super().__init__(function, stream_function=stream_function, model_name="gpt-4o")

    @property
    def system(self) -> str:
        return "openai"


def load_example(name: str) -> ModuleType:
    """Import `examples/<name>.py` (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned_sources() -> Any:
    # One instant for every timestamp: tools may run in worker threads, so a clock that moves on
    # each read would hand out its readings in whatever order the threads get there.
    return override_sources(clock=FixedClock(datetime(2025, 3, 15, 12, 0, tzinfo=UTC)), ids=SequentialIds())


def answer_paris(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart("Paris")], model_name="gpt-4o")


def play_dice(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    returns = {
        part.tool_name: part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }
    if not returns:
        return ModelResponse(parts=[ToolCallPart("roll_die", "{}"), ToolCallPart("get_player_name", "{}")])
    roll, name = returns["roll_die"], returns["get_player_name"]
    verdict = "Your guess was right: you're a winner!" if roll == "4" else "Not this time."
    return ModelResponse(parts=[TextPart(f"You rolled a {roll}, {name}. {verdict}")])


async def stream_haiku(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    for chunk in ("Cassette", " spins again:\n", "the same", " answers,", " node by node,\n", "no network", " needed."):
        yield chunk


async def record_seed(directory: Path) -> None:
    seed = load_example("seed_replay")
    with (
        pinned_sources(),
        seed.agent.override(model=PretendGPT4o(answer_paris)),
        cassette(directory / "seed_iter.yaml", "rewrite") as session,
    ):
        session.cassette.comment = (
            "The seed example (examples/seed_replay.py): 'What is the capital of France?'\n" + HONEST
        )
        await seed.main()


async def record_dice_game(directory: Path) -> None:
    dice = load_example("cassette_dice_game")
    # A seed whose first roll is 4: the recording shows a winning guess.
    random.seed(next(seed for seed in range(100) if random.Random(seed).randint(1, 6) == 4))
    with (
        pinned_sources(),
        dice.agent.override(model=PretendGPT4o(play_dice)),
        cassette(directory / "dice_game.yaml", "rewrite", external_tools=["roll_die"]) as session,
    ):
        session.cassette.comment = "The dice game (examples/cassette_dice_game.py); roll_die is external.\n" + HONEST
        await dice.agent.run("My guess is 4", deps="Anne")


async def record_streamed_haiku(directory: Path) -> None:
    streaming = load_example("cassette_streaming")
    with (
        pinned_sources(),
        streaming.agent.override(model=PretendGPT4o(stream_function=stream_haiku)),
        cassette(directory / "streamed_haiku.yaml", "rewrite") as session,
    ):
        session.cassette.comment = "A streamed answer (examples/cassette_streaming.py).\n" + HONEST
        await streaming.main()


GENERATORS: dict[str, Callable[[Path], Any]] = {
    "seed_iter.yaml": record_seed,
    "dice_game.yaml": record_dice_game,
    "streamed_haiku.yaml": record_streamed_haiku,
}


async def generate(directory: Path) -> None:
    for generator in GENERATORS.values():
        await generator(directory)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    asyncio.run(generate(target))
    for name in GENERATORS:
        print(target / name)
