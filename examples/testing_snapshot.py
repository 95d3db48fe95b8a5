"""Snapshotting an agent run with syrupy: one readable block per node, ids and timestamps normalized.

Run it:   python examples/testing_snapshot.py
In tests (syrupy's `snapshot` fixture), store the run once, then compare on every run:

    from agentkit_testing import AgentRunSnapshotExtension

    @pytest.fixture
    def snapshot(snapshot):
        return snapshot.use_extension(AgentRunSnapshotExtension)

    def test_weather(snapshot):
        result = agent.run_sync("Weather in Paris?", model=FunctionModel(weather_model))
        assert result == snapshot          # create or refresh with: pytest --snapshot-update

`snapshot(extension_class=AgentRunSnapshotExtension)` works too; with `use_extension` a failure
also starts with the line `first difference at node [N] ...`. Each line inside a node carries the
node's index, so the diff always says where the run changed. This script prints the text of a
run, then the diff a test would show after a tool's return changed.
"""

from __future__ import annotations

import difflib

from agentkit import Agent, ModelMessage, ModelResponse, TextPart, ToolCallPart
from agentkit.models import AgentInfo, FunctionModel
from agentkit_testing import serialize_run

SKY = {"Paris": "sunny"}

agent = Agent(system_prompt="Answer in one sentence.")


@agent.tool_plain
def get_sky(city: str) -> str:
    """The sky over a city today."""
    return SKY[city]


def weather_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A scripted model: ask for the sky, then answer with what the tool said."""
    if len(messages) == 1:
        return ModelResponse([ToolCallPart("get_sky", {"city": "Paris"})])
    sky = messages[-1].parts[0].content  # type: ignore[union-attr]
    return ModelResponse([TextPart(f"It is {sky} in Paris.")])


def run_text() -> str:
    return serialize_run(agent.run_sync("Weather in Paris?", model=FunctionModel(weather_model)))


def main() -> None:
    before = run_text()
    print(before)
    SKY["Paris"] = "rainy"
    after = run_text()
    print("After get_sky changed, the snapshot diff reads:")
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), "snapshot", "this run", n=1, lineterm="")
    print("\n".join(diff))


if __name__ == "__main__":
    main()
