"""A streamed answer replayed from `cassettes/streamed_haiku.yaml`, chunk by recorded chunk.

Run from the repository root: `python examples/cassette_streaming.py`.
"""

from __future__ import annotations

import asyncio

import agentkit_testing
from agentkit import Agent

agent = Agent("openai:gpt-4o", system_prompt="Answer with a haiku.", name="poet")


async def main() -> list[str]:
    chunks = []
    async with agent.run_stream("Write a haiku about replaying tests.") as result:
        async for chunk in result.stream_text(delta=True, debounce_by=None):
            chunks.append(chunk)
            print(repr(chunk))
    return chunks


if __name__ == "__main__":
    with agentkit_testing.cassette("cassettes/streamed_haiku.yaml"):
        asyncio.run(main())
