"""The demo run by `python -m agentkit` and `agentkit demo`: two tools on TestModel, node by node."""

from __future__ import annotations

import anyio

from agentkit._context import RunContext
from agentkit._graph._nodes import End
from agentkit._sources import FixedClock, SequentialIds, override_sources
from agentkit.agent import Agent
from agentkit.models.test import TestModel

__all__ = ("build_demo_agent", "main")


def build_demo_agent() -> Agent[str, str]:
    """A small travel agent with two tools, on the embedded TestModel (no network, no key)."""
    agent: Agent[str, str] = Agent(
        TestModel(),
        system_prompt="You help travellers plan their day.",
        deps_type=str,
        name="travel_agent",
    )

    @agent.tool
    async def get_weather(ctx: RunContext[str], city: str) -> str:
        """The weather forecast for a city.

        Args:
            city: the city to look up
        """
        return f"sunny in {city} for {ctx.deps}"

    @agent.tool_plain
    def local_time(utc_offset: int = 0) -> str:
        """The local time.

        Args:
            utc_offset: hours from UTC
        """
        return f"{(12 + utc_offset) % 24:02d}:00"

    return agent


async def _run_demo() -> None:
    agent = build_demo_agent()
    with override_sources(clock=FixedClock(), ids=SequentialIds()):
        async with agent.iter("What should I wear in Paris today?", deps="Alice") as agent_run:
            index = 0
            async for node in agent_run:
                print(f"[{index}] {node!r}\n")
                index += 1
    assert isinstance(agent_run.next_node, End)
    result = agent_run.result
    assert result is not None
    print(f"result: {result.data}")
    print(f"usage:  {result.usage()}")


def main() -> None:
    """Run the demo and print its node sequence."""
    anyio.run(_run_demo)


if __name__ == "__main__":
    main()
